package l0stream.model;

import com.sun.jna.Library;
import com.sun.jna.Native;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps glibc's allocator from handing libtorch's tensor memory back to the kernel after every
 * step, which made page faults the largest single cost of a training step.
 *
 * <p>Why: every step allocates and frees the same few activation and gradient buffers (LeNet at
 * batch 64: ~3 MB each). glibc serves blocks above its mmap threshold (128 KiB, raised only after
 * such a block is freed) with fresh {@code mmap}s and trims the top of its heaps above 128 KiB of
 * free space, so the same memory went back to the kernel and was faulted in again, page by page,
 * on every step: ~6,000 minor faults per step, and 35–45 % of the step time in the kernel and in
 * memory-bound backward ops (ReLU and max-pool backward took 15× longer than after the change).
 * Measured side by side (docs/performance.md): median step 31–34 ms → 20–21 ms for dense LeNet-5
 * at batch 64 on 2 cores, and system time 6.0–6.8 s → 0.7–1.2 s over 1,350 steps.
 *
 * <p>Threads other than the JVM's main one (every Flink task thread) allocate from glibc's per-thread
 * arenas, whose 64 MiB heaps are unmapped as soon as one is entirely free, whatever the trim
 * threshold: in {@code bench pipeline} the trainer's learning steps ran at half the bare loop's speed
 * over 51,200 records until the top pad was raised too (0.47 → 0.77–0.83 of the bare loop, same run
 * length, system time 48 → 18–22 s).
 *
 * <p>How: {@code mallopt} raises the mmap threshold to {@value #MMAP_THRESHOLD} bytes, the trim
 * threshold to {@value #TRIM_THRESHOLD} bytes and the top pad (the free room a heap keeps, which is
 * also what decides whether a per-thread heap may go) to {@value #TOP_PAD} bytes. The freed buffers
 * stay in the heap and are reused by the next step, so the resident size stays at the working set's
 * peak (plus at most the trim threshold per arena that held it) instead of swinging around it; it
 * does not grow over a long run. A
 * {@code GLIBC_TUNABLES} setting of the user's for malloc wins (nothing is changed then), and on a
 * C library without {@code mallopt} (musl, macOS) this does nothing.
 */
public final class NativeHeapTuning {

    /** Blocks below this come from the heap and are reused; glibc's dynamic maximum is 32 MiB. */
    public static final int MMAP_THRESHOLD = 64 << 20;
    /** Free memory at the top of a heap up to this stays mapped. */
    public static final int TRIM_THRESHOLD = 256 << 20;
    /** A per-thread arena's heap (64 MiB at most) is never given back while it could serve this much. */
    public static final int TOP_PAD = 64 << 20;

    // glibc's malloc.h
    private static final int M_TRIM_THRESHOLD = -1;
    private static final int M_TOP_PAD = -2;
    private static final int M_MMAP_THRESHOLD = -3;

    private static final Logger LOG = LoggerFactory.getLogger(NativeHeapTuning.class);
    private static volatile Boolean applied;

    private NativeHeapTuning() {}

    /** The C library's {@code mallopt}. */
    interface CLibrary extends Library {
        int mallopt(int param, int value);
    }

    /**
     * Applies the thresholds once per process; returns whether they are in effect (false: the
     * user's {@code GLIBC_TUNABLES} decides, or this C library has no {@code mallopt}).
     */
    public static synchronized boolean apply() {
        if (applied != null) {
            return applied;
        }
        String tunables = System.getenv("GLIBC_TUNABLES");
        if (tunables != null && tunables.contains("glibc.malloc.")) {
            LOG.info("Native heap: GLIBC_TUNABLES sets malloc ({}); not tuned here", tunables);
            applied = false;
            return false;
        }
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            applied = false;
            return false;
        }
        boolean ok;
        try {
            CLibrary c = Native.load("c", CLibrary.class);
            // mallopt returns 1 on success, 0 on error
            ok = c.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 & c.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
                    & c.mallopt(M_TOP_PAD, TOP_PAD) == 1;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            LOG.info("Native heap: no mallopt in this C library ({}); allocator left as it is", e.toString());
            ok = false;
        }
        if (ok) {
            LOG.debug("Native heap: mmap threshold {} MiB, trim threshold {} MiB, top pad {} MiB",
                    MMAP_THRESHOLD >> 20, TRIM_THRESHOLD >> 20, TOP_PAD >> 20);
        }
        applied = ok;
        return ok;
    }
}
