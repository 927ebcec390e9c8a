package l0stream.pipeline.averaging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.model.artifact.TensorArchive;
import l0stream.model.train.ModelParameters;
import l0stream.pipeline.averaging.AveragingMessage.Leave;
import l0stream.pipeline.averaging.AveragingMessage.Merged;
import l0stream.pipeline.averaging.AveragingMessage.Shard;
import l0stream.pipeline.averaging.AveragingMessage.Tally;

import org.apache.flink.api.common.JobID;
import org.apache.flink.metrics.groups.OperatorCoordinatorMetricGroup;
import org.apache.flink.runtime.checkpoint.CheckpointCoordinator;
import org.apache.flink.runtime.executiongraph.ExecutionAttemptID;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.messages.Acknowledge;
import org.apache.flink.runtime.operators.coordination.CoordinatorStore;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The averaging protocol on its own: rounds, leaving, re-sent shards, and the roll-back that
 * region failover needs. Flink's two interfaces are implemented here by recording test doubles
 * (the whole coordinator also runs for real in {@code DataParallelTrainingTest}).
 */
class ModelAveragingCoordinatorTest {

    /** Records what Flink would deliver to each subtask, and a failJob call. */
    static final class Flink implements OperatorCoordinator.Context {
        final List<List<Merged>> delivered = new ArrayList<>();
        Throwable failed;

        Flink(int parallelism) {
            for (int i = 0; i < parallelism; i++) {
                delivered.add(new ArrayList<>());
            }
        }

        OperatorCoordinator.SubtaskGateway gateway(int subtask) {
            return new OperatorCoordinator.SubtaskGateway() {
                @Override
                public CompletableFuture<Acknowledge> sendEvent(OperatorEvent evt) {
                    delivered.get(subtask).add((Merged) ((AveragingEvent) evt).message());
                    return CompletableFuture.completedFuture(Acknowledge.get());
                }

                @Override
                public ExecutionAttemptID getExecution() {
                    return null;
                }

                @Override
                public int getSubtask() {
                    return subtask;
                }
            };
        }

        @Override public JobID getJobID() { return new JobID(); }
        @Override public OperatorID getOperatorId() { return new OperatorID(); }
        @Override public OperatorCoordinatorMetricGroup metricGroup() { return null; }
        @Override public void failJob(Throwable cause) { failed = cause; }
        @Override public int currentParallelism() { return delivered.size(); }
        @Override public ClassLoader getUserCodeClassloader() { return getClass().getClassLoader(); }
        @Override public CoordinatorStore getCoordinatorStore() { return null; }
        @Override public boolean isConcurrentExecutionAttemptsSupported() { return false; }
        @Override public CheckpointCoordinator getCheckpointCoordinator() { return null; }
    }

    private static byte[] params(float w) {
        return TensorArchive.write(ModelParameters.MAGIC, ModelParameters.FORMAT_VERSION,
                TensorArchive.json().createObjectNode().put("network", "lenet5").put("gates", "dep-forward"),
                List.of(new TensorArchive.Tensor("w", new long[] {2}, new float[] {w, 2 * w})));
    }

    private static float[] w(Merged m) throws Exception {
        return ModelParameters.read(m.parameters()).tensors().get("w").data();
    }

    private static AveragingEvent shard(int subtask, long round, long records, long totalRecords, float w) {
        return new AveragingEvent(new Shard(subtask, round, records,
                new Tally(round * 3, totalRecords, totalRecords / 2, totalRecords, Map.of("in-" + subtask, totalRecords)),
                Tally.ZERO, params(w)));
    }

    private static ModelAveragingCoordinator start(Flink flink) throws Exception {
        ModelAveragingCoordinator c = new ModelAveragingCoordinator("trainer", flink);
        c.start();
        for (int i = 0; i < flink.currentParallelism(); i++) {
            c.executionAttemptReady(i, 0, flink.gateway(i));
        }
        return c;
    }

    @Test
    void testRoundClosesWhenEveryTrainerSentItsShardAndIsTheWeightedMean() throws Exception {
        Flink flink = new Flink(2);
        ModelAveragingCoordinator c = start(flink);
        c.handleEventFromOperator(0, 0, shard(0, 1, 30, 30, 1));
        assertTrue(flink.delivered.get(0).isEmpty(), "round 1 must wait for trainer 1");
        c.handleEventFromOperator(1, 0, shard(1, 1, 10, 10, 5));
        for (int i = 0; i < 2; i++) {
            assertEquals(1, flink.delivered.get(i).size());
            Merged m = flink.delivered.get(i).get(0);
            assertEquals(1, m.round());
            assertArrayEquals(new float[] {2, 4}, w(m), 1e-6f); // 0.75·1 + 0.25·5
            assertEquals(40, m.tally().records(), "records summed over the trainers");
            assertEquals(6, m.tally().steps());
            assertEquals(Map.of("in-0", 30L, "in-1", 10L), m.tally().offsets());
        }
        assertNull(flink.failed);
    }

    @Test
    void testALeftTrainerIsNotWaitedFor() throws Exception {
        Flink flink = new Flink(2);
        ModelAveragingCoordinator c = start(flink);
        c.handleEventFromOperator(0, 0, shard(0, 1, 30, 30, 1));
        c.handleEventFromOperator(1, 0, new AveragingEvent(new Leave(1)));
        assertEquals(1, flink.delivered.get(0).size(), "trainer 1 left: round 1 closes with trainer 0 alone");
        assertTrue(flink.delivered.get(1).isEmpty(), "nothing is sent to a trainer that left");
        assertArrayEquals(new float[] {1, 2}, w(flink.delivered.get(0).get(0)), 1e-6f);
    }

    @Test
    void testReSentShardOfAMergedRoundGetsThatMergeAgain() throws Exception {
        Flink flink = new Flink(2);
        ModelAveragingCoordinator c = start(flink);
        c.handleEventFromOperator(0, 0, shard(0, 1, 10, 10, 1));
        c.handleEventFromOperator(1, 0, shard(1, 1, 10, 10, 3));
        c.handleEventFromOperator(1, 1, shard(1, 1, 10, 10, 3)); // restored before the merge reached it
        assertEquals(1, flink.delivered.get(0).size());
        assertEquals(2, flink.delivered.get(1).size());
        assertArrayEquals(w(flink.delivered.get(1).get(0)), w(flink.delivered.get(1).get(1)));
        c.handleEventFromOperator(0, 0, shard(0, 5, 10, 10, 1));
        assertTrue(flink.failed != null && flink.failed.getMessage().contains("round 5"), "a shard from the future fails the job");
    }

    @Test
    void testRegionFailoverRollsBackToTheCheckpointOnce() throws Exception {
        Flink flink = new Flink(2);
        ModelAveragingCoordinator c = start(flink);
        c.handleEventFromOperator(0, 0, shard(0, 1, 10, 10, 1));
        c.handleEventFromOperator(1, 0, shard(1, 1, 10, 10, 3));
        c.handleEventFromOperator(0, 0, shard(0, 2, 10, 20, 7)); // round 2 half open at the checkpoint
        CompletableFuture<byte[]> state = new CompletableFuture<>();
        c.checkpointCoordinator(4, state);
        assertTrue(state.isDone());
        c.handleEventFromOperator(1, 0, shard(1, 2, 10, 20, 9));
        assertEquals(2, c.round());
        // both trainers restart from checkpoint 4: the coordinator goes back to round 1 with 0's shard of round 2
        c.subtaskReset(0, 4);
        c.subtaskReset(1, 4);
        assertEquals(1, c.round());
        c.executionAttemptReady(0, 1, flink.gateway(0));
        c.executionAttemptReady(1, 1, flink.gateway(1));
        c.handleEventFromOperator(1, 1, shard(1, 2, 10, 20, 9)); // replayed; 0's shard survived in the state
        assertEquals(2, c.round());
        Merged again = flink.delivered.get(1).get(flink.delivered.get(1).size() - 1);
        assertArrayEquals(new float[] {8, 16}, w(again), 1e-6f);
        // a second failure back to the same checkpoint rolls back again
        c.subtaskReset(0, 4);
        c.subtaskReset(1, 4);
        assertEquals(1, c.round());
        // a global restore from the checkpoint's bytes gives the same state
        ModelAveragingCoordinator fresh = new ModelAveragingCoordinator("trainer", flink);
        fresh.resetToCheckpoint(4, state.get());
        assertEquals(1, fresh.round());
        // a reset to a checkpoint the coordinator never saw cannot be honoured locally
        c.subtaskReset(0, 99);
        assertTrue(flink.failed != null && flink.failed.getMessage().contains("checkpoint 99"), String.valueOf(flink.failed));
    }
}
