package l0stream.model.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.model.DeviceChoice;
import l0stream.model.ModelConfig;
import l0stream.model.TestNetworks;
import l0stream.model.gate.GateKind;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

/** Gates respond to λ: a large λ closes them, λ = 0 leaves them open. */
class SparsificationTest {

    private static int[] train(GateKind kind, double lambda, int steps) {
        ModelConfig cfg = ModelConfig.builder().setNetwork("lenet5").setGates(kind).optLambda(lambda)
                .optGateLr(0.05).optSeed(3).optDevice(DeviceChoice.CPU).build();
        Random rnd = new Random(4);
        try (L0Trainer t = L0Trainer.create(cfg)) {
            for (int s = 0; s < steps; s++) {
                StepResult r = t.train(TestNetworks.syntheticBatch(rnd, 16, 1, 28, 28, 10));
                assertTrue(Double.isFinite(r.loss()), "loss diverged at step " + s);
            }
            return t.network().openChannels();
        }
    }

    @Test
    void testLargeLambdaClosesGatesAndZeroLambdaDoesNot() {
        for (GateKind kind : new GateKind[] {GateKind.DEP_FORWARD, GateKind.HC}) {
            int[] closed = train(kind, 0.05, 120);
            int[] open = train(kind, 0.0, 120);
            int total = 20 + 50 + 500;
            int nClosed = Arrays.stream(closed).sum();
            int nOpen = Arrays.stream(open).sum();
            assertTrue(nClosed < total / 2, kind + " large λ should prune most channels: " + Arrays.toString(closed));
            assertTrue(nOpen > nClosed, kind + " λ=0 must keep more open than large λ");
            for (int g = 0; g < open.length; g++) {
                assertTrue(open[g] >= 1, kind + " λ=0 collapsed gated layer " + g + ": " + Arrays.toString(open));
            }
            if (kind == GateKind.HC) {
                // Independent gates start at log α ≈ 3 and see no pressure to close without λ.
                assertTrue(nOpen >= total * 0.9, "HC λ=0 should stay open: " + Arrays.toString(open));
            }
        }
    }
}
