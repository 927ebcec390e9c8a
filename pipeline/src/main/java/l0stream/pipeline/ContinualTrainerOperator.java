package l0stream.pipeline;

import l0stream.connectors.image.DecodedRecord;
import l0stream.connectors.image.LabeledImage;
import l0stream.model.continual.ContinualLearner;
import l0stream.model.train.Batch;
import l0stream.model.train.L0Trainer;
import l0stream.model.train.ModelParameters;
import l0stream.pipeline.averaging.AveragingEvent;
import l0stream.pipeline.averaging.AveragingMessage;
import l0stream.pipeline.averaging.AveragingMessage.Merged;
import l0stream.pipeline.averaging.AveragingMessage.Tally;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;
import org.apache.flink.runtime.operators.coordination.OperatorEventGateway;
import org.apache.flink.runtime.operators.coordination.OperatorEventHandler;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

import java.util.Iterator;
import java.util.List;

/**
 * The continual Dep-L0 trainer. Groups decoded images into micro-batches and hands each to the
 * {@link ContinualLearner} — the same loop the experiments drive — which scores it first
 * (prequential, test-then-train), watches for drift, sets aside its forgetting probe, mixes in
 * replayed past records and trains. Every
 * {@code snapshot-every-steps} steps and/or {@code snapshot-every-seconds} seconds it cuts a
 * snapshot: deterministic gates → compact network → artifact + manifest, emitted downstream with
 * the next version number. At the end of a bounded input it trains on the partial batch and cuts
 * a final snapshot.
 *
 * <p>State: everything in {@link TrainerState} is operator state, written at every checkpoint and
 * restored on recovery. Snapshot versions are a counter in that state, so after a failure the
 * versions cut since the last checkpoint (whose records sat in an aborted Kafka transaction) are
 * cut again with the same numbers: read_committed readers see every version once, in order.
 *
 * <p><b>Data-parallel</b> ({@code parallelism} p &gt; 1, made by {@link ContinualTrainerOperatorFactory}):
 * each subtask trains on its own input partitions and, every {@code merge-every-steps} local steps,
 * sends its parameters (a shard) to the {@link l0stream.pipeline.averaging.ModelAveragingCoordinator}
 * and keeps training. It must not wait: Flink holds a coordinator event sent after the coordinator's
 * part of a checkpoint until the subtask has taken that checkpoint, which a waiting subtask never
 * would. When the weighted mean of the round's shards arrives, the trainer adopts it and keeps what it
 * learnt since it sent its shard: {@code θ ← θ_merged + (θ_now − θ_sent)} (asynchronous local SGD).
 * A trainer has at most one shard outstanding; a round boundary reached meanwhile is passed over.
 * Only merged models are snapshotted: subtask 0 cuts one from exactly {@code θ_merged} when a merge
 * arrives and a snapshot is due (steps and records summed over all trainers). At the end of a bounded
 * input each subtask emits its final parameters on {@link #FINAL_SHARDS}, for
 * {@link FinalMergeOperator} to average into the last snapshot.
 *
 * <p>The model is {@code transient}, made in {@link #initializeState}.
 */
public final class ContinualTrainerOperator extends AbstractStreamOperator<ModelSnapshot>
        implements OneInputStreamOperator<DecodedRecord, ModelSnapshot>, BoundedOneInput, OperatorEventHandler {
    private static final long serialVersionUID = 1L;

    /** Data-parallel: each subtask's final parameters ({@link AveragingMessage.Shard} bytes) at end of input. */
    public static final OutputTag<byte[]> FINAL_SHARDS = new OutputTag<>("final-shards",
            PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);

    private final PipelineConfig config;
    /** Data-parallel only: the channel to the averaging coordinator; null for a single trainer. */
    private final transient OperatorEventGateway coordinator;
    private transient int subtask;
    private transient boolean ended;
    private transient boolean snapshotDueByTime;
    private transient String jobId;

    private transient ListState<byte[]> checkpointed;
    private transient L0Trainer trainer;
    private transient ContinualLearner learner;
    private transient TrainerState state;
    private transient double lastLoss;
    private transient double lastPenalty;
    private transient double imagesPerSecond;
    private transient long windowStart;
    private transient long windowImages;
    private transient int[] openChannels;
    private transient long firstRecordNanos;
    private transient long lastStepNanos;
    /** Checkpoint id → when its barrier reached the trainer, for the duration metric. */
    private transient java.util.TreeMap<Long, Long> checkpointStarts;
    private transient volatile double lastCheckpointMs;

    /** A single trainer (parallelism 1). */
    public ContinualTrainerOperator(PipelineConfig config) {
        this.config = config;
        this.coordinator = null;
    }

    /** One of several data-parallel trainers, made on the task manager by its factory. */
    ContinualTrainerOperator(PipelineConfig config, StreamOperatorParameters<ModelSnapshot> parameters,
                             OperatorEventGateway coordinator) {
        super(parameters);
        this.config = config;
        this.coordinator = coordinator;
    }

    private boolean averaging() {
        return coordinator != null;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        jobId = getRuntimeContext().getJobInfo().getJobId().toString();
        checkpointed = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("trainer-state", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        Iterator<byte[]> it = checkpointed.get().iterator();
        // On a GPU TaskManager, the GPU Flink assigned to it (external-resources: gpu), not just the first one.
        l0stream.model.ModelConfig model = config.modelConfig().toBuilder().optGpuIndex(TaskGpu.index(getRuntimeContext())).build();
        if (context.isRestored() && it.hasNext()) {
            state = TrainerState.decode(it.next());
            trainer = L0Trainer.restore(model, state.model);
            state.model = null;
            learner = new ContinualLearner(trainer, config.continual());
            if (state.learner != null) {
                learner.restoreState(state.learner);
                state.learner = null;
            } else {
                learner.useRandomStream(subtask); // a state written before the learner existed
            }
            LOG.info("Trainer restored at step {} (snapshot version {}, {} records trained, {} pending)",
                    trainer.step(), state.snapshotVersion, state.trainedRecords, state.pending.size());
        } else {
            state = new TrainerState();
            trainer = L0Trainer.create(model);
            trainer.useNoiseStream(subtask);
            learner = new ContinualLearner(trainer, config.continual());
            learner.useRandomStream(subtask);
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        openChannels = trainer.network().openChannels();
        windowStart = System.nanoTime();
        checkpointStarts = new java.util.TreeMap<>();
        MeterRegistry m = FlinkMeterBridge.registry(getMetricGroup());
        Gauge.builder("checkpoint_barrier_to_complete_ms", () -> lastCheckpointMs).register(m);
        Gauge.builder("training_step", () -> trainer.step()).register(m);
        Gauge.builder("trained_records", () -> state.trainedRecords).register(m);
        Gauge.builder("loss", () -> lastLoss).register(m);
        Gauge.builder("l0_penalty", () -> lastPenalty).register(m);
        Gauge.builder("prequential_accuracy", this::prequentialAccuracy).register(m);
        Gauge.builder("images_per_second", () -> imagesPerSecond).register(m);
        Gauge.builder("expected_flops", () -> trainer.network().expectedCost().flops()).register(m);
        Gauge.builder("expected_params", () -> trainer.network().expectedCost().params()).register(m);
        Gauge.builder("snapshot_version", () -> state.snapshotVersion).register(m);
        // continual learning: what the learner sees, not a running mean that hides a drift
        Gauge.builder("windowed_accuracy", () -> learner.metrics().windowed()).register(m);
        Gauge.builder("fading_accuracy", () -> learner.metrics().fading()).register(m);
        Gauge.builder("retention_accuracy", () -> learner.retentionAccuracy()).register(m);
        Gauge.builder("drift_detections", () -> learner.driftCount()).register(m);
        Gauge.builder("records_since_drift", () -> learner.recordsSinceDrift()).register(m);
        Gauge.builder("lambda_relaxed", () -> learner.relaxed() ? 1 : 0).register(m);
        Gauge.builder("replay_size", () -> learner.replay().size()).register(m);
        Gauge.builder("probe_held_out", () -> learner.heldOut()).register(m);
        for (int c = 0; c < learner.metrics().numClasses(); c++) {
            final int cls = c;
            String label = Integer.toString(c);
            Gauge.builder("class_accuracy", () -> learner.metrics().classWindowed(cls)).tag("class", label).register(m);
            Gauge.builder("replay_images", () -> learner.replay().count(cls)).tag("class", label).register(m);
        }
        int[] widths = trainer.network().architecture().gatedWidths();
        int[] gated = trainer.network().architecture().gatedLayers();
        for (int i = 0; i < widths.length; i++) {
            final int gi = i;
            Gauge.builder("gate_open_ratio", () -> openChannels[gi] / (double) widths[gi])
                    .tag("layer", "layer" + gated[i]).register(m);
        }
        if (config.snapshotEverySeconds() > 0 && subtask == 0) {
            scheduleTimeTrigger();
        }
        if (averaging() && state.outstandingShard != null) {
            // Restored with a shard outstanding: the coordinator may have rolled back past it, so send it again
            // (same round, same bytes). Deferred to the mailbox, which runs once the task is RUNNING.
            byte[] shard = state.outstandingShard;
            getProcessingTimeService().registerTimer(getProcessingTimeService().getCurrentProcessingTime(),
                    t -> coordinator.sendEventToCoordinator(AveragingEvent.of(shard)));
        }
    }

    private void scheduleTimeTrigger() {
        long at = getProcessingTimeService().getCurrentProcessingTime() + config.snapshotEverySeconds() * 1000;
        getProcessingTimeService().registerTimer(at, t -> {
            if (averaging()) {
                snapshotDueByTime = true; // honoured at the next merge: only merged models are snapshotted
            } else if (trainer.step() > state.lastSnapshotStep) {
                cutSnapshot();
            }
            scheduleTimeTrigger();
        });
    }

    @Override
    public void processElement(StreamRecord<DecodedRecord> element) throws Exception {
        DecodedRecord r = element.getValue();
        if (firstRecordNanos == 0) {
            firstRecordNanos = System.nanoTime();
        }
        state.pending.add(r.image());
        state.nextOffsets.put(r.topic() + "-" + r.partition(), r.offset() + 1);
        if (state.pending.size() >= config.batchSize()) {
            trainPending();
        } else {
            publishProgress();
        }
    }

    /** A single trainer: trains the micro-batch (full, or the partial one at end of input). */
    private void trainPending() {
        trainBatch(state.pending);
        state.pending.clear();
    }

    private void trainBatch(List<LabeledImage> images) {
        if (images.isEmpty()) {
            return;
        }
        LabeledImage first = images.get(0);
        int per = first.channels() * first.height() * first.width();
        float[] x = new float[images.size() * per];
        int[] y = new int[images.size()];
        for (int i = 0; i < images.size(); i++) {
            images.get(i).copyPixelsTo(x, i * per);
            y[i] = images.get(i).label();
        }
        long t0 = System.nanoTime();
        ContinualLearner.Outcome res = learner.learn(new Batch(x, y)); // test, then train
        int correct = res.correct();
        state.correct += correct;
        state.scored += y.length;
        state.intervalCorrect += correct;
        state.intervalScored += y.length;
        state.trainedRecords += y.length;
        state.roundRecords += y.length;
        lastLoss = res.step().loss();
        lastPenalty = res.step().penalty();
        lastStepNanos = System.nanoTime();
        TrainerPhases.record(TrainerPhases.Phase.LEARN, t0, state.trainedRecords);
        windowImages += y.length;
        long now = System.nanoTime();
        if (now - windowStart > 2_000_000_000L) {
            imagesPerSecond = windowImages / ((now - windowStart) / 1e9);
            windowStart = now;
            windowImages = 0;
            openChannels = trainer.network().openChannels();
        }
        publishProgress();
        if (averaging()) {
            if (state.outstandingShard == null && trainer.step() - state.stepAtLastShard >= config.mergeEverySteps()) {
                sendShard();
            }
        } else if (config.snapshotEverySteps() > 0 && trainer.step() % config.snapshotEverySteps() == 0) {
            cutSnapshot();
        }
    }

    /** A single trainer: snapshots its own model. */
    private void cutSnapshot() {
        double accuracy = state.intervalScored == 0 ? prequentialAccuracy() : state.intervalCorrect / (double) state.intervalScored;
        long t0 = System.nanoTime();
        learner.refreshRetention(); // the snapshot's own retention figure
        emit(SnapshotCutter.cut(config, trainer, state.snapshotVersion + 1, trainer.step(), state.trainedRecords,
                state.nextOffsets, accuracy, SnapshotCutter.continual(learner)));
        TrainerPhases.record(TrainerPhases.Phase.CUT, t0, state.trainedRecords);
        state.intervalCorrect = 0;
        state.intervalScored = 0;
    }

    private void emit(SnapshotCutter.Cut cut) {
        openChannels = cut.openChannels();
        state.snapshotVersion = cut.manifest().version();
        state.lastSnapshotStep = cut.manifest().step();
        output.collect(new StreamRecord<>(cut.snapshot()));
        LOG.info("Snapshot v{} at step {}: open channels {}, FLOPs reduction {}, accuracy {}, retention {}, drifts {}, {} bytes",
                cut.manifest().version(), cut.manifest().step(), cut.open(), String.format("%.3f", cut.manifest().flopsReduction()),
                String.format("%.4f", cut.manifest().prequentialAccuracy()), String.format("%.3f", learner.retentionAccuracy()),
                learner.driftCount(), cut.snapshot().artifact().length);
        publishProgress();
    }

    // ---- data-parallel rounds ----

    private Tally tally() {
        return new Tally(trainer.step(), state.trainedRecords, state.correct, state.scored, state.nextOffsets);
    }

    private AveragingMessage.Shard shard() {
        long[] t = state.snapshotTally;
        return new AveragingMessage.Shard(subtask, state.round + 1, state.roundRecords, tally(),
                new Tally(t[0], t[1], t[2], t[3], java.util.Map.of()), trainer.parameters());
    }

    private void sendShard() {
        state.outstandingShard = AveragingMessage.encode(shard());
        state.stepAtLastShard = trainer.step();
        state.roundRecords = 0;
        coordinator.sendEventToCoordinator(AveragingEvent.of(state.outstandingShard));
    }

    @Override
    public void handleOperatorEvent(OperatorEvent event) {
        AveragingMessage m = ((AveragingEvent) event).message();
        if (!(m instanceof Merged merged) || ended || state.outstandingShard == null || merged.round() != state.round + 1) {
            LOG.debug("Trainer {} ignores {} (round {}, outstanding {}, ended {})", subtask, m.getClass().getSimpleName(),
                    state.round, state.outstandingShard != null, ended);
            return;
        }
        try {
            byte[] sent = ((AveragingMessage.Shard) AveragingMessage.decode(state.outstandingShard)).parameters();
            byte[] now = trainer.parameters();
            if (subtask == 0 && snapshotDue(merged.tally())) {
                trainer.loadParameters(merged.parameters());
                cutMergedSnapshot(merged.tally());
            }
            trainer.loadParameters(ModelParameters.linearCombination(List.of(merged.parameters(), now, sent),
                    new double[] {1, 1, -1}));
        } catch (l0stream.model.artifact.ArtifactFormatException e) {
            throw new IllegalStateException("Trainer " + subtask + " cannot apply merge " + merged.round(), e);
        }
        state.round = merged.round();
        state.outstandingShard = null;
    }

    private boolean snapshotDue(Tally t) {
        return t.steps() > state.lastSnapshotStep && (snapshotDueByTime
                || (config.snapshotEverySteps() > 0 && t.steps() - state.lastSnapshotStep >= config.snapshotEverySteps()));
    }

    /** Subtask 0, right after applying a merge: its model is exactly the merged one. */
    private void cutMergedSnapshot(Tally t) {
        long[] at = state.snapshotTally;
        long scored = t.scored() - at[3];
        double accuracy = scored == 0 ? 0 : (t.correct() - at[2]) / (double) scored;
        learner.refreshRetention(); // scored on exactly the merged model
        emit(SnapshotCutter.cut(config, trainer, state.snapshotVersion + 1, t.steps(), t.records(), t.offsets(), accuracy,
                SnapshotCutter.continual(learner)));
        state.snapshotTally[0] = t.steps();
        state.snapshotTally[1] = t.records();
        state.snapshotTally[2] = t.correct();
        state.snapshotTally[3] = t.scored();
        snapshotDueByTime = false;
    }

    private double prequentialAccuracy() {
        return state.scored == 0 ? 0 : state.correct / (double) state.scored;
    }

    /** Per record: cheap (openChannels is replaced, never mutated, so it is shared, not copied). */
    private void publishProgress() {
        TrainingProgress.publish(jobId, subtask, new TrainingProgress(trainer.step(), state.trainedRecords,
                state.pending.size(), imagesPerSecond, prequentialAccuracy(), openChannels, state.snapshotVersion, lastLoss, firstRecordNanos,
                lastStepNanos, learner.metrics().windowed(), learner.retentionAccuracy(), learner.driftCount()));
    }

    @Override
    public void endInput() {
        if (!averaging()) {
            trainPending();
            if (trainer.step() > state.lastSnapshotStep) {
                cutSnapshot();
            }
            return;
        }
        // Data-parallel: no waiting here either (barriers still follow end of data). Leave the rounds, train the
        // partial batch, and hand the final parameters to the end-of-input merge.
        ended = true;
        coordinator.sendEventToCoordinator(AveragingEvent.of(AveragingMessage.encode(new AveragingMessage.Leave(subtask))));
        trainPending();
        output.collect(FINAL_SHARDS, new StreamRecord<>(AveragingMessage.encode(shard())));
        publishProgress();
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        Long started = checkpointStarts.remove(checkpointId);
        if (started != null) {
            lastCheckpointMs = (System.nanoTime() - started) / 1e6;
            CheckpointStats.record(lastCheckpointMs);
        }
        checkpointStarts.headMap(checkpointId).clear();
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        long t0 = System.nanoTime();
        checkpointStarts.put(context.getCheckpointId(), t0);
        super.snapshotState(context);
        state.model = trainer.checkpoint();
        state.learner = learner.writeState();
        checkpointed.update(List.of(state.encode()));
        state.model = null;
        state.learner = null;
        TrainerPhases.record(TrainerPhases.Phase.CHECKPOINT, t0, state.trainedRecords);
    }

    @Override
    public void close() throws Exception {
        try {
            super.close();
        } finally {
            if (trainer != null) {
                trainer.close();
                trainer = null;
            }
        }
    }
}
