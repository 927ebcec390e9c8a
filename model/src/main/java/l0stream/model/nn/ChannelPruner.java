package l0stream.model.nn;

import ai.djl.ndarray.NDArray;

import l0stream.model.artifact.TensorArchive.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a gated network into a {@link CompactNetwork} using its deterministic test-time gates z.
 *
 * <p>Every channel/unit with z = 0 is removed: its conv filter or weight row, its bias and BN
 * entries, and the matching input slice of the next layer (for a dense layer after a conv, the
 * channel's H·W flattened features). The surviving z are folded in: into BN's γ and β where the
 * layer has BatchNorm, otherwise into the weights and bias. Since z ≥ 0, ReLU(z·x) = z·ReLU(x),
 * and max-pooling commutes with a non-negative per-channel scale, so the compact network computes
 * the gated network's test-time function exactly (up to float rounding).
 *
 * <p>A layer whose gates are all closed keeps one channel whose folded scale is 0: a constant
 * zero output, which is what the gated network computes, without a zero-width tensor.
 */
public final class ChannelPruner {

    private ChannelPruner() {}

    public static CompactNetwork prune(GatedNetwork network) {
        Architecture arch = network.architecture();
        float[][] gates = network.testGates();
        int[] gatedLayers = arch.gatedLayers();
        Map<String, NDArray> params = new LinkedHashMap<>(network.weights());
        params.putAll(network.buffers());

        List<LayerSpec> layers = arch.layers();
        int[] spatial = arch.inputSpatial();
        Map<String, Tensor> out = new LinkedHashMap<>();
        List<LayerSpec> compact = new ArrayList<>();
        int[] prevKeep = range(arch.inputChannels());
        int prevWidth = arch.inputChannels();
        int g = 0;
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec l = layers.get(i);
            String p = "layer" + i + ".";
            float[] z = null;
            int[] keep;
            if (l.gated()) {
                z = gates[g++];
                keep = open(z);
            } else {
                keep = range(l.width());
            }
            float[] scale = new float[keep.length];
            for (int k = 0; k < keep.length; k++) {
                scale[k] = z == null ? 1f : z[keep[k]];
            }
            boolean foldIntoBn = l instanceof LayerSpec.Conv c && c.batchNorm();
            float[] w = params.get(p + "weight").toFloatArray();
            if (l instanceof LayerSpec.Conv c) {
                int kk = c.kernel() * c.kernel();
                float[] nw = new float[keep.length * prevKeep.length * kk];
                for (int o = 0; o < keep.length; o++) {
                    for (int ic = 0; ic < prevKeep.length; ic++) {
                        int src = (keep[o] * prevWidth + prevKeep[ic]) * kk;
                        int dst = (o * prevKeep.length + ic) * kk;
                        for (int k = 0; k < kk; k++) {
                            nw[dst + k] = foldIntoBn ? w[src + k] : w[src + k] * scale[o];
                        }
                    }
                }
                out.put(p + "weight", new Tensor(p + "weight",
                        new long[] {keep.length, prevKeep.length, c.kernel(), c.kernel()}, nw));
            } else {
                int s = spatial[i];
                int fanIn = prevWidth * s;
                int[] cols = new int[prevKeep.length * s];
                for (int ic = 0; ic < prevKeep.length; ic++) {
                    for (int k = 0; k < s; k++) {
                        cols[ic * s + k] = prevKeep[ic] * s + k;
                    }
                }
                float[] nw = new float[keep.length * cols.length];
                for (int o = 0; o < keep.length; o++) {
                    for (int c = 0; c < cols.length; c++) {
                        nw[o * cols.length + c] = w[keep[o] * fanIn + cols[c]] * scale[o];
                    }
                }
                out.put(p + "weight", new Tensor(p + "weight", new long[] {keep.length, cols.length}, nw));
            }
            if (params.containsKey(p + "bias")) {
                out.put(p + "bias", sliced(p + "bias", params, keep, foldIntoBn ? null : scale));
            }
            if (foldIntoBn) {
                out.put(p + "bn.gamma", sliced(p + "bn.gamma", params, keep, scale));
                out.put(p + "bn.beta", sliced(p + "bn.beta", params, keep, scale));
                out.put(p + "bn.running_mean", sliced(p + "bn.running_mean", params, keep, null));
                out.put(p + "bn.running_var", sliced(p + "bn.running_var", params, keep, null));
            }
            compact.add(ungated(l, keep.length));
            prevKeep = keep;
            prevWidth = l.width();
        }
        assert g == gatedLayers.length;
        Architecture arch2 = new Architecture(arch.name(), arch.inputChannels(), arch.inputHeight(),
                arch.inputWidth(), compact);
        return new CompactNetwork(arch2, out);
    }

    private static LayerSpec ungated(LayerSpec l, int width) {
        if (l instanceof LayerSpec.Conv c) {
            return new LayerSpec.Conv(width, c.kernel(), c.padding(), c.batchNorm(), c.pool(), false);
        }
        LayerSpec.Dense d = (LayerSpec.Dense) l;
        return new LayerSpec.Dense(width, false, d.relu());
    }

    private static Tensor sliced(String name, Map<String, NDArray> params, int[] keep, float[] scale) {
        float[] v = params.get(name).toFloatArray();
        float[] r = new float[keep.length];
        for (int k = 0; k < keep.length; k++) {
            r[k] = scale == null ? v[keep[k]] : v[keep[k]] * scale[k];
        }
        return new Tensor(name, new long[] {keep.length}, r);
    }

    /** Indices with z > 0; if none, the single index 0 (its scale is 0, so it outputs zeros). */
    static int[] open(float[] z) {
        int n = 0;
        for (float v : z) {
            n += v > 0 ? 1 : 0;
        }
        if (n == 0) {
            return new int[] {0};
        }
        int[] keep = new int[n];
        int k = 0;
        for (int j = 0; j < z.length; j++) {
            if (z[j] > 0) {
                keep[k++] = j;
            }
        }
        return keep;
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }
}
