package l0stream.pipeline.cli;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * CPU time of the processes a benchmark runs, for figures that hold on a shared, noisy machine:
 * CPU-seconds per image do not change when another tenant takes a core, images per wall-second do.
 */
final class CpuClock {

    private CpuClock() {}

    /** CPU time of this JVM's process so far (all threads, native ones such as PyTorch's included), ns. */
    static long jvmNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** CPU time of another process so far, ns; 0 if the OS does not say. */
    static long processNanos(ProcessHandle p) {
        return p == null ? 0 : p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
    }

    /** Samples this JVM's and one other process's CPU time every 50 ms until {@code stop}. */
    static final class Sampler extends Thread {
        private final ProcessHandle other;
        private final AtomicBoolean stop;
        private final List<long[]> samples = new ArrayList<>();

        Sampler(ProcessHandle other, AtomicBoolean stop) {
            super("cpu-sampler");
            setDaemon(true);
            this.other = other;
            this.stop = stop;
        }

        @Override
        public void run() {
            while (!stop.get()) {
                long[] s = {System.nanoTime(), jvmNanos(), processNanos(other)};
                synchronized (samples) {
                    samples.add(s);
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        /** {JVM ns, other ns} spent between the samples nearest {@code fromNanos} and {@code toNanos}; null if none. */
        long[] between(long fromNanos, long toNanos) {
            synchronized (samples) {
                long[] a = nearest(fromNanos);
                long[] b = nearest(toNanos);
                return a == null || b == null || a == b ? null : new long[] {b[1] - a[1], b[2] - a[2]};
            }
        }

        private long[] nearest(long t) {
            long[] best = null;
            for (long[] s : samples) {
                if (best == null || Math.abs(s[0] - t) < Math.abs(best[0] - t)) {
                    best = s;
                }
            }
            return best;
        }
    }
}
