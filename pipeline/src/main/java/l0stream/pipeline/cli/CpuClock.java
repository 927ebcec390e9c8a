package l0stream.pipeline.cli;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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

    /**
     * Samples this JVM's and one other process's CPU time every 100 ms, and this JVM's threads every
     * 2 s, until {@code stop}. Sparse on purpose: the sampler's own CPU counts in what it measures.
     */
    static final class Sampler extends Thread {
        private static final long PERIOD_MS = 100;
        private static final int THREADS_EVERY = 20;
        private final ProcessHandle other;
        private final AtomicBoolean stop;
        private final List<long[]> samples = new ArrayList<>();
        private final List<Map.Entry<Long, Map<Integer, ThreadTicks>>> threadSamples = new ArrayList<>();

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
                    if (samples.size() % THREADS_EVERY == 0) {
                        threadSamples.add(Map.entry(s[0], ThreadTicks.readAll()));
                    }
                    samples.add(s);
                }
                try {
                    Thread.sleep(PERIOD_MS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        /**
         * {JVM ns, other ns} spent between {@code fromNanos} and {@code toNanos}, each end interpolated
         * linearly between the samples around it; null unless both ends lie inside the sampled span.
         */
        long[] between(long fromNanos, long toNanos) {
            synchronized (samples) {
                long[] a = at(fromNanos);
                long[] b = at(toNanos);
                return a == null || b == null ? null : new long[] {b[0] - a[0], b[1] - a[1]};
            }
        }

        private long[] at(long t) {
            for (int i = 1; i < samples.size(); i++) {
                long[] p = samples.get(i - 1);
                long[] q = samples.get(i);
                if (p[0] <= t && t <= q[0]) {
                    double f = q[0] == p[0] ? 0 : (t - p[0]) / (double) (q[0] - p[0]);
                    return new long[] {p[1] + Math.round(f * (q[1] - p[1])), p[2] + Math.round(f * (q[2] - p[2]))};
                }
            }
            return null;
        }

        /**
         * CPU seconds per thread group (thread names with their numbers removed) between the last
         * thread samples at or before {@code fromNanos} and {@code toNanos}, and the seconds between those samples
         * (key {@code ""}); threads born in between count from 0. Empty where /proc is not there (not Linux).
         */
        Map<String, Double> threadsBetween(long fromNanos, long toNanos) {
            Map<String, Double> out = new TreeMap<>();
            synchronized (samples) {
                Map.Entry<Long, Map<Integer, ThreadTicks>> a = atOrBefore(fromNanos);
                Map.Entry<Long, Map<Integer, ThreadTicks>> b = atOrBefore(toNanos);
                if (a == null || b == null || a == b || a.getValue().isEmpty()) {
                    return out;
                }
                for (var e : b.getValue().entrySet()) {
                    ThreadTicks before = a.getValue().get(e.getKey());
                    long ticks = e.getValue().ticks() - (before == null ? 0 : before.ticks());
                    out.merge(e.getValue().group(), ticks / (double) ThreadTicks.HZ, Double::sum);
                }
                out.put("", (b.getKey() - a.getKey()) / 1e9);
            }
            return out;
        }

        /**
         * The last thread sample taken at or before {@code t} (the first one if none was): never one
         * taken after the window, when the job's task threads may be gone and their time with them.
         */
        private Map.Entry<Long, Map<Integer, ThreadTicks>> atOrBefore(long t) {
            Map.Entry<Long, Map<Integer, ThreadTicks>> best = threadSamples.isEmpty() ? null : threadSamples.get(0);
            for (var s : threadSamples) {
                if (s.getKey() <= t) {
                    best = s;
                }
            }
            return best;
        }
    }

    /** One thread's name and CPU time (user + system clock ticks) from /proc/self/task/TID/stat. */
    record ThreadTicks(String name, long ticks) {
        /** Linux's USER_HZ, 100 on every common architecture. */
        static final int HZ = 100;

        /**
         * The name without its numbers, so that "GC Thread#0" and "GC Thread#1" add up. Linux keeps 15
         * characters of a name; native threads (PyTorch's OpenMP workers) inherit their creator's.
         */
        String group() {
            String g = name.replaceAll("[0-9]+", "#").trim();
            return g.isEmpty() ? "?" : g;
        }

        static Map<Integer, ThreadTicks> readAll() {
            Map<Integer, ThreadTicks> out = new HashMap<>();
            File[] tasks = new File("/proc/self/task").listFiles();
            if (tasks == null) {
                return out;
            }
            for (File t : tasks) {
                try {
                    String stat = Files.readString(t.toPath().resolve("stat"));
                    int open = stat.indexOf('(');
                    int close = stat.lastIndexOf(')');
                    // after "pid (comm) ": state, ppid, ... utime and stime are fields 14 and 15 of stat(5)
                    String[] f = stat.substring(close + 2).split(" ");
                    out.put(Integer.parseInt(t.getName()),
                            new ThreadTicks(stat.substring(open + 1, close), Long.parseLong(f[11]) + Long.parseLong(f[12])));
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile
                }
            }
            return out;
        }
    }
}
