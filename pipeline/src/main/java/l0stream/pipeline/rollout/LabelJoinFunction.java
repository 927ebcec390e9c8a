package l0stream.pipeline.rollout;

import l0stream.connectors.rollout.LabelEvent;
import l0stream.connectors.rollout.PredictionEvent;

import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Joins labels to the answers of every replica, keyed by request id (see {@link RequestJoin} for
 * the rules). A request's state is dropped twice the label window after it was first seen, and
 * counted as an unknown label if it held a label that never met an answer.
 */
final class LabelJoinFunction extends KeyedCoProcessFunction<String, PredictionEvent, LabelEvent, JoinedLabel> {

    private final long windowMs;
    private transient ValueState<RequestJoin> state;
    private transient Counter joined;
    private transient Counter duplicate;
    private transient Counter expired;
    private transient Counter unknown;

    LabelJoinFunction(long windowMs) {
        this.windowMs = windowMs;
    }

    @Override
    public void open(org.apache.flink.api.common.functions.OpenContext openContext) {
        state = getRuntimeContext().getState(new ValueStateDescriptor<>("request", TypeInformation.of(RequestJoin.class)));
        MetricGroup g = getRuntimeContext().getMetricGroup().addGroup("rollout");
        joined = g.counter("labelsJoined");
        duplicate = g.counter("labelsDuplicate");
        expired = g.counter("labelsExpired");
        unknown = g.counter("labelsUnknown");
    }

    private RequestJoin current(Context ctx) throws Exception {
        RequestJoin j = state.value();
        if (j == null) {
            j = new RequestJoin();
            ctx.timerService().registerProcessingTimeTimer(ctx.timerService().currentProcessingTime() + 2 * windowMs);
        }
        return j;
    }

    @Override
    public void processElement1(PredictionEvent p, Context ctx, Collector<JoinedLabel> out) throws Exception {
        RequestJoin j = current(ctx);
        boolean wasExpired = j.expired;
        JoinedLabel e = j.onPrediction(p, windowMs);
        if (e != null) {
            joined.inc();
            out.collect(e);
        } else if (j.expired && !wasExpired) {
            expired.inc();
        }
        state.update(j);
    }

    @Override
    public void processElement2(LabelEvent l, Context ctx, Collector<JoinedLabel> out) throws Exception {
        RequestJoin j = current(ctx);
        switch (j.onLabel(l, windowMs)) {
            case JOINED -> {
                joined.inc();
                out.collect(j.joinedLabel());
            }
            case DUPLICATE -> duplicate.inc();
            case EXPIRED -> expired.inc();
            case WAITING -> { }
        }
        state.update(j);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<JoinedLabel> out) throws Exception {
        RequestJoin j = state.value();
        if (j != null && j.unknownLabel()) {
            unknown.inc();
        }
        state.clear();
    }
}
