package l0stream.model.gate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import l0stream.model.PyTorchRuntime;
import l0stream.model.TestNetworks;
import l0stream.model.nn.GatedNetwork;

import org.junit.jupiter.api.Test;

import java.util.List;

/** Gate math against values computed here, independently of the production formulas. */
class HardConcreteGateTest {

    // Independent reference: written out from the paper's definitions.
    private static double sampleRef(double logAlpha, double u) {
        double s = 1 / (1 + Math.exp(-((Math.log(u / (1 - u)) + logAlpha) * 1.5)));
        return Math.min(1, Math.max(0, s * 1.2 - 0.1));
    }

    private static double openRef(double logAlpha) {
        // 1 − Q(0) with Q the CDF of the stretched concrete: Q(0) = σ(β·logit((0−γ)/(ζ−γ)) − log α)
        double t = (0 - (-0.1)) / (1.1 - (-0.1));
        return 1 - 1 / (1 + Math.exp(-((2.0 / 3.0) * Math.log(t / (1 - t)) - logAlpha)));
    }

    @Test
    void testSampleMatchesIndependentValues() {
        double[][] cases = {{0.5, 0.3}, {-1.0, 0.9}, {2.0, 0.01}, {-4.0, 0.5}, {0.0, 0.999}};
        try (NDManager m = PyTorchRuntime.engine().newBaseManager()) {
            for (double[] c : cases) {
                double u = c[1];
                NDArray la = m.create(new float[] {(float) c[0]});
                NDArray noise = m.create(new float[] {(float) (Math.log(u) - Math.log(1 - u))}, new Shape(1, 1));
                float z = HardConcreteGate.sample(m, la, noise).getFloat();
                assertEquals(sampleRef(c[0], u), z, 1e-6, "logα=" + c[0] + " u=" + u);
                assertEquals(sampleRef(c[0], u), HardConcreteGate.sample(c[0], u), 1e-12);
            }
        }
        // Hand-checked point: logα=0, u=0.5 → s=0.5, z=0.5·1.2−0.1=0.5
        assertEquals(0.5, HardConcreteGate.sample(0.0, 0.5), 1e-12);
    }

    @Test
    void testDeterministicGateAndExactZero() {
        try (NDManager m = PyTorchRuntime.engine().newBaseManager()) {
            float[] la = {-3f, -2.4f, 0f, 3f, 10f};
            float[] z = HardConcreteGate.deterministic(m, m.create(la)).toFloatArray();
            for (int i = 0; i < la.length; i++) {
                double ref = Math.min(1, Math.max(0, 1 / (1 + Math.exp(-la[i])) * 1.2 - 0.1));
                assertEquals(ref, z[i], 1e-6);
            }
            assertEquals(0f, z[0], 0f, "σ(−3)·1.2−0.1 < 0 must clamp to exactly 0 (pruned)");
            assertEquals(0.5f, z[2], 1e-6);
            assertEquals(1f, z[4], 0f);
        }
    }

    @Test
    void testProbabilityNonZero() {
        try (NDManager m = PyTorchRuntime.engine().newBaseManager()) {
            float[] la = {-5f, -1f, 0f, 1.5f, 4.6f};
            float[] p = HardConcreteGate.probabilityNonZero(m, m.create(la)).toFloatArray();
            for (int i = 0; i < la.length; i++) {
                assertEquals(openRef(la[i]), p[i], 1e-6, "logα=" + la[i]);
                assertEquals(openRef(la[i]), HardConcreteGate.probabilityNonZero(la[i]), 1e-12);
            }
            assertEquals(0.8318, p[2], 1e-4); // σ(−(2/3)·ln(1/11)) = σ(1.5986)
        }
    }

    @Test
    void testPenaltyOfTwoLayerToy() {
        double lambda = 0.01;
        float[] la0 = {0.0f, 2.0f};
        float[] la1 = {-1.0f, 0.5f, 3.0f};
        try (NDManager m = PyTorchRuntime.engine().newBaseManager();
             GatedNetwork net = new GatedNetwork(m, TestNetworks.toy(), GateKind.HC, new GateNoise(1))) {
            TestNetworks.set(net.gateParameters().get("log_alpha0"), la0);
            TestNetworks.set(net.gateParameters().get("log_alpha1"), la1);
            double e0 = openRef(la0[0]) + openRef(la0[1]);
            double e1 = openRef(la1[0]) + openRef(la1[1]) + openRef(la1[2]);
            // R = λ·k²·E_in·E_out per gated layer; input has 1 channel; the dense head is ungated.
            double expected = lambda * 9 * 1 * e0 + lambda * 9 * e0 * e1;
            try (NDManager scope = m.newSubManager()) {
                List<NDArray> las = List.of(net.gateParameters().get("log_alpha0"), net.gateParameters().get("log_alpha1"));
                float got = net.penalty(scope, las, lambda).getFloat();
                assertEquals(expected, got, 1e-5 * expected);
            }
        }
    }

    @Test
    void testGeneratorStartsOpenAndChainsShapes() {
        try (NDManager m = PyTorchRuntime.engine().newBaseManager()) {
            for (boolean backward : new boolean[] {false, true}) {
                GateGenerator g = new GateGenerator(m, new int[] {20, 50, 500}, backward, 64, new GateNoise(3));
                try (NDManager scope = m.newSubManager()) {
                    List<NDArray> las = g.logAlphas(scope);
                    assertEquals(new Shape(20), las.get(0).getShape());
                    assertEquals(new Shape(50), las.get(1).getShape());
                    assertEquals(new Shape(500), las.get(2).getShape());
                    int first = backward ? 2 : 0;
                    // The first chain layer sees ones(64): pre-activations ≈ N(3, 0.58²), all positive.
                    assertEquals(true, las.get(first).min().getFloat() > 0, "first chain layer starts open");
                    double open = 0;
                    int total = 0;
                    for (NDArray la : las) {
                        float[] v = la.toFloatArray();
                        for (float a : v) {
                            assertEquals(true, Math.abs(a) <= Math.log(100) + 1e-5, "|log α| ≤ log 100");
                            open += HardConcreteGate.probabilityNonZero(a);
                        }
                        total += v.length;
                    }
                    assertEquals(true, open / total > 0.6, "most gates start open: " + open / total);
                }
                // first chain layer maps ones(64) to the first (forward) or last (backward) layer
                assertEquals(new Shape(backward ? 500 : 20, 64), g.parameters().get("gen0.weight").getShape());
            }
        }
    }
}
