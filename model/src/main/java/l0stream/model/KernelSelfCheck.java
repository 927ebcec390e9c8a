package l0stream.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;

import java.util.Random;

/**
 * Checks, once per JVM, that libtorch's CPU convolution computes what a convolution is, against a
 * plain Java loop. On some processors the oneDNN kernels inside libtorch 2.7.1 do not: on an AMD EPYC
 * with avx512_vp2intersect, a 20→7-channel 5×5 convolution (LeNet-5's second layer) was off by up to
 * 1.6 on values of about 4 with every oneDNN ISA from AVX up, and right with
 * {@code ONEDNN_MAX_CPU_ISA=SSE41}; training there silently learnt garbage (gates all closed, NaN
 * gradients with two threads). A wrong answer must not train a model or serve it, so the engine
 * refuses to start, saying what to set. oneDNN reads the variable once, before the JVM could change
 * it: it has to be in the environment. {@code bin/l0stream} runs {@link #main} once per machine and
 * sets it when needed.
 */
public final class KernelSelfCheck {

    /** Relative error above which the kernel is wrong (float32 rounding is ~1e-6 here). */
    static final double TOLERANCE = 1e-3;

    private KernelSelfCheck() {}

    /** The largest error relative to the largest output magnitude over the checked convolutions. */
    public static double relativeError(Engine engine) {
        Random r = new Random(7);
        double worst = 0;
        try (NDManager m = engine.newBaseManager(ai.djl.Device.cpu())) {
            // {in, out, size, kernel, padding}: LeNet-5's layers (pruned and not) and a VGG-style 3×3
            for (int[] c : new int[][] {{20, 7, 12, 5, 0}, {20, 50, 12, 5, 0}, {1, 20, 28, 5, 0}, {3, 8, 32, 3, 1}, {16, 16, 16, 3, 1}}) {
                int cin = c[0], cout = c[1], hw = c[2], k = c[3], pad = c[4], n = 2;
                float[] x = new float[n * cin * hw * hw];
                float[] w = new float[cout * cin * k * k];
                for (int i = 0; i < x.length; i++) {
                    x[i] = r.nextFloat();
                }
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) r.nextGaussian() * 0.1f;
                }
                float[] got;
                try (NDManager s = m.newSubManager()) {
                    got = Conv2d.conv2d(s.create(x, new Shape(n, cin, hw, hw)), s.create(w, new Shape(cout, cin, k, k)), null,
                            new Shape(1, 1), new Shape(pad, pad), new Shape(1, 1), 1).singletonOrThrow().toFloatArray();
                }
                int ho = hw + 2 * pad - k + 1;
                double maxDiff = 0;
                double maxAbs = 1e-6;
                for (int b = 0; b < n; b++) {
                    for (int o = 0; o < cout; o++) {
                        for (int i = 0; i < ho; i++) {
                            for (int j = 0; j < ho; j++) {
                                double acc = 0;
                                for (int ci = 0; ci < cin; ci++) {
                                    for (int a = 0; a < k; a++) {
                                        int yy = i + a - pad;
                                        if (yy < 0 || yy >= hw) {
                                            continue;
                                        }
                                        for (int bb = 0; bb < k; bb++) {
                                            int xx = j + bb - pad;
                                            if (xx >= 0 && xx < hw) {
                                                acc += (double) x[((b * cin + ci) * hw + yy) * hw + xx] * w[((o * cin + ci) * k + a) * k + bb];
                                            }
                                        }
                                    }
                                }
                                maxDiff = Math.max(maxDiff, Math.abs(got[((b * cout + o) * ho + i) * ho + j] - acc));
                                maxAbs = Math.max(maxAbs, Math.abs(acc));
                            }
                        }
                    }
                }
                worst = Math.max(worst, maxDiff / maxAbs);
            }
        }
        return worst;
    }

    /** Throws if the convolution is wrong on this machine, naming the environment variable to set. */
    static void verify(Engine engine) {
        double e = onOwnThread("kernel-self-check", () -> relativeError(engine));
        if (!(e <= TOLERANCE)) {
            String isa = System.getenv("ONEDNN_MAX_CPU_ISA");
            throw new IllegalStateException(String.format(java.util.Locale.ROOT,
                    "libtorch's CPU convolution gives wrong results on this processor (relative error %.3g against a plain"
                            + " loop; its oneDNN kernels miscompute on some CPUs). Set the environment variable"
                            + " ONEDNN_MAX_CPU_ISA=SSE41 before starting the JVM (now %s); bin/l0stream finds and sets this"
                            + " by itself.", e, isa == null ? "unset" : isa));
        }
    }

    /**
     * Runs {@code work} on a thread of its own that ends with it ({@code bench pipeline}'s bare
     * loop runs on one too). Why: libgomp keeps a team of worker threads for every thread that ran
     * a parallel region, for as long as that thread lives, and once it manages more threads than
     * there are CPUs it stops spinning between regions and puts workers to sleep instead (its
     * "throttled" spin count). If the check's convolution ran on the JVM's main thread, which lives
     * for the whole job, a trainer on any other thread (every Flink task thread) would pay a futex
     * wake-up per parallel region from then on: on 2 cores the pipeline's learning steps took ~30 %
     * longer than the same steps on a thread of their own.
     */
    public static void onOwnThread(String name, Runnable work) {
        onOwnThread(name, () -> {
            work.run();
            return 0;
        });
    }

    /** {@link #onOwnThread(String, Runnable)} for work with a result. */
    public static double onOwnThread(String name, java.util.function.DoubleSupplier check) {
        double[] out = {Double.NaN};
        RuntimeException[] failure = {null};
        Thread t = new Thread(() -> {
            try {
                out[0] = check.getAsDouble();
            } catch (RuntimeException e) {
                failure[0] = e;
            }
        }, name);
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted during the kernel self-check", e);
        }
        if (failure[0] != null) {
            throw failure[0];
        }
        return out[0];
    }

    /** {@code bin/l0stream}'s probe: exit 0 if the kernels are right here, 3 if not. */
    public static void main(String[] args) {
        double e = relativeError(PyTorchRuntime.loadUnchecked());
        System.out.printf(java.util.Locale.ROOT, "convolution relative error %.3g (ONEDNN_MAX_CPU_ISA=%s)%n", e,
                System.getenv("ONEDNN_MAX_CPU_ISA"));
        System.exit(e <= TOLERANCE ? 0 : 3);
    }
}
