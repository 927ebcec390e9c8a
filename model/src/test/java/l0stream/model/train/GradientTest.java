package l0stream.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import l0stream.model.PyTorchRuntime;
import l0stream.model.TestNetworks;
import l0stream.model.gate.GateKind;
import l0stream.model.gate.GateNoise;
import l0stream.model.nn.Architecture;
import l0stream.model.nn.GatedNetwork;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

class GradientTest {

    /** Runs forward + backward once and returns a copy of every parameter's gradient. */
    static Map<String, float[]> gradients(GatedNetwork net, NDManager m, Batch b, GateNoise noise,
                                          double lambda, boolean gcBetween) {
        Architecture a = net.architecture();
        Map<String, float[]> out = new LinkedHashMap<>();
        try (NDManager scope = m.newSubManager()) {
            NDArray x = scope.create(b.images(), new Shape(b.size(), a.inputChannels(), a.inputHeight(), a.inputWidth()));
            long[] labels = new long[b.size()];
            for (int i = 0; i < labels.length; i++) {
                labels[i] = b.labels()[i];
            }
            NDArray y = scope.create(labels);
            try (GradientCollector gc = PyTorchRuntime.engine().newGradientCollector()) {
                GatedNetwork.Forward f = net.forward(scope, x, true, noise);
                NDArray loss = f.logits().logSoftmax(1).mul(y.oneHot(a.numClasses())).sum(new int[] {1}).mean().neg()
                        .add(net.penalty(scope, f.logAlphas(), lambda));
                if (gcBetween) {
                    // Any direct buffer DJL freed too early would be reclaimed here.
                    for (int i = 0; i < 3; i++) {
                        System.gc();
                        byte[][] churn = new byte[64][];
                        for (int j = 0; j < churn.length; j++) {
                            churn[j] = new byte[1 << 16];
                        }
                    }
                }
                gc.backward(loss);
            }
            Map<String, NDArray> all = new LinkedHashMap<>(net.weights());
            net.gateParameters().forEach((k, v) -> all.put("gates." + k, v));
            for (Map.Entry<String, NDArray> e : all.entrySet()) {
                NDArray g = ParameterOptimizer.gradient(scope, e.getValue());
                out.put(e.getKey(), g.toFloatArray());
                ParameterOptimizer.zeroGradient(e.getValue());
            }
        }
        return out;
    }

    private static Batch batch(long seed) {
        return TestNetworks.syntheticBatch(new Random(seed), 16, 1, 28, 28, 10);
    }

    @Test
    void testGradientsReachGeneratorFiniteAndNonZero() {
        for (GateKind kind : new GateKind[] {GateKind.DEP_FORWARD, GateKind.DEP_BACKWARD, GateKind.HC}) {
            try (NDManager m = PyTorchRuntime.engine().newBaseManager();
                 GatedNetwork net = new GatedNetwork(m, Architecture.lenet5Caffe(), kind, new GateNoise(5))) {
                Map<String, float[]> g = gradients(net, m, batch(1), new GateNoise(9), 1e-4, false);
                for (String name : net.gateParameters().keySet()) {
                    float[] v = g.get("gates." + name);
                    double norm = 0;
                    for (float f : v) {
                        assertTrue(Float.isFinite(f), kind + " " + name + " has a non-finite gradient");
                        norm += f * f;
                    }
                    assertTrue(norm > 0, kind + " " + name + " got no gradient");
                }
            }
        }
    }

    @Test
    void testScalarGradientBugRegressionWithForcedGc() {
        Map<String, float[]> withGc;
        Map<String, float[]> without;
        try (NDManager m = PyTorchRuntime.engine().newBaseManager()) {
            try (GatedNetwork net = new GatedNetwork(m, Architecture.lenet5Caffe(), GateKind.DEP_FORWARD, new GateNoise(5))) {
                without = gradients(net, m, batch(2), new GateNoise(11), 1e-3, false);
            }
            try (GatedNetwork net = new GatedNetwork(m, Architecture.lenet5Caffe(), GateKind.DEP_FORWARD, new GateNoise(5))) {
                withGc = gradients(net, m, batch(2), new GateNoise(11), 1e-3, true);
            }
        }
        assertEquals(without.keySet(), withGc.keySet());
        for (String k : without.keySet()) {
            for (float f : withGc.get(k)) {
                assertTrue(Float.isFinite(f), k + " gradient is not finite after a GC");
            }
            assertTrue(TestNetworks.maxAbsDiff(without.get(k), withGc.get(k)) <= 1e-6,
                    k + " gradient changed because of a GC between forward and backward");
        }
    }
}
