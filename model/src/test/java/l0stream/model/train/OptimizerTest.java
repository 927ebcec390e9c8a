package l0stream.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;

import l0stream.model.PyTorchRuntime;
import l0stream.model.TestNetworks;
import l0stream.model.gate.GateKind;
import l0stream.model.gate.GateNoise;
import l0stream.model.nn.Architecture;
import l0stream.model.nn.GatedNetwork;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

class OptimizerTest {

    /** loss = Σ c·p, so the gradient is c on every step. */
    private static void backwardLinear(NDManager m, NDArray p, float[] c) {
        try (NDManager scope = m.newSubManager();
             GradientCollector gc = PyTorchRuntime.engine().newGradientCollector()) {
            gc.backward(scope.create(c).mul(p).sum());
        }
    }

    @Test
    void testSgdMatchesPyTorchSemantics() {
        double lr = 0.1, mu = 0.9, wd = 0.01;
        float[] c = {0.5f, -2f, 3f};
        double[] p = {1, 2, -1};
        double[] buf = new double[3];
        try (NDManager m = PyTorchRuntime.engine().newBaseManager();
             MomentumSgd sgd = new MomentumSgd(m, lr, mu, wd)) {
            NDArray param = m.create(new float[] {1, 2, -1});
            param.setRequiresGradient(true);
            for (int step = 0; step < 3; step++) {
                backwardLinear(m, param, c);
                try (NDManager scope = m.newSubManager()) {
                    sgd.step(scope, Map.of("p", param));
                }
                for (int i = 0; i < 3; i++) {
                    double d = c[i] + wd * p[i];
                    buf[i] = step == 0 ? d : mu * buf[i] + d;
                    p[i] -= lr * buf[i];
                }
                float[] got = param.toFloatArray();
                for (int i = 0; i < 3; i++) {
                    assertEquals(p[i], got[i], 1e-6, "step " + step + " index " + i);
                }
            }
            assertEquals(3, sgd.steps());
        }
    }

    /** A schedule changes lr between steps: PyTorch keeps buf, so the next update is lr_new·(μ·buf + d). */
    @Test
    void testSgdLearningRateChangeMatchesPyTorchSemantics() {
        double mu = 0.9, wd = 0.01;
        double[] rates = {0.1, 0.1, 0.02, 0.005, 0.05};
        float[] c = {0.5f, -2f, 3f};
        double[] p = {1, 2, -1};
        double[] buf = new double[3];
        try (NDManager m = PyTorchRuntime.engine().newBaseManager();
             MomentumSgd sgd = new MomentumSgd(m, rates[0], mu, wd)) {
            NDArray param = m.create(new float[] {1, 2, -1});
            param.setRequiresGradient(true);
            for (int step = 0; step < rates.length; step++) {
                sgd.setLearningRate(rates[step]);
                assertEquals((float) rates[step], sgd.learningRate());
                backwardLinear(m, param, c);
                try (NDManager scope = m.newSubManager()) {
                    sgd.step(scope, Map.of("p", param));
                }
                for (int i = 0; i < 3; i++) {
                    double d = c[i] + wd * p[i];
                    buf[i] = step == 0 ? d : mu * buf[i] + d;
                    p[i] -= rates[step] * buf[i];
                }
                float[] got = param.toFloatArray();
                for (int i = 0; i < 3; i++) {
                    assertEquals(p[i], got[i], 1e-5, "step " + step + " (lr " + rates[step] + ") index " + i);
                }
            }
            // the exported state is PyTorch's buf whatever rate is in force
            try (NDManager scope = m.newSubManager()) {
                float[] exported = sgd.stateTensors(scope).get("p").toFloatArray();
                for (int i = 0; i < 3; i++) {
                    assertEquals(buf[i], exported[i], 1e-4, "buf " + i);
                }
            }
        }
    }

    @Test
    void testAdamMatchesPyTorchSemantics() {
        double lr = 0.01;
        float[] c = {0.5f, -2f, 1e-3f};
        double[] p = {1, 2, -1};
        double[] mm = new double[3];
        double[] vv = new double[3];
        try (NDManager m = PyTorchRuntime.engine().newBaseManager();
             AdamOptimizer adam = new AdamOptimizer(m, lr)) {
            NDArray param = m.create(new float[] {1, 2, -1});
            param.setRequiresGradient(true);
            for (int t = 1; t <= 3; t++) {
                backwardLinear(m, param, c);
                try (NDManager scope = m.newSubManager()) {
                    adam.step(scope, Map.of("p", param));
                }
                for (int i = 0; i < 3; i++) {
                    mm[i] = 0.9 * mm[i] + 0.1 * c[i];
                    vv[i] = 0.999 * vv[i] + 0.001 * c[i] * c[i];
                    double bc1 = 1 - Math.pow(0.9, t);
                    double bc2 = 1 - Math.pow(0.999, t);
                    p[i] -= lr / bc1 * mm[i] / (Math.sqrt(vv[i]) / Math.sqrt(bc2) + 1e-8);
                }
                float[] got = param.toFloatArray();
                for (int i = 0; i < 3; i++) {
                    assertEquals(p[i], got[i], 1e-6, "t=" + t + " index " + i);
                }
            }
        }
    }

    @Test
    void testEachOptimizerUpdatesOnlyItsOwnGroup() {
        try (NDManager m = PyTorchRuntime.engine().newBaseManager();
             GatedNetwork net = new GatedNetwork(m, Architecture.lenet5Caffe(), GateKind.DEP_FORWARD, new GateNoise(5));
             MomentumSgd sgd = new MomentumSgd(m, 0.05, 0.9, 5e-4);
             AdamOptimizer adam = new AdamOptimizer(m, 1e-3)) {
            Set<NDArray> weights = Collections.newSetFromMap(new IdentityHashMap<>());
            weights.addAll(net.weights().values());
            for (NDArray g : net.gateParameters().values()) {
                assertFalse(weights.contains(g), "a gate parameter is also in the weight group");
            }
            Batch b = TestNetworks.syntheticBatch(new Random(3), 16, 1, 28, 28, 10);
            // Leave gradients in place: the helper copies and zeroes them, so compute again after.
            GradientTest.gradients(net, m, b, new GateNoise(1), 1e-3, false);
            Map<String, float[]> before = snapshot(net);
            recomputeGradients(net, m, b);
            try (NDManager scope = m.newSubManager()) {
                sgd.step(scope, net.weights());
            }
            Map<String, float[]> afterSgd = snapshot(net);
            for (String k : net.weights().keySet()) {
                assertFalse(Arrays.equals(before.get(k), afterSgd.get(k)), "SGD did not update " + k);
            }
            for (String k : net.gateParameters().keySet()) {
                assertTrue(Arrays.equals(before.get("gates." + k), afterSgd.get("gates." + k)), "SGD touched gate " + k);
            }
            try (NDManager scope = m.newSubManager()) {
                adam.step(scope, net.gateParameters());
            }
            Map<String, float[]> afterAdam = snapshot(net);
            for (String k : net.gateParameters().keySet()) {
                assertFalse(Arrays.equals(afterSgd.get("gates." + k), afterAdam.get("gates." + k)), "Adam did not update " + k);
            }
            for (String k : net.weights().keySet()) {
                assertTrue(Arrays.equals(afterSgd.get(k), afterAdam.get(k)), "Adam touched weight " + k);
            }
        }
    }

    private static void recomputeGradients(GatedNetwork net, NDManager m, Batch b) {
        try (NDManager scope = m.newSubManager()) {
            NDArray x = scope.create(b.images(), new ai.djl.ndarray.types.Shape(b.size(), 1, 28, 28));
            try (GradientCollector gc = PyTorchRuntime.engine().newGradientCollector()) {
                GatedNetwork.Forward f = net.forward(scope, x, true, new GateNoise(1));
                gc.backward(f.logits().sum().add(net.penalty(scope, f.logAlphas(), 1e-3)));
            }
        }
    }

    private static Map<String, float[]> snapshot(GatedNetwork net) {
        Map<String, float[]> s = new LinkedHashMap<>();
        net.weights().forEach((k, v) -> s.put(k, v.toFloatArray()));
        net.gateParameters().forEach((k, v) -> s.put("gates." + k, v.toFloatArray()));
        return s;
    }
}
