package l0stream.pipeline;

import l0stream.connectors.snapshot.SnapshotManifest;
import l0stream.model.train.L0Trainer;
import l0stream.model.train.ModelParameters;
import l0stream.pipeline.averaging.AveragingMessage;
import l0stream.pipeline.averaging.AveragingMessage.Shard;
import l0stream.pipeline.averaging.AveragingMessage.Tally;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Data-parallel trainers' last step, at parallelism 1 in front of the publisher. Until the end of
 * a bounded input it passes the merged snapshots of trainer subtask 0 through, remembering the last
 * version and step. Trainers cannot wait for a last merge at their end of input (see
 * {@link ContinualTrainerOperator}), so each sends its final parameters here instead
 * ({@link ContinualTrainerOperator#FINAL_SHARDS}); when both inputs have ended this averages them
 * (weighted by the records each trained) and cuts the final snapshot, with
 * steps and records summed over the trainers: its record count is every record trained.
 *
 * <p>State (checkpointed, own format): last version, last step, the final shards received so far.
 */
public final class FinalMergeOperator extends AbstractStreamOperator<ModelSnapshot>
        implements TwoInputStreamOperator<ModelSnapshot, byte[], ModelSnapshot>, BoundedMultiInput {
    private static final long serialVersionUID = 1L;

    private final PipelineConfig config;
    private transient ListState<byte[]> checkpointed;
    private transient long lastVersion;
    private transient long lastStep;
    private transient List<byte[]> finals;
    private transient int endedInputs;

    public FinalMergeOperator(PipelineConfig config) {
        this.config = config;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        checkpointed = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("final-merge", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        finals = new ArrayList<>();
        for (byte[] b : checkpointed.get()) {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
            lastVersion = in.readLong();
            lastStep = in.readLong();
            for (int n = in.readInt(); n > 0; n--) {
                byte[] s = new byte[in.readInt()];
                in.readFully(s);
                finals.add(s);
            }
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeLong(lastVersion);
        out.writeLong(lastStep);
        out.writeInt(finals.size());
        for (byte[] s : finals) {
            out.writeInt(s.length);
            out.write(s);
        }
        out.flush();
        checkpointed.update(List.of(bytes.toByteArray()));
    }

    @Override
    public void processElement1(StreamRecord<ModelSnapshot> element) throws Exception {
        SnapshotManifest m = SnapshotManifest.fromJson(element.getValue().manifestJson());
        lastVersion = m.version();
        lastStep = m.step();
        output.collect(element);
    }

    @Override
    public void processElement2(StreamRecord<byte[]> element) {
        finals.add(element.getValue());
    }

    @Override
    public void endInput(int inputId) throws Exception {
        if (++endedInputs == 2 && !finals.isEmpty()) {
            mergeFinals();
        }
    }

    private void mergeFinals() throws Exception {
        List<byte[]> params = new ArrayList<>();
        double[] weights = new double[finals.size()];
        Tally total = Tally.ZERO;
        long[] atSnapshot = new long[4];
        for (int i = 0; i < finals.size(); i++) {
            Shard s = (Shard) AveragingMessage.decode(finals.get(i));
            params.add(s.parameters());
            weights[i] = s.tally().records();
            total = total.plus(s.tally());
            if (s.subtask() == 0) {
                Tally t = s.snapshotTally();
                atSnapshot = new long[] {t.steps(), t.records(), t.correct(), t.scored()};
            }
        }
        if (total.steps() <= lastStep) {
            return; // nothing trained since the last merged snapshot
        }
        long scored = total.scored() - atSnapshot[3];
        double accuracy = scored == 0 ? 0 : (total.correct() - atSnapshot[2]) / (double) scored;
        try (L0Trainer model = L0Trainer.create(
                config.modelConfig().toBuilder().optGpuIndex(TaskGpu.index(getRuntimeContext())).build())) {
            model.loadParameters(ModelParameters.weightedMean(params, weights));
            SnapshotCutter.Cut cut = SnapshotCutter.cut(config, model, lastVersion + 1, total.steps(), total.records(),
                    total.offsets(), accuracy);
            LOG.info("Final snapshot v{}: the mean of {} trainers' final parameters, {} steps and {} records in all",
                    lastVersion + 1, finals.size(), total.steps(), total.records());
            lastVersion++;
            lastStep = total.steps();
            finals.clear(); // consumed: a restore after this point must not cut it again
            output.collect(new StreamRecord<>(cut.snapshot()));
            TrainingProgress.publish(getRuntimeContext().getJobInfo().getJobId().toString(), TrainingProgress.FINAL_MERGE,
                    new TrainingProgress(0, 0, 0, 0, 0, cut.openChannels(), lastVersion, 0, 0, 0, Double.NaN, Double.NaN, 0));
        }
    }
}
