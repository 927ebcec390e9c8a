package l0stream.pipeline.averaging;

import l0stream.model.train.ModelParameters;
import l0stream.pipeline.averaging.AveragingMessage.Leave;
import l0stream.pipeline.averaging.AveragingMessage.Merged;
import l0stream.pipeline.averaging.AveragingMessage.Shard;
import l0stream.pipeline.averaging.AveragingMessage.Tally;

import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * Averages the parameters of the data-parallel trainer subtasks, round by round, on the
 * JobManager. Round r closes when every trainer that has not left sent its shard of round r;
 * the weighted mean (by records trained in the round) goes back to every trainer still running,
 * with the summed tally of all of them. The trainers never block on it (they keep training and
 * correct for what they learnt meanwhile), because Flink holds coordinator events sent after the
 * coordinator's part of checkpoint C until the subtask has taken C, and a blocked subtask never
 * would (docs/data-parallel-design.md).
 *
 * <p>Consistency with checkpoints. The coordinator's state (round, last merge, the shards of the
 * open round, who left, each trainer's last tally) is checkpointed. Shards sent between the
 * coordinator's checkpoint and a trainer's barrier are re-sent by the trainer after a restore (its
 * outstanding shard is part of its state); a shard of a round already merged is answered
 * with that merge. Under region failover Flink calls {@link #subtaskReset} instead of
 * {@link #resetToCheckpoint}; every trainer shares one region (the publisher at parallelism 1
 * joins them), so the first reset to checkpoint C rolls the whole state back to what it was at C,
 * which is why the state of each pending checkpoint is kept until a later one completes.
 *
 * <p>Flink calls a coordinator from one thread; the methods are synchronized anyway because the
 * futures of sent events complete on others.
 */
public final class ModelAveragingCoordinator implements OperatorCoordinator {

    private static final Logger LOG = LoggerFactory.getLogger(ModelAveragingCoordinator.class);
    private static final int STATE_VERSION = 1;

    private final String operatorName;
    private final Context context;
    private final int parallelism;

    // checkpointed
    private long round;
    private byte[] lastMerge; // encoded Merged of `round`, null before the first
    private final TreeMap<Integer, byte[]> shards = new TreeMap<>(); // encoded Shards of round + 1
    private final TreeSet<Integer> left = new TreeSet<>();
    private final TreeMap<Integer, Tally> tallies = new TreeMap<>(); // from each trainer's last merged shard

    // not checkpointed
    private final SubtaskGateway[] gateways;
    private final Map<Integer, List<AveragingEvent>> undelivered = new HashMap<>();
    private final TreeMap<Long, byte[]> stateAt = new TreeMap<>();
    private long resetTo = Long.MIN_VALUE;
    private boolean changedSinceReset = true;

    ModelAveragingCoordinator(String operatorName, Context context) {
        this.operatorName = operatorName;
        this.context = context;
        this.parallelism = context.currentParallelism();
        this.gateways = new SubtaskGateway[parallelism];
    }

    /** Creates the coordinator of the trainer operator on the JobManager. */
    public static final class Provider implements OperatorCoordinator.Provider {
        private static final long serialVersionUID = 1L;
        private final String operatorName;
        private final OperatorID operatorId;

        public Provider(String operatorName, OperatorID operatorId) {
            this.operatorName = operatorName;
            this.operatorId = operatorId;
        }

        @Override
        public OperatorID getOperatorId() {
            return operatorId;
        }

        @Override
        public OperatorCoordinator create(Context context) {
            return new ModelAveragingCoordinator(operatorName, context);
        }
    }

    @Override
    public void start() {
        LOG.info("{}: averaging the parameters of {} trainers", operatorName, parallelism);
    }

    @Override
    public void close() {}

    @Override
    public synchronized void handleEventFromOperator(int subtask, int attempt, OperatorEvent event) throws Exception {
        if (!(event instanceof AveragingEvent e)) {
            throw new IllegalArgumentException("Unexpected operator event " + event.getClass().getName());
        }
        changedSinceReset = true;
        AveragingMessage m = e.message();
        if (m instanceof Shard s) {
            onShard(subtask, s, e);
        } else if (m instanceof Leave) {
            left.add(subtask);
            LOG.info("{}: trainer {} reached the end of its input; later rounds do not wait for it", operatorName, subtask);
            mergeIfComplete();
        }
    }

    private void onShard(int subtask, Shard s, AveragingEvent raw) throws Exception {
        if (s.round() == round && lastMerge != null) {
            // re-sent after a restore: the trainer took its checkpoint before this merge reached it
            send(subtask, new AveragingEvent(AveragingMessage.decode(lastMerge)));
        } else if (s.round() == round + 1) {
            shards.put(subtask, AveragingMessage.encode(s));
            mergeIfComplete();
        } else {
            context.failJob(new IllegalStateException(operatorName + ": trainer " + subtask + " sent a shard of round "
                    + s.round() + " while the coordinator is at round " + round + " (inconsistent restore?)"));
        }
    }

    private void mergeIfComplete() throws Exception {
        if (shards.isEmpty()) {
            return;
        }
        for (int i = 0; i < parallelism; i++) {
            if (!left.contains(i) && !shards.containsKey(i)) {
                return;
            }
        }
        List<byte[]> params = new ArrayList<>();
        double[] weights = new double[shards.size()];
        int k = 0;
        for (Map.Entry<Integer, byte[]> entry : shards.entrySet()) {
            Shard s = (Shard) AveragingMessage.decode(entry.getValue());
            params.add(s.parameters());
            weights[k++] = s.roundRecords();
            tallies.put(entry.getKey(), s.tally());
        }
        Tally total = Tally.ZERO;
        for (Tally t : tallies.values()) {
            total = total.plus(t);
        }
        Merged merged = new Merged(round + 1, total, ModelParameters.weightedMean(params, weights));
        round++;
        lastMerge = AveragingMessage.encode(merged);
        LOG.debug("{}: merged round {} of {} trainers ({} records in all)", operatorName, round, shards.size(), total.records());
        shards.clear();
        for (int i = 0; i < parallelism; i++) {
            if (!left.contains(i)) {
                send(i, new AveragingEvent(merged));
            }
        }
    }

    private void send(int subtask, AveragingEvent event) {
        SubtaskGateway g = gateways[subtask];
        if (g == null) {
            undelivered.computeIfAbsent(subtask, x -> new ArrayList<>()).add(event);
            return;
        }
        g.sendEvent(event).whenComplete((ack, err) -> {
            if (err != null) {
                // the attempt is gone; its successor restores and re-sends its shard
                LOG.debug("{}: merge to trainer {} not delivered: {}", operatorName, subtask, err.toString());
            }
        });
    }

    @Override
    public synchronized void checkpointCoordinator(long checkpointId, CompletableFuture<byte[]> result) {
        byte[] state = encodeState();
        stateAt.put(checkpointId, state);
        result.complete(state);
    }

    @Override
    public synchronized void notifyCheckpointComplete(long checkpointId) {
        stateAt.headMap(checkpointId).clear();
    }

    @Override
    public synchronized void resetToCheckpoint(long checkpointId, byte[] state) throws IOException {
        restore(state);
        stateAt.clear();
        if (state != null) {
            stateAt.put(checkpointId, state);
        }
        resetTo = checkpointId;
        changedSinceReset = false;
    }

    @Override
    public synchronized void subtaskReset(int subtask, long checkpointId) {
        gateways[subtask] = null;
        undelivered.remove(subtask);
        if (checkpointId == resetTo && !changedSinceReset) {
            return; // another trainer of the same failover
        }
        byte[] state = stateAt.get(checkpointId);
        if (state == null && checkpointId != NO_CHECKPOINT) {
            context.failJob(new IllegalStateException(operatorName + ": no coordinator state for checkpoint "
                    + checkpointId + " to reset trainer " + subtask + " to; a global restart restores it"));
            return;
        }
        try {
            restore(state);
        } catch (IOException e) {
            context.failJob(e);
            return;
        }
        LOG.info("{}: rolled back to checkpoint {} (round {}) for the restarted trainers", operatorName, checkpointId, round);
        resetTo = checkpointId;
        changedSinceReset = false;
    }

    @Override
    public synchronized void executionAttemptFailed(int subtask, int attempt, Throwable reason) {
        gateways[subtask] = null;
    }

    @Override
    public synchronized void executionAttemptReady(int subtask, int attempt, SubtaskGateway gateway) {
        gateways[subtask] = gateway;
        List<AveragingEvent> pending = undelivered.remove(subtask);
        if (pending != null) {
            pending.forEach(e -> send(subtask, e));
        }
    }

    /** The last merged round: for tests and logs. */
    synchronized long round() {
        return round;
    }

    private byte[] encodeState() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(STATE_VERSION);
            out.writeLong(round);
            AveragingMessage.writeBytes(out, lastMerge == null ? new byte[0] : lastMerge);
            out.writeInt(shards.size());
            for (Map.Entry<Integer, byte[]> e : shards.entrySet()) {
                out.writeInt(e.getKey());
                AveragingMessage.writeBytes(out, e.getValue());
            }
            out.writeInt(left.size());
            for (int i : left) {
                out.writeInt(i);
            }
            out.writeInt(tallies.size());
            for (Map.Entry<Integer, Tally> e : tallies.entrySet()) {
                out.writeInt(e.getKey());
                AveragingMessage.writeTally(out, e.getValue());
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void restore(byte[] state) throws IOException {
        round = 0;
        lastMerge = null;
        shards.clear();
        left.clear();
        tallies.clear();
        if (state == null) {
            return;
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(state));
        int version = in.readUnsignedByte();
        if (version != STATE_VERSION) {
            throw new IOException("averaging coordinator state has version " + version + ", this job reads " + STATE_VERSION);
        }
        round = in.readLong();
        byte[] m = AveragingMessage.readBytes(in);
        lastMerge = m.length == 0 ? null : m;
        for (int n = in.readInt(); n > 0; n--) {
            shards.put(in.readInt(), AveragingMessage.readBytes(in));
        }
        for (int n = in.readInt(); n > 0; n--) {
            left.add(in.readInt());
        }
        for (int n = in.readInt(); n > 0; n--) {
            tallies.put(in.readInt(), AveragingMessage.readTally(in));
        }
    }
}
