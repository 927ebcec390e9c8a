package l0stream.pipeline.cluster;

import l0stream.connectors.cli.Workspace;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessSpec;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.apache.flink.runtime.util.config.memory.ProcessMemoryUtils;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A local standalone Flink session cluster built from the Maven jars (flink-dist, with its
 * {@code bin/} scripts and {@code lib/}, is not on Maven Central): one JobManager JVM
 * ({@code StandaloneSessionClusterEntrypoint}) and N TaskManager JVMs ({@code TaskManagerRunner}),
 * each a separate process with its own log and pid file, all reading {@code conf/config.yaml}
 * under the cluster directory (default {@code var/flink-cluster}).
 *
 * <p>The processes' classpath is the cluster's "lib": Flink, the Kafka connector, DJL with the
 * PyTorch natives, and their dependencies, but none of l0stream's own classes; those travel in the
 * job jar ({@link JobJar}). {@code classloader.parent-first-patterns.additional: ai.djl.} makes
 * every job load DJL from the cluster's classpath, so the PyTorch native library is loaded once
 * per TaskManager JVM and survives job restarts and resubmissions (a second load from another
 * user-code classloader fails with "already loaded in another classloader").
 *
 * <p>The JVM memory flags are derived from the configuration exactly as Flink's
 * {@code bin/config.sh} does it (TaskExecutorProcessUtils / JobManagerProcessUtils).
 */
public final class LocalFlinkCluster implements AutoCloseable {

    static final String JM_MAIN = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    static final String TM_MAIN = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";

    /** The flags every JVM we start needs (Flink on Java 17; see shared/STACK.md). */
    static final List<String> ADD_OPENS = List.of("java.lang", "java.util", "java.util.concurrent",
            "java.util.concurrent.atomic", "java.util.concurrent.locks", "java.io", "java.nio", "sun.nio.ch", "java.net",
            "java.lang.reflect", "java.text", "java.time");

    /**
     * Where and how to run it.
     *
     * @param dir           cluster directory: conf/, log/, pid files, checkpoints/, savepoints/, work/
     * @param taskManagers  how many TaskManager JVMs
     * @param slotsPerTaskManager task slots per TaskManager (1: one trainer per JVM, as PyTorch allows
     *                      one gradient collector per JVM)
     * @param restPort      the JobManager's REST API and web UI
     * @param rpcPort       the JobManager's RPC port
     * @param metricsPorts  Prometheus reporter port range of every JVM ("9249-9259"), or empty for none
     * @param torchThreads  PyTorch intra-op threads per TaskManager
     * @param tmProcessMemory TaskManager process size (Flink's taskmanager.memory.process.size)
     * @param jmProcessMemory JobManager process size
     * @param heartbeatTimeoutMs how soon a dead TaskManager is declared lost
     * @param lib           the cluster's classpath entries
     */
    public record Settings(Path dir, int taskManagers, int slotsPerTaskManager, int restPort, int rpcPort,
                           String metricsPorts, int torchThreads, String tmProcessMemory, String jmProcessMemory,
                           long heartbeatTimeoutMs, List<String> lib) {

        public Settings {
            if (taskManagers < 1 || taskManagers > 16) {
                throw new IllegalArgumentException("Invalid value " + taskManagers + " for --taskmanagers: must be 1-16");
            }
            if (slotsPerTaskManager < 1) {
                throw new IllegalArgumentException("Invalid value " + slotsPerTaskManager + " for --slots: must be >= 1");
            }
            checkPort(restPort, "--rest-port");
            checkPort(rpcPort, "--rpc-port");
            if (restPort == rpcPort) {
                throw new IllegalArgumentException("Invalid value " + rpcPort + " for --rpc-port: must differ from --rest-port");
            }
            if (torchThreads < 1) {
                throw new IllegalArgumentException("Invalid value " + torchThreads + " for --torch-threads: must be >= 1");
            }
            if (lib == null || lib.isEmpty()) {
                throw new IllegalArgumentException("The cluster classpath is empty: build first (bin/l0stream build)");
            }
            dir = dir.toAbsolutePath().normalize();
            metricsPorts = metricsPorts == null ? "" : metricsPorts.trim();
            lib = List.copyOf(lib);
        }

        /**
         * Defaults: {@code var/flink-cluster}, 1 slot per TaskManager, REST on 8081, RPC on 6123,
         * Prometheus on 9249-9259, the cluster's classpath taken from this JVM's classpath.
         */
        public static Settings defaults(int taskManagers) {
            // the trainer runs with parallelism 1: one TaskManager trains at a time
            int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
            return new Settings(Workspace.var().resolve("flink-cluster"), taskManagers, 1, 8081, 6123, "9249-9259",
                    threads, "1728m", "1024m", 10_000, ClusterClasspath.lib(System.getProperty("java.class.path")));
        }

        public Settings withPorts(int rest, int rpc, String metrics) {
            return new Settings(dir, taskManagers, slotsPerTaskManager, rest, rpc, metrics, torchThreads, tmProcessMemory,
                    jmProcessMemory, heartbeatTimeoutMs, lib);
        }

        public Settings withDir(Path d) {
            return new Settings(d, taskManagers, slotsPerTaskManager, restPort, rpcPort, metricsPorts, torchThreads,
                    tmProcessMemory, jmProcessMemory, heartbeatTimeoutMs, lib);
        }

        public Settings withTorchThreads(int n) {
            return new Settings(dir, taskManagers, slotsPerTaskManager, restPort, rpcPort, metricsPorts, n,
                    tmProcessMemory, jmProcessMemory, heartbeatTimeoutMs, lib);
        }

        public String restAddress() {
            return "127.0.0.1:" + restPort;
        }

        public Path confDir() {
            return dir.resolve("conf");
        }

        public Path logDir() {
            return dir.resolve("log");
        }

        private static void checkPort(int p, String field) {
            if (p < 1 || p > 65535) {
                throw new IllegalArgumentException("Invalid value " + p + " for " + field + ": must be a TCP port 1-65535");
            }
        }
    }

    /** One JVM of the cluster: "jobmanager" or "taskmanager-i". */
    public record Member(String name, long pid, Path log) {}

    private final Settings settings;
    private final FlinkRest rest;

    private LocalFlinkCluster(Settings settings) {
        this.settings = settings;
        this.rest = new FlinkRest(settings.restAddress());
    }

    public Settings settings() {
        return settings;
    }

    public FlinkRest rest() {
        return rest;
    }

    public String restAddress() {
        return settings.restAddress();
    }

    /**
     * Starts the JobManager and the TaskManagers (they outlive this JVM; {@link #stop} or
     * {@link #close} ends them) and waits until the REST API reports every TaskManager registered.
     */
    public static LocalFlinkCluster start(Settings s, Duration timeout) {
        List<Member> live = running(s.dir());
        if (!live.isEmpty()) {
            throw new IllegalStateException("A Flink cluster is already running from " + s.dir() + " ("
                    + live.stream().map(m -> m.name() + " pid " + m.pid()).toList() + "); stop it first: bin/l0stream cluster stop");
        }
        FlinkRest probe = new FlinkRest(s.restAddress());
        if (probe.answers(Duration.ofSeconds(2))) {
            throw new IllegalStateException("Something already answers on http://" + s.restAddress()
                    + " (another cluster, or a demo's embedded web UI); choose another --rest-port");
        }
        LocalFlinkCluster c = new LocalFlinkCluster(s);
        try {
            Files.createDirectories(s.confDir());
            Files.createDirectories(s.logDir());
            Files.createDirectories(s.dir().resolve("work"));
            Files.writeString(s.confDir().resolve("config.yaml"), configYaml(s), StandardCharsets.UTF_8);
            Configuration conf = GlobalConfiguration.loadConfiguration(s.confDir().toString());
            c.launch("jobmanager", JM_MAIN, jobManagerJvmFlags(conf), List.of());
            for (int i = 1; i <= s.taskManagers(); i++) {
                TaskExecutorProcessSpec spec = TaskExecutorProcessUtils.processSpecFromConfig(conf);
                List<String> jvm = split(ProcessMemoryUtils.generateJvmParametersStr(spec));
                List<String> dyn = new ArrayList<>(split(TaskExecutorProcessUtils.generateDynamicConfigsStr(spec)));
                dyn.add("-D");
                dyn.add("taskmanager.resource-id=" + taskManagerId(i));
                c.launch("taskmanager-" + i, TM_MAIN, jvm, dyn);
            }
            c.awaitTaskManagers(s.taskManagers(), timeout);
            return c;
        } catch (IOException e) {
            c.close();
            throw new UncheckedIOException("Cannot start the Flink cluster in " + s.dir(), e);
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** The resource id TaskManager {@code i} registers with (also what the REST API shows). */
    public static String taskManagerId(int i) {
        return "taskmanager-" + i;
    }

    static String configYaml(Settings s) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("jobmanager.rpc.address", "127.0.0.1");
        c.put("jobmanager.rpc.port", Integer.toString(s.rpcPort()));
        c.put("jobmanager.bind-host", "127.0.0.1");
        c.put("jobmanager.memory.process.size", s.jmProcessMemory());
        c.put("taskmanager.host", "127.0.0.1");
        c.put("taskmanager.bind-host", "127.0.0.1");
        c.put("taskmanager.numberOfTaskSlots", Integer.toString(s.slotsPerTaskManager()));
        c.put("taskmanager.memory.process.size", s.tmProcessMemory());
        // The trainer keeps its state on the heap; managed memory (RocksDB, batch) is not used.
        c.put("taskmanager.memory.managed.size", "64m");
        // DJL hands data to PyTorch through direct buffers.
        c.put("taskmanager.memory.task.off-heap.size", "256m");
        c.put("rest.address", "127.0.0.1");
        c.put("rest.bind-address", "127.0.0.1");
        c.put("rest.port", Integer.toString(s.restPort()));
        c.put("parallelism.default", "1");
        c.put("classloader.resolve-order", "child-first");
        c.put("classloader.parent-first-patterns.additional", "ai.djl.");
        c.put("execution.checkpointing.storage", "filesystem");
        c.put("execution.checkpointing.dir", s.dir().resolve("checkpoints").toUri().toString());
        c.put("execution.checkpointing.savepoint-dir", s.dir().resolve("savepoints").toUri().toString());
        c.put("restart-strategy.type", "fixed-delay");
        c.put("restart-strategy.fixed-delay.attempts", "10");
        c.put("restart-strategy.fixed-delay.delay", "2 s");
        c.put("heartbeat.interval", Long.toString(Math.max(500, s.heartbeatTimeoutMs() / 5)));
        c.put("heartbeat.timeout", Long.toString(s.heartbeatTimeoutMs()));
        c.put("process.working-dir", s.dir().resolve("work").toString());
        if (!s.metricsPorts().isEmpty()) {
            c.put("metrics.reporter.prom.factory.class", "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
            c.put("metrics.reporter.prom.port", s.metricsPorts());
        }
        c.put("env.java.opts.all", String.join(" ", commonJvmFlags(s)));
        StringBuilder b = new StringBuilder("# Written by l0stream (bin/l0stream cluster start); rewritten on every start.\n"
                + "# The JVMs are started by l0stream with these flags (env.java.opts.all) and the memory\n"
                + "# flags Flink derives from this file; their classpath is the cluster's lib (Flink, Kafka\n"
                + "# connector, DJL + PyTorch natives), without l0stream's classes (those come in the job jar).\n");
        c.forEach((k, v) -> b.append(k).append(": ").append(yamlString(v)).append('\n'));
        return b.toString();
    }

    private static String yamlString(String v) {
        return "'" + v.replace("'", "''") + "'";
    }

    /** Flags every cluster JVM gets: Java 17 opens, DJL strictly offline, log levels. */
    static List<String> commonJvmFlags(Settings s) {
        List<String> f = new ArrayList<>();
        f.add("-XX:+UseG1GC");
        f.add("-Djava.awt.headless=true");
        f.add("-Dai.djl.offline=true");
        f.add("-DDJL_CACHE_DIR=" + djlCacheDir());
        f.add("-Dai.djl.pytorch.num_threads=" + s.torchThreads());
        f.add("-Dai.djl.pytorch.num_interop_threads=1");
        f.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
        f.add("-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSS");
        f.add("-Dorg.slf4j.simpleLogger.log.org.apache.kafka=warn");
        f.add("-Dorg.slf4j.simpleLogger.log.ai.djl=warn");
        f.add("-Dorg.slf4j.simpleLogger.log.org.apache.flink.metrics.MetricGroup=error");
        f.add("-Dorg.slf4j.simpleLogger.log.org.apache.flink.runtime.checkpoint=warn");
        f.add("-Dorg.slf4j.simpleLogger.log.org.apache.flink.connector.kafka.sink=warn");
        for (String p : ADD_OPENS) {
            f.add("--add-opens=java.base/" + p + "=ALL-UNNAMED");
        }
        return f;
    }

    static String djlCacheDir() {
        String d = System.getenv("DJL_CACHE_DIR");
        if (d == null || d.isBlank()) {
            d = System.getProperty("DJL_CACHE_DIR");
        }
        return d == null || d.isBlank() ? Workspace.var().resolve("djl-cache").toString() : d;
    }

    private static List<String> jobManagerJvmFlags(Configuration conf) {
        JobManagerProcessSpec spec = JobManagerProcessUtils.processSpecFromConfig(conf);
        return split(JobManagerProcessUtils.generateJvmParametersStr(spec, conf));
    }

    private static List<String> split(String s) {
        return Arrays.stream(s.trim().split("\\s+")).filter(t -> !t.isEmpty()).toList();
    }

    private void launch(String name, String main, List<String> memoryFlags, List<String> dynamicArgs) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(memoryFlags);
        cmd.addAll(commonJvmFlags(settings));
        Path log = settings.logDir().resolve(name + ".log");
        cmd.add("-Dlog.file=" + log);
        cmd.add("-Dl0stream.cluster.member=" + name);
        cmd.add("-cp");
        cmd.add(String.join(File.pathSeparator, settings.lib()));
        cmd.add(main);
        cmd.add("--configDir");
        cmd.add(settings.confDir().toString());
        cmd.addAll(dynamicArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .directory(settings.dir().toFile());
        pb.environment().put("DJL_CACHE_DIR", djlCacheDir());
        pb.environment().put("DJL_OFFLINE", "true");
        pb.environment().put("OPT_OUT_TRACKING", "true");
        pb.environment().put("FLINK_CONF_DIR", settings.confDir().toString());
        Files.writeString(log, "==== l0stream: starting " + name + ": " + String.join(" ", cmd.subList(0, cmd.indexOf("-cp")))
                + " -cp <" + settings.lib().size() + " jars> " + String.join(" ", cmd.subList(cmd.indexOf(main), cmd.size()))
                + "\n", StandardCharsets.UTF_8);
        Process p = pb.start();
        Files.writeString(pidFile(settings.dir(), name), Long.toString(p.pid()));
    }

    static Path pidFile(Path dir, String name) {
        return dir.resolve(name + ".pid");
    }

    private void awaitTaskManagers(int n, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int seen = -1;
        while (System.nanoTime() < deadline) {
            for (Member m : members()) {
                if (ProcessHandle.of(m.pid()).filter(ProcessHandle::isAlive).isEmpty()) {
                    throw new IllegalStateException(m.name() + " exited during start-up; last lines of " + m.log() + ":\n"
                            + tail(m.log(), 30));
                }
            }
            try {
                JsonNode o = rest.get("/overview", Duration.ofSeconds(2));
                seen = o.path("taskmanagers").asInt();
                if (seen >= n) {
                    return;
                }
            } catch (IOException e) {
                // not up yet
            }
            sleep(300);
        }
        throw new IllegalStateException("The Flink cluster did not report " + n + " task managers on http://"
                + settings.restAddress() + " within " + timeout.toSeconds() + " s (saw " + seen + "); logs in "
                + settings.logDir() + "; last lines of the jobmanager log:\n" + tail(settings.logDir().resolve("jobmanager.log"), 30));
    }

    /** The cluster's JVMs that have a pid file (alive or not). */
    public List<Member> members() {
        return members(settings.dir());
    }

    /** The JVMs of the cluster in {@code dir} that have a pid file (alive or not). */
    public static List<Member> members(Path dir) {
        List<Member> out = new ArrayList<>();
        List<String> names = new ArrayList<>(List.of("jobmanager"));
        try (var files = Files.list(dir)) {
            files.map(f -> f.getFileName().toString()).filter(f -> f.startsWith("taskmanager-") && f.endsWith(".pid"))
                    .map(f -> f.substring(0, f.length() - 4))
                    .sorted((a, b) -> Integer.compare(index(a), index(b))).forEach(names::add);
        } catch (IOException e) {
            return out;
        }
        for (String name : names) {
            Path pf = pidFile(dir, name);
            try {
                if (Files.exists(pf)) {
                    out.add(new Member(name, Long.parseLong(Files.readString(pf).trim()), dir.resolve("log").resolve(name + ".log")));
                }
            } catch (IOException | NumberFormatException ignored) {
                // a broken pid file counts as no process
            }
        }
        return out;
    }

    private static int index(String name) {
        try {
            return Integer.parseInt(name.substring(name.indexOf('-') + 1));
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }

    /** The live JVMs of the cluster started from {@code dir} (pid files checked against /proc). */
    public static List<Member> running(Path dir) {
        return members(dir.toAbsolutePath().normalize()).stream().filter(m -> live(m, dir.toAbsolutePath().normalize()).isPresent()).toList();
    }

    private static Optional<ProcessHandle> live(Member m, Path dir) {
        return ProcessHandle.of(m.pid()).filter(ProcessHandle::isAlive).filter(h -> isOurs(h, dir));
    }

    /** Guards against recycled pids: the process must be a Flink JVM reading this cluster's conf dir. */
    private static boolean isOurs(ProcessHandle h, Path dir) {
        try {
            String cmd = new String(Files.readAllBytes(Path.of("/proc", Long.toString(h.pid()), "cmdline")), StandardCharsets.UTF_8);
            return (cmd.contains(JM_MAIN) || cmd.contains(TM_MAIN)) && cmd.contains(dir.resolve("conf").toString());
        } catch (IOException e) {
            return h.info().commandLine().map(c -> c.contains(JM_MAIN) || c.contains(TM_MAIN)).orElse(true);
        }
    }

    /** SIGKILLs TaskManager {@code i} (tests: a crashed machine); returns its pid. */
    public long killTaskManager(int i) {
        Member m = members().stream().filter(x -> x.name().equals(taskManagerId(i))).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no taskmanager-" + i));
        ProcessHandle h = live(m, settings.dir()).orElseThrow(() -> new IllegalStateException(m.name() + " is not running"));
        h.destroyForcibly(); // SIGKILL on Linux
        try {
            h.onExit().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(m.name() + " (pid " + m.pid() + ") survived SIGKILL", e);
        }
        return m.pid();
    }

    /**
     * Stops every JVM of the cluster started from {@code dir}: TaskManagers first, then the
     * JobManager; SIGTERM, then SIGKILL after {@code grace}. Returns what was stopped.
     */
    public static List<Member> stop(Path dir, Duration grace) {
        Path d = dir.toAbsolutePath().normalize();
        List<Member> all = members(d);
        List<Member> stopped = new ArrayList<>();
        List<Member> order = new ArrayList<>(all.stream().filter(m -> !m.name().equals("jobmanager")).toList());
        all.stream().filter(m -> m.name().equals("jobmanager")).forEach(order::add);
        for (Member m : order) {
            Optional<ProcessHandle> h = live(m, d);
            if (h.isPresent()) {
                h.get().destroy();
                stopped.add(m);
            }
        }
        for (Member m : stopped) {
            ProcessHandle.of(m.pid()).ifPresent(h -> {
                try {
                    h.onExit().get(grace.toMillis(), TimeUnit.MILLISECONDS);
                } catch (Exception e) {
                    h.destroyForcibly();
                }
            });
        }
        for (Member m : all) {
            try {
                Files.deleteIfExists(pidFile(d, m.name()));
            } catch (IOException ignored) {
                // re-checked against /proc next time
            }
        }
        return stopped;
    }

    @Override
    public void close() {
        stop(settings.dir(), Duration.ofSeconds(15));
    }

    static String tail(Path log, int lines) {
        try {
            List<String> all = List.of(new String(Files.readAllBytes(log), StandardCharsets.UTF_8).split("\n"));
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
