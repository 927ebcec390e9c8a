package l0stream.model.gate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import l0stream.model.DeviceChoice;
import l0stream.model.ModelConfig;
import l0stream.model.PyTorchRuntime;
import l0stream.model.TestNetworks;
import l0stream.model.nn.Architecture;
import l0stream.model.nn.GatedNetwork;
import l0stream.model.train.L0Trainer;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

/**
 * The gate initialisations a fair comparison needs (issue 15): the reference Dep-L0 init closes
 * part of every layer after the first in its chain, {@code open} closes none, and {@code louizos}
 * starts L0-HC at log α ≈ 0 and keeps it in [−4.6, 4.6].
 */
class GateInitTest {

    /** Fraction of closed test-time gates per gated layer. */
    private static double[] closed(GateKind kind, GateInit start) {
        Architecture lenet = Architecture.lenet5Caffe();
        try (NDManager m = PyTorchRuntime.engine().newBaseManager();
             GatedNetwork net = new GatedNetwork(m, lenet, kind, start, new GateNoise(5))) {
            int[] open = net.openChannels();
            int[] widths = lenet.gatedWidths();
            double[] out = new double[widths.length];
            for (int g = 0; g < widths.length; g++) {
                out[g] = 1 - (double) open[g] / widths[g];
            }
            return out;
        }
    }

    @Test
    void testReferenceDepInitClosesGatesAfterTheFirstChainLayerAndOpenClosesNone() {
        double[] fwd = closed(GateKind.DEP_FORWARD, GateInit.REFERENCE);
        assertEquals(0, fwd[0], "the first layer of the chain starts open");
        // ~9 % expected (pre-activations about N(3, 2.64²)); 570 gates in all, so a wide band
        double later = (fwd[1] * 50 + fwd[2] * 500) / 550;
        assertTrue(later > 0.03 && later < 0.2, "reference init, later layers closed: " + later);
        for (GateKind k : List.of(GateKind.DEP_FORWARD, GateKind.DEP_BACKWARD)) {
            for (double c : closed(k, GateInit.OPEN)) {
                assertEquals(0, c, k + " open init must close no gate");
            }
        }
        for (double c : closed(GateKind.HC, GateInit.REFERENCE)) {
            assertEquals(0, c);
        }
    }

    @Test
    void testLouizosInitStartsAtZeroAndStaysClamped() {
        ModelConfig cfg = ModelConfig.builder().setNetwork("lenet5").setGates(GateKind.HC).optGateInit(GateInit.LOUIZOS)
                .optLambda(1.0).optGateLr(2.0).optSeed(3).optDevice(DeviceChoice.CPU).build();
        try (L0Trainer t = L0Trainer.create(cfg)) {
            for (NDArray a : t.network().gateParameters().values()) {
                for (float v : a.toFloatArray()) {
                    assertEquals(0, v, 0.05, "log((1-p)/p) with p = 0.5, sd 0.01");
                }
            }
            Random rnd = new Random(1);
            float min = 0;
            for (int s = 0; s < 8; s++) {
                t.train(TestNetworks.syntheticBatch(rnd, 16, 1, 28, 28, 10));
                for (NDArray a : t.network().gateParameters().values()) {
                    for (float v : a.toFloatArray()) {
                        assertTrue(Math.abs(v) <= GateInit.LOUIZOS_CLAMP + 1e-6, "log α " + v + " outside the clamp");
                        min = Math.min(min, v);
                    }
                }
            }
            // λ = 1 and lr 2 push log α far below −4.6 within a step or two: the clamp, not the data, bounds it
            assertEquals(-GateInit.LOUIZOS_CLAMP, min, 1e-6);
        }
    }

    @Test
    void testAnInitThatDoesNotFitTheGatesFailsNamingTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.builder()
                .setNetwork("lenet5").setGates(GateKind.DEP_FORWARD).optGateInit(GateInit.LOUIZOS).build());
        assertTrue(e.getMessage().contains("gateInit") && e.getMessage().contains("hc"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.builder()
                .setNetwork("lenet5").setGates(GateKind.HC).optGateInit(GateInit.OPEN).build());
        assertTrue(e.getMessage().contains("gateInit"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GateInit.parse("xavier", "gate-init"));
    }
}
