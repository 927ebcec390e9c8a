package l0stream.model.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import l0stream.model.DeviceChoice;
import l0stream.model.PyTorchRuntime;
import l0stream.model.SnapshotPredictor;
import l0stream.model.TestNetworks;
import l0stream.model.gate.GateKind;
import l0stream.model.gate.GateNoise;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** The compact network computes exactly what the gated network computes at test time. */
class PruningTest {

    private static void check(Architecture arch, List<String> patterns) {
        Random rnd = new Random(11);
        try (NDManager m = PyTorchRuntime.engine().newBaseManager();
             GatedNetwork net = new GatedNetwork(m, arch, GateKind.HC, new GateNoise(2))) {
            TestNetworks.randomizeBatchNorm(net, rnd);
            int[] widths = arch.gatedWidths();
            for (int g = 0; g < widths.length; g++) {
                TestNetworks.set(net.gateParameters().get("log_alpha" + g), TestNetworks.gatePattern(patterns.get(g % patterns.size()), widths[g], rnd));
            }
            int n = 5;
            float[] x = new float[n * arch.inputSize()];
            for (int i = 0; i < x.length; i++) {
                x[i] = rnd.nextFloat();
            }
            float[] gated;
            try (NDManager scope = m.newSubManager()) {
                NDArray in = scope.create(x, new Shape(n, arch.inputChannels(), arch.inputHeight(), arch.inputWidth()));
                gated = net.forward(scope, in, false, null).logits().toFloatArray();
            }
            CompactNetwork compact = ChannelPruner.prune(net);
            // widths: open channels, or 1 where a layer closed completely
            int[] open = net.openChannels();
            int[] gl = arch.gatedLayers();
            for (int g = 0; g < gl.length; g++) {
                assertEquals(Math.max(1, open[g]), compact.architecture().layers().get(gl[g]).width(), "layer " + gl[g]);
            }
            try (SnapshotPredictor p = SnapshotPredictor.of(compact, JsonNodeFactory.instance.objectNode(), DeviceChoice.CPU)) {
                float[] got = p.logits(x, n);
                float diff = TestNetworks.maxAbsDiff(gated, got);
                float scale = TestNetworks.maxAbsDiff(gated, new float[gated.length]);
                assertTrue(diff <= 1e-4, arch.name() + " " + patterns + ": compact differs by " + diff + " (logits up to " + scale + ")");
            }
            // analytic cost of the compact network
            assertEquals(analyticCost(compact.architecture()), compact.cost());
        }
    }

    /** Written out per layer kind, independently of NetworkCost's loop. */
    private static NetworkCost analyticCost(Architecture a) {
        double flops = 0, params = 0;
        int c = a.inputChannels(), h = a.inputHeight(), w = a.inputWidth();
        for (LayerSpec l : a.layers()) {
            if (l instanceof LayerSpec.Conv conv) {
                int oh = h + 2 * conv.padding() - conv.kernel() + 1;
                int ow = w + 2 * conv.padding() - conv.kernel() + 1;
                double kw = (double) conv.kernel() * conv.kernel() * c * l.width();
                flops += kw * oh * ow;
                params += kw + (conv.batchNorm() ? 2.0 * l.width() : l.width());
                h = conv.pool() ? oh / 2 : oh;
                w = conv.pool() ? ow / 2 : ow;
                c = l.width();
            } else {
                double in = (double) c * h * w;
                flops += in * l.width();
                params += in * l.width() + l.width();
                c = l.width();
                h = 1;
                w = 1;
            }
        }
        return new NetworkCost(flops, params);
    }

    @Test
    void testLenetCompactEqualsGatedForSeveralPatterns() {
        check(Architecture.lenet5Caffe(), List.of("mixed"));
        check(Architecture.lenet5Caffe(), List.of("single", "mixed", "single"));
        check(Architecture.lenet5Caffe(), List.of("all-open"));
        check(Architecture.lenet5Caffe(), List.of("mixed", "all-closed", "mixed"));
    }

    @Test
    void testVggNarrowWithBatchNormCompactEqualsGated() {
        check(Architecture.vggNarrow(), List.of("mixed"));
        check(Architecture.vggNarrow(), List.of("mixed", "single"));
    }

    @Test
    void testDenseLenetCostMatchesKnownCounts() {
        NetworkCost c = NetworkCost.of(Architecture.lenet5Caffe());
        // conv1 20·25·24·24, conv2 50·20·25·8·8, fc 800·500, fc 500·10
        assertEquals(288_000 + 1_600_000 + 400_000 + 5_000, c.flops(), 0);
        assertEquals(520 + 25_050 + 400_500 + 5_010, c.params(), 0);
        assertEquals(analyticCost(Architecture.vgg16()), NetworkCost.of(Architecture.vgg16()));
    }

    @Test
    void testExpectedCostOfAFullyOpenNetworkIsNearDense() {
        try (NDManager m = PyTorchRuntime.engine().newBaseManager();
             GatedNetwork net = new GatedNetwork(m, Architecture.lenet5Caffe(), GateKind.HC, new GateNoise(2))) {
            double[] e = net.expectedOpen();
            // log α ≈ 3 → P(open) = σ(3 + 1.5986) ≈ 0.990
            assertEquals(20 * 0.990, e[0], 0.1, Arrays.toString(e));
            assertTrue(net.expectedCost().flops() < NetworkCost.of(Architecture.lenet5Caffe()).flops());
        }
    }
}
