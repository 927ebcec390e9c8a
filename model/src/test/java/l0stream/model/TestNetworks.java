package l0stream.model;

import ai.djl.ndarray.NDArray;

import l0stream.model.gate.GateKind;
import l0stream.model.nn.Architecture;
import l0stream.model.nn.LayerSpec;
import l0stream.model.train.Batch;

import java.nio.FloatBuffer;
import java.util.List;
import java.util.Random;

/** Small shared fixtures for model tests. */
public final class TestNetworks {

    private TestNetworks() {}

    /** 1×8×8 input, conv(2, 3×3) gated, conv(3, 3×3) gated, dense(4). */
    public static Architecture toy() {
        return new Architecture("toy", 1, 8, 8, List.of(
                new LayerSpec.Conv(2, 3, 0, false, false, true),
                new LayerSpec.Conv(3, 3, 0, false, false, true),
                new LayerSpec.Dense(4, false, false)));
    }

    public static ModelConfig lenet(GateKind gates, double lambda, long seed) {
        return ModelConfig.builder().setNetwork("lenet5").setGates(gates).optLambda(lambda)
                .optSeed(seed).optDevice(DeviceChoice.CPU).build();
    }

    /** A synthetic, learnable batch: class c has a bright c-th horizontal band plus noise. */
    public static Batch syntheticBatch(Random rnd, int n, int channels, int h, int w, int classes) {
        float[] x = new float[n * channels * h * w];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            int c = rnd.nextInt(classes);
            y[i] = c;
            int band = c * h / classes;
            for (int ch = 0; ch < channels; ch++) {
                for (int r = 0; r < h; r++) {
                    for (int col = 0; col < w; col++) {
                        float v = 0.2f * rnd.nextFloat();
                        if (r >= band && r < band + Math.max(1, h / classes)) {
                            v += 0.8f;
                        }
                        x[((i * channels + ch) * h + r) * w + col] = v;
                    }
                }
            }
        }
        return new Batch(x, y);
    }

    public static void set(NDArray a, float[] values) {
        a.set(FloatBuffer.wrap(values));
    }

    public static float maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("length " + a.length + " != " + b.length);
        }
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    /**
     * Runs {@code body} with PyTorch's intra-op parallelism at one thread. Multi-threaded CPU
     * kernels are not bitwise deterministic on every processor (on an AMD EPYC here, two threads
     * gave vgg-narrow different losses from the second step on, dense or gated; one thread gave
     * identical runs), so tests that compare two runs bit for bit run single-threaded: what they
     * check is that state is complete, not the kernels' reduction order.
     */
    public static <T> T singleThreaded(java.util.concurrent.Callable<T> body) throws Exception {
        PyTorchRuntime.engine();
        int threads = ai.djl.pytorch.jni.JniUtils.getNumThreads();
        ai.djl.pytorch.jni.JniUtils.setNumThreads(1);
        try {
            return body.call();
        } finally {
            ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
        }
    }

    /** Test-time gate patterns per gated layer: log α values (≤ −2.4 is a deterministic zero). */
    public static float[] gatePattern(String kind, int width, Random rnd) {
        float[] la = new float[width];
        for (int j = 0; j < width; j++) {
            switch (kind) {
                case "all-open" -> la[j] = 5f;
                case "single" -> la[j] = j == width / 2 ? 0.7f : -6f;
                case "all-closed" -> la[j] = -6f;
                default -> la[j] = rnd.nextFloat() < 0.5f ? -6f : (float) (rnd.nextGaussian() * 1.5); // mixed
            }
        }
        return la;
    }

    /** Non-trivial BatchNorm statistics and affine parameters, so that folding them is exercised. */
    public static void randomizeBatchNorm(l0stream.model.nn.GatedNetwork net, Random rnd) {
        for (java.util.Map.Entry<String, NDArray> e : net.buffers().entrySet()) {
            float[] v = new float[(int) e.getValue().getShape().size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = e.getKey().endsWith("running_var") ? 0.5f + rnd.nextFloat() : (float) rnd.nextGaussian() * 0.3f;
            }
            set(e.getValue(), v);
        }
        net.weights().forEach((k, a) -> {
            if (k.endsWith("bn.gamma") || k.endsWith("bn.beta")) {
                float[] v = new float[(int) a.getShape().size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (k.endsWith("gamma") ? 0.5 + rnd.nextFloat() : rnd.nextGaussian() * 0.2);
                }
                set(a, v);
            }
        });
    }
}
