package l0stream.pipeline.rollout;

import l0stream.connectors.rollout.RolloutDecision;

import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;

/**
 * Runs {@link RolloutEvaluator} per model id over Flink keyed state, and checks the time limit
 * once a minute. A model whose state is empty starts from the last decision found on the rollout
 * topic when the job was built (a job started afresh continues the same history, seq included).
 */
final class RolloutEvaluatorFunction extends KeyedProcessFunction<String, EvaluatorInput, RolloutDecision> {

    private static final Logger LOG = LoggerFactory.getLogger(RolloutEvaluatorFunction.class);
    private static final long TICK_MS = 60_000;

    private final RolloutPolicy policy;
    private final Map<String, byte[]> resumeFrom;
    private transient ValueState<EvaluatorState> state;
    private transient Counter decisions;
    /** What the gauges show: the evidence of the model handled last, refreshed at most once a second. */
    private transient volatile RolloutDecision.Evidence shown;
    private transient volatile EvaluatorState shownState;
    private transient long shownAtMs;

    /** @param resumeFrom the last decision per model id on the rollout topic, as its JSON */
    RolloutEvaluatorFunction(RolloutPolicy policy, Map<String, byte[]> resumeFrom) {
        this.policy = policy;
        this.resumeFrom = resumeFrom;
    }

    @Override
    public void open(org.apache.flink.api.common.functions.OpenContext openContext) {
        state = getRuntimeContext().getState(new ValueStateDescriptor<>("rollout", TypeInformation.of(EvaluatorState.class)));
        org.apache.flink.metrics.MetricGroup g = getRuntimeContext().getMetricGroup().addGroup("rollout");
        decisions = g.counter("decisions");
        // the running rollout, for the dashboard: versions, labels, accuracies and posterior of the current candidate
        g.gauge("stableVersion", () -> shownState == null ? 0L : shownState.stable);
        g.gauge("candidateVersion", () -> shownState == null ? 0L : shownState.candidate);
        g.gauge("labelsStable", () -> shown == null ? 0L : shown.labelsStable());
        g.gauge("labelsCandidate", () -> shown == null ? 0L : shown.labelsCandidate());
        g.gauge("pairs", () -> shown == null ? 0L : shown.pairs());
        g.gauge("accuracyStable", () -> shown == null ? Double.NaN : shown.accuracyStable());
        g.gauge("accuracyCandidate", () -> shown == null ? Double.NaN : shown.accuracyCandidate());
        g.gauge("pPromote", () -> shown == null ? Double.NaN : shown.pPromote());
        g.gauge("pRollback", () -> shown == null ? Double.NaN : shown.pRollback());
    }

    private void show(RolloutEvaluator e, EvaluatorState s, long now, boolean force) {
        if (force || now - shownAtMs >= 1000) {
            shownAtMs = now;
            shownState = s;
            shown = s.candidate > 0 ? e.evidence(s) : null;
        }
    }

    @Override
    public void processElement(EvaluatorInput in, Context ctx, Collector<RolloutDecision> out) throws Exception {
        long now = ctx.timerService().currentProcessingTime();
        EvaluatorState s = stateOf(ctx.getCurrentKey(), now);
        RolloutEvaluator e = new RolloutEvaluator(ctx.getCurrentKey(), policy);
        List<RolloutDecision> made;
        if (in.snapshotVersion() > 0) {
            made = e.onSnapshot(s, in.snapshotVersion(), in.snapshotFlops(), now);
        } else if (in.prediction() != null) {
            e.onPrediction(s, in.prediction());
            made = List.of();
        } else if (in.joined() != null) {
            made = e.onJoinedLabel(s, in.joined(), now);
        } else if (in.command() != null) {
            made = e.onCommand(s, in.command(), now);
            if (made.isEmpty()) {
                LOG.warn("rollout command {} ({}) for {} changed nothing (stable v{}, candidate v{}, paused {})",
                        in.command().commandId(), in.command().action().id(), ctx.getCurrentKey(), s.stable, s.candidate, s.paused);
            }
        } else {
            made = List.of();
        }
        emit(made, out);
        state.update(s);
        show(e, s, now, !made.isEmpty());
        ctx.timerService().registerProcessingTimeTimer((now / TICK_MS + 1) * TICK_MS);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<RolloutDecision> out) throws Exception {
        EvaluatorState s = state.value();
        if (s == null) {
            return;
        }
        emit(new RolloutEvaluator(ctx.getCurrentKey(), policy).onTime(s, timestamp), out);
        state.update(s);
        if (s.candidate > 0) {
            ctx.timerService().registerProcessingTimeTimer(timestamp + TICK_MS);
        }
    }

    private EvaluatorState stateOf(String model, long now) throws Exception {
        EvaluatorState s = state.value();
        if (s == null) {
            byte[] last = resumeFrom.get(model);
            s = last != null ? RolloutEvaluator.resumeFrom(RolloutDecision.fromJson(last), now) : new EvaluatorState();
        }
        return s;
    }

    private void emit(List<RolloutDecision> made, Collector<RolloutDecision> out) {
        for (RolloutDecision d : made) {
            LOG.info("rollout {} #{} {}: {}", d.modelId(), d.seq(), d.kind().id(), d.reason());
            decisions.inc();
            out.collect(d);
        }
    }
}
