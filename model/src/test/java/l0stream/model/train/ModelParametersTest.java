package l0stream.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.model.DeviceChoice;
import l0stream.model.ModelConfig;
import l0stream.model.TestNetworks;
import l0stream.model.artifact.ArtifactFormatException;
import l0stream.model.artifact.TensorArchive;
import l0stream.model.artifact.TensorArchive.Tensor;
import l0stream.model.gate.GateKind;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

class ModelParametersTest {

    private static byte[] set(float... values) {
        return TensorArchive.write(ModelParameters.MAGIC, ModelParameters.FORMAT_VERSION,
                ModelParameters.header("lenet5", "dep-forward"),
                List.of(new Tensor("w", new long[] {2, 2}, values.clone()), new Tensor("b", new long[] {1}, new float[] {values[0]})));
    }

    private static float[] tensor(byte[] set, String name) throws ArtifactFormatException {
        return ModelParameters.read(set).tensors().get(name).data();
    }

    @Test
    void testWeightedMeanOfKnownTensors() throws Exception {
        byte[] a = set(1, 2, 3, 4);
        byte[] b = set(5, 6, 7, 8);
        // 3:1 weighting: 0.75·a + 0.25·b
        byte[] m = ModelParameters.weightedMean(List.of(a, b), new double[] {30, 10});
        assertArrayEquals(new float[] {2, 3, 4, 5}, tensor(m, "w"), 1e-6f);
        assertArrayEquals(new float[] {2}, tensor(m, "b"), 1e-6f);
        // all weights 0 (no trainer saw data): a plain mean
        assertArrayEquals(new float[] {3, 4, 5, 6}, tensor(ModelParameters.weightedMean(List.of(a, b), new double[] {0, 0}), "w"), 1e-6f);
    }

    @Test
    void testAsynchronousMergeKeepsTheLocalProgress() throws Exception {
        byte[] merged = set(1, 1, 1, 1);
        byte[] now = set(3, 4, 5, 6);
        byte[] sent = set(2, 2, 2, 2);
        byte[] c = ModelParameters.linearCombination(List.of(merged, now, sent), new double[] {1, 1, -1});
        assertArrayEquals(new float[] {2, 3, 4, 5}, tensor(c, "w"), 1e-6f);
    }

    @Test
    void testMismatchedSetsAreRefused() {
        byte[] a = set(1, 2, 3, 4);
        byte[] other = TensorArchive.write(ModelParameters.MAGIC, ModelParameters.FORMAT_VERSION,
                ModelParameters.header("lenet5", "dep-forward"), List.of(new Tensor("w", new long[] {4}, new float[4]),
                        new Tensor("b", new long[] {1}, new float[1])));
        ArtifactFormatException e = assertThrows(ArtifactFormatException.class,
                () -> ModelParameters.weightedMean(List.of(a, other), new double[] {1, 1}));
        assertTrue(e.getMessage().contains("shape"), e.getMessage());
        byte[] hc = TensorArchive.write(ModelParameters.MAGIC, ModelParameters.FORMAT_VERSION,
                ModelParameters.header("lenet5", "hc"), List.of(new Tensor("w", new long[] {2, 2}, new float[4]),
                        new Tensor("b", new long[] {1}, new float[1])));
        assertThrows(ArtifactFormatException.class, () -> ModelParameters.weightedMean(List.of(a, hc), new double[] {1, 1}));
        assertThrows(IllegalArgumentException.class, () -> ModelParameters.weightedMean(List.of(a), new double[] {-1}));
    }

    @Test
    void testTrainersExchangeParametersAndKeepTheirOptimiserState() throws Exception {
        ModelConfig cfg = ModelConfig.builder().setNetwork("lenet5").setGates(GateKind.DEP_FORWARD).optLambda(1e-4)
                .optSeed(3).optDevice(DeviceChoice.CPU).build();
        Random rnd = new Random(4);
        try (L0Trainer a = L0Trainer.create(cfg); L0Trainer b = L0Trainer.create(cfg)) {
            b.useNoiseStream(1);
            assertArrayEquals(a.parameters(), b.parameters(), "replicas must start from the same weights");
            for (int i = 0; i < 3; i++) {
                a.train(TestNetworks.syntheticBatch(rnd, 8, 1, 28, 28, 10));
                b.train(TestNetworks.syntheticBatch(rnd, 8, 1, 28, 28, 10));
            }
            byte[] pa = a.parameters();
            byte[] pb = b.parameters();
            assertNotEquals(java.util.Arrays.hashCode(pa), java.util.Arrays.hashCode(pb));
            byte[] mean = ModelParameters.weightedMean(List.of(pa, pb), new double[] {1, 1});
            a.loadParameters(mean);
            b.loadParameters(mean);
            assertArrayEquals(a.parameters(), b.parameters());
            String name = a.network().weights().keySet().iterator().next();
            float[] wa = ModelParameters.read(pa).tensors().get(name).data();
            float[] wb = ModelParameters.read(pb).tensors().get(name).data();
            float[] wm = a.network().weights().get(name).toFloatArray();
            for (int k = 0; k < wm.length; k++) {
                assertEquals((wa[k] + wb[k]) / 2, wm[k], 1e-6f);
            }
            assertEquals(3, a.step(), "loading parameters leaves the step alone");
            a.train(TestNetworks.syntheticBatch(rnd, 8, 1, 28, 28, 10)); // momentum state still usable
        }
        ModelConfig hc = ModelConfig.builder().setNetwork("lenet5").setGates(GateKind.HC).optSeed(3)
                .optDevice(DeviceChoice.CPU).build();
        try (L0Trainer dep = L0Trainer.create(cfg); L0Trainer other = L0Trainer.create(hc)) {
            ArtifactFormatException e = assertThrows(ArtifactFormatException.class, () -> other.loadParameters(dep.parameters()));
            assertTrue(e.getMessage().contains("gates"), e.getMessage());
        }
    }
}
