package l0stream.pipeline;

import com.fasterxml.jackson.databind.node.ObjectNode;

import l0stream.connectors.image.DecodedRecord;
import l0stream.connectors.image.LabeledImage;
import l0stream.connectors.snapshot.SnapshotManifest;
import l0stream.connectors.snapshot.SnapshotRecord;
import l0stream.model.artifact.SnapshotArtifact;
import l0stream.model.artifact.TensorArchive;
import l0stream.model.nn.CompactNetwork;
import l0stream.model.nn.NetworkCost;
import l0stream.model.train.Batch;
import l0stream.model.train.L0Trainer;
import l0stream.model.train.StepResult;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The continual Dep-L0 trainer. Groups decoded images into micro-batches; each batch is first
 * scored by the current model (prequential, test-then-train) and then trained on. Every
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
 * <p>Runs at parallelism 1. The model is {@code transient}, made in {@link #initializeState}.
 */
public final class ContinualTrainerOperator extends AbstractStreamOperator<ModelSnapshot>
        implements OneInputStreamOperator<DecodedRecord, ModelSnapshot>, BoundedOneInput {
    private static final long serialVersionUID = 1L;

    private final PipelineConfig config;

    private transient ListState<byte[]> checkpointed;
    private transient L0Trainer trainer;
    private transient TrainerState state;
    private transient double denseFlops;
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

    public ContinualTrainerOperator(PipelineConfig config) {
        this.config = config;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        checkpointed = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("trainer-state", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        Iterator<byte[]> it = checkpointed.get().iterator();
        if (context.isRestored() && it.hasNext()) {
            state = TrainerState.decode(it.next());
            trainer = L0Trainer.restore(config.modelConfig(), state.model);
            state.model = null;
            LOG.info("Trainer restored at step {} (snapshot version {}, {} records trained, {} pending)",
                    trainer.step(), state.snapshotVersion, state.trainedRecords, state.pending.size());
        } else {
            state = new TrainerState();
            trainer = L0Trainer.create(config.modelConfig());
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        denseFlops = NetworkCost.of(trainer.network().architecture()).flops();
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
        int[] widths = trainer.network().architecture().gatedWidths();
        int[] gated = trainer.network().architecture().gatedLayers();
        for (int i = 0; i < widths.length; i++) {
            final int gi = i;
            Gauge.builder("gate_open_ratio", () -> openChannels[gi] / (double) widths[gi])
                    .tag("layer", "layer" + gated[i]).register(m);
        }
        if (config.snapshotEverySeconds() > 0) {
            scheduleTimeTrigger();
        }
    }

    private void scheduleTimeTrigger() {
        long at = getProcessingTimeService().getCurrentProcessingTime() + config.snapshotEverySeconds() * 1000;
        getProcessingTimeService().registerTimer(at, t -> {
            if (trainer.step() > state.lastSnapshotStep) {
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

    private void trainPending() {
        List<LabeledImage> images = state.pending;
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
        Batch batch = new Batch(x, y);
        int[] predicted = trainer.evaluate(batch); // test ...
        int correct = 0;
        for (int i = 0; i < y.length; i++) {
            correct += predicted[i] == y[i] ? 1 : 0;
        }
        StepResult res = trainer.train(batch); // ... then train
        state.correct += correct;
        state.scored += y.length;
        state.intervalCorrect += correct;
        state.intervalScored += y.length;
        state.trainedRecords += y.length;
        lastLoss = res.loss();
        lastStepNanos = System.nanoTime();
        lastPenalty = res.penalty();
        images.clear();
        windowImages += y.length;
        long now = System.nanoTime();
        if (now - windowStart > 2_000_000_000L) {
            imagesPerSecond = windowImages / ((now - windowStart) / 1e9);
            windowStart = now;
            windowImages = 0;
            openChannels = trainer.network().openChannels();
        }
        publishProgress();
        if (config.snapshotEverySteps() > 0 && trainer.step() % config.snapshotEverySteps() == 0) {
            cutSnapshot();
        }
    }

    private void cutSnapshot() {
        long cut = System.nanoTime();
        CompactNetwork compact = trainer.compact();
        openChannels = trainer.network().openChannels();
        NetworkCost expected = trainer.network().expectedCost();
        NetworkCost actual = compact.cost();
        long version = state.snapshotVersion + 1;
        ObjectNode meta = TensorArchive.json().createObjectNode()
                .put("modelId", config.modelId()).put("version", version).put("step", trainer.step())
                .put("network", config.network()).put("gates", config.gates().id());
        byte[] artifact = SnapshotArtifact.write(compact, meta);
        Map<String, Integer> open = new LinkedHashMap<>();
        int[] gated = trainer.network().architecture().gatedLayers();
        for (int i = 0; i < gated.length; i++) {
            open.put("layer" + gated[i], openChannels[i]);
        }
        double accuracy = state.intervalScored == 0 ? prequentialAccuracy() : state.intervalCorrect / (double) state.intervalScored;
        SnapshotManifest manifest = new SnapshotManifest(SnapshotManifest.CURRENT_VERSION, config.modelId(), version,
                version - 1, trainer.step(), state.trainedRecords, System.currentTimeMillis(), state.nextOffsets, open,
                expected.flops(), actual.flops(), expected.params(), actual.params(), denseFlops, accuracy,
                artifact.length, SnapshotRecord.sha256Hex(artifact),
                SnapshotRecord.chunksFor(artifact.length, config.chunkBytes()));
        state.snapshotVersion = version;
        state.lastSnapshotStep = trainer.step();
        state.intervalCorrect = 0;
        state.intervalScored = 0;
        output.collect(new StreamRecord<>(new ModelSnapshot(config.modelId(), version, manifest.toJson(), artifact, cut)));
        LOG.info("Snapshot v{} at step {}: open channels {}, FLOPs reduction {}, accuracy {}, {} bytes", version,
                trainer.step(), open, String.format("%.3f", manifest.flopsReduction()), String.format("%.4f", accuracy),
                artifact.length);
        publishProgress();
    }

    private double prequentialAccuracy() {
        return state.scored == 0 ? 0 : state.correct / (double) state.scored;
    }

    /** Per record: cheap (openChannels is replaced, never mutated, so it is shared, not copied). */
    private void publishProgress() {
        TrainingProgress.publish(new TrainingProgress(trainer.step(), state.trainedRecords, state.pending.size(),
                imagesPerSecond, prequentialAccuracy(), openChannels, state.snapshotVersion, lastLoss, firstRecordNanos, lastStepNanos));
    }

    @Override
    public void endInput() {
        trainPending();
        if (trainer.step() > state.lastSnapshotStep) {
            cutSnapshot();
        }
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
        checkpointStarts.put(context.getCheckpointId(), System.nanoTime());
        super.snapshotState(context);
        state.model = trainer.checkpoint();
        checkpointed.update(List.of(state.encode()));
        state.model = null;
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
