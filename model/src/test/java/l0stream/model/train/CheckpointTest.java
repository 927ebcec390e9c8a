package l0stream.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;

import l0stream.model.ModelConfig;
import l0stream.model.TestNetworks;
import l0stream.model.artifact.ArtifactFormatException;
import l0stream.model.gate.GateKind;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

class CheckpointTest {

    private static List<Batch> batches(int n) {
        Random rnd = new Random(21);
        List<Batch> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(TestNetworks.syntheticBatch(rnd, 8, 3, 32, 32, 10));
        }
        return out;
    }

    private static Map<String, float[]> state(L0Trainer t) {
        Map<String, float[]> s = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : t.network().state().entrySet()) {
            s.put(e.getKey(), e.getValue().toFloatArray());
        }
        return s;
    }

    @Test
    void testRestoreAndContinueEqualsUninterruptedRun() throws Exception {
        TestNetworks.singleThreaded(() -> {
            restoreAndContinue();
            return null;
        });
    }

    private static void restoreAndContinue() throws Exception {
        // vgg-narrow exercises BN running statistics and generator state; dep-backward the chain order.
        ModelConfig cfg = ModelConfig.builder().setNetwork("vgg-narrow").setGates(GateKind.DEP_BACKWARD)
                .optLambda(1e-4).optSeed(5).optDevice(l0stream.model.DeviceChoice.CPU).build();
        List<Batch> data = batches(10);
        Map<String, float[]> uninterrupted;
        try (L0Trainer t = L0Trainer.create(cfg)) {
            for (Batch b : data) {
                t.train(b);
            }
            uninterrupted = state(t);
        }
        byte[] checkpoint;
        try (L0Trainer t = L0Trainer.create(cfg)) {
            for (Batch b : data.subList(0, 4)) {
                t.train(b);
            }
            checkpoint = t.checkpoint();
            // keep training past the checkpoint: the restored run must not see this
            t.train(data.get(9));
        }
        Map<String, float[]> resumed;
        try (L0Trainer t = L0Trainer.restore(cfg, checkpoint)) {
            assertEquals(4, t.step());
            for (Batch b : data.subList(4, 10)) {
                t.train(b);
            }
            assertEquals(10, t.step());
            resumed = state(t);
        }
        assertEquals(uninterrupted.keySet(), resumed.keySet());
        for (String k : uninterrupted.keySet()) {
            // bit for bit: the checkpoint holds the optimiser's buffers exactly as it uses them
            assertTrue(java.util.Arrays.equals(uninterrupted.get(k), resumed.get(k)),
                    k + " differs by " + TestNetworks.maxAbsDiff(uninterrupted.get(k), resumed.get(k)) + " after restore");
        }
    }

    @Test
    void testRestoreOnAThreadThatNeverTrainedLoadsEveryTensor() throws Exception {
        // A task thread restores before it ever trains. PyTorch records autograd there (its default
        // until a gradient collector has been closed on that thread), and the gates' parameters are
        // views of one tensor: both must be written in place with recording off.
        ModelConfig cfg = ModelConfig.builder().setNetwork("vgg-narrow").setGates(GateKind.DEP_FORWARD)
                .optLambda(1e-4).optSeed(3).optDevice(l0stream.model.DeviceChoice.CPU).build();
        List<Batch> data = batches(3);
        byte[] checkpoint;
        Map<String, float[]> saved;
        try (L0Trainer t = L0Trainer.create(cfg)) {
            t.train(data.get(0));
            t.train(data.get(1));
            checkpoint = t.checkpoint();
            saved = state(t);
        }
        java.util.concurrent.atomic.AtomicReference<Object> result = new java.util.concurrent.atomic.AtomicReference<>();
        Thread fresh = new Thread(() -> {
            try (L0Trainer t = L0Trainer.restore(cfg, checkpoint)) {
                Map<String, float[]> restored = state(t);
                t.train(data.get(2)); // and the optimisers take over the restored state
                result.set(restored);
            } catch (Throwable e) {
                result.set(e);
            }
        }, "fresh-thread");
        fresh.start();
        fresh.join();
        if (result.get() instanceof Throwable e) {
            throw new AssertionError("restore on a fresh thread failed", e);
        }
        @SuppressWarnings("unchecked")
        Map<String, float[]> restored = (Map<String, float[]>) result.get();
        assertEquals(saved.keySet(), restored.keySet());
        for (String k : saved.keySet()) {
            assertTrue(java.util.Arrays.equals(saved.get(k), restored.get(k)), k + " was not restored");
        }
    }

    @Test
    void testRestoreRefusesAnotherNetwork() throws Exception {
        ModelConfig hc = TestNetworks.lenet(GateKind.HC, 1e-4, 1);
        byte[] cp;
        try (L0Trainer t = L0Trainer.create(hc)) {
            cp = t.checkpoint();
        }
        ArtifactFormatException e = assertThrows(ArtifactFormatException.class,
                () -> L0Trainer.restore(TestNetworks.lenet(GateKind.DEP_FORWARD, 1e-4, 1), cp));
        assertTrue(e.getMessage().contains("Invalid value hc for gates"), e.getMessage());
    }
}
