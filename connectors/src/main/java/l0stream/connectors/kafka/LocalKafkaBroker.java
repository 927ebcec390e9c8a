package l0stream.connectors.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A real single-node Apache Kafka broker (KRaft combined mode, broker + controller) on 127.0.0.1,
 * run as a child JVM on the classpath that the {@code broker-runtime} module resolves, so the
 * broker's jars never share a classpath with the job's clients.
 *
 * <p>The data directory holds {@code server.properties}, {@code logs/} (formatted once with
 * Kafka's StorageTool), {@code broker.log} and {@code broker.pid}. "Ready" means the broker
 * answered a metadata request, not that some time passed. A broker started with
 * {@link #start} is stopped by {@link #close}; one started detached ({@link #startDetached}, for
 * {@code l0stream broker start}) outlives this JVM and is stopped with {@link #stop}.
 */
public final class LocalKafkaBroker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalKafkaBroker.class);

    /** Where and how to run it. */
    public record Settings(Path dataDir, int port, int controllerPort, int heapMb, Path classpathFile) {
        public Settings {
            checkPort(port, "port");
            checkPort(controllerPort, "controller-port");
            if (port == controllerPort) {
                throw new IllegalArgumentException("Invalid value " + port + " for controller-port: must differ from port");
            }
            if (heapMb < 128) {
                throw new IllegalArgumentException("Invalid value " + heapMb + " for heap-mb: must be >= 128");
            }
        }

        public String bootstrap() {
            return "127.0.0.1:" + port;
        }

        /** Defaults: data under {@code $L0STREAM_HOME/var/kafka}, port 9092, controller 9093. */
        public static Settings defaults() {
            return new Settings(home().resolve("var/kafka"), 9092, 9093, 512, defaultClasspathFile());
        }

        private static void checkPort(int p, String field) {
            if (p < 1 || p > 65535) {
                throw new IllegalArgumentException("Invalid value " + p + " for " + field + ": must be a TCP port 1-65535");
            }
        }
    }

    private final Settings settings;
    private final Process process;
    private boolean deleteDataOnClose;

    private LocalKafkaBroker(Settings settings, Process process) {
        this.settings = settings;
        this.process = process;
    }

    /**
     * Starts a throwaway broker (benchmarks, tests) with its data in a new temporary directory
     * that {@link #close} deletes.
     */
    public static LocalKafkaBroker startTemporary(int port, int controllerPort, int heapMb, Duration timeout) {
        Path dir;
        try {
            dir = Files.createTempDirectory("l0stream-kafka-");
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create a temporary broker directory", e);
        }
        LocalKafkaBroker b = start(new Settings(dir, port, controllerPort, heapMb, defaultClasspathFile()), timeout);
        b.deleteDataOnClose = true;
        return b;
    }

    /** Starts a broker owned by this JVM and waits until it answers. */
    public static LocalKafkaBroker start(Settings s, Duration timeout) {
        Process p = launch(s);
        LocalKafkaBroker broker = new LocalKafkaBroker(s, p);
        try {
            awaitReady(s, p, timeout);
            return broker;
        } catch (RuntimeException e) {
            broker.close();
            throw e;
        }
    }

    /** Starts a broker that outlives this JVM (pid in {@code broker.pid}); returns its pid. */
    public static long startDetached(Settings s, Duration timeout) {
        Optional<ProcessHandle> running = runningProcess(s);
        if (running.isPresent()) {
            throw new IllegalStateException("A broker is already running from " + s.dataDir()
                    + " (pid " + running.get().pid() + "); stop it first");
        }
        Process p = launch(s);
        awaitReady(s, p, timeout);
        return p.pid();
    }

    /** Stops a detached broker; returns false when none was running. */
    public static boolean stop(Settings s, Duration timeout) {
        Optional<ProcessHandle> running = runningProcess(s);
        if (running.isEmpty()) {
            return false;
        }
        ProcessHandle h = running.get();
        h.destroy();
        try {
            h.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            h.destroyForcibly();
        }
        try {
            Files.deleteIfExists(s.dataDir().resolve("broker.pid"));
        } catch (IOException ignored) {
            // a stale pid file is re-checked against the live process next time
        }
        return true;
    }

    /** The live broker process started from {@code s.dataDir()}, if any. */
    public static Optional<ProcessHandle> runningProcess(Settings s) {
        Path pidFile = s.dataDir().resolve("broker.pid");
        try {
            if (!Files.exists(pidFile)) {
                return Optional.empty();
            }
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(LocalKafkaBroker::isKafka);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Guards against a recycled pid: the process must be a Kafka broker. */
    private static boolean isKafka(ProcessHandle h) {
        Path cmdline = Path.of("/proc", Long.toString(h.pid()), "cmdline");
        try {
            // The JDK's ProcessHandle.Info truncates long Java command lines; /proc has all of it.
            return new String(Files.readAllBytes(cmdline), StandardCharsets.UTF_8).contains("kafka.Kafka");
        } catch (IOException e) {
            return h.info().commandLine().map(c -> c.contains("kafka.Kafka")).orElse(true);
        }
    }

    /** Whether a broker answers a metadata request at {@code bootstrap}. */
    public static boolean answers(String bootstrap, Duration timeout) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        try (Admin admin = Admin.create(p)) {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) timeout.toMillis()))
                    .nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    public String bootstrap() {
        return settings.bootstrap();
    }

    public Settings settings() {
        return settings;
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        try {
            Files.deleteIfExists(settings.dataDir().resolve("broker.pid"));
            if (deleteDataOnClose) {
                try (var walk = Files.walk(settings.dataDir())) {
                    walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
        } catch (IOException ignored) {
            // best effort: a temporary directory left behind is harmless
        }
    }

    private static Process launch(Settings s) {
        try {
            Files.createDirectories(s.dataDir());
            String classpath = readClasspath(s.classpathFile());
            Path props = s.dataDir().resolve("server.properties");
            Files.writeString(props, serverProperties(s));
            Path logs = s.dataDir().resolve("logs");
            if (!Files.exists(logs.resolve("meta.properties"))) {
                format(s, classpath, props);
            }
            List<String> cmd = java(s, classpath);
            cmd.add("kafka.Kafka");
            cmd.add(props.toString());
            Path log = s.dataDir().resolve("broker.log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            Files.writeString(s.dataDir().resolve("broker.pid"), Long.toString(p.pid()));
            LOG.info("Kafka broker starting (pid {}) on {}, data {}", p.pid(), s.bootstrap(), s.dataDir());
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start the Kafka broker in " + s.dataDir(), e);
        }
    }

    private static void format(Settings s, String classpath, Path props) throws IOException {
        byte[] id = new byte[16];
        new SecureRandom().nextBytes(id);
        String clusterId = Base64.getUrlEncoder().withoutPadding().encodeToString(id);
        List<String> cmd = java(s, classpath);
        cmd.addAll(List.of("kafka.tools.StorageTool", "format", "-t", clusterId, "-c", props.toString()));
        Path log = s.dataDir().resolve("format.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("Formatting Kafka storage failed; see " + log + ":\n" + tail(log, 20));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while formatting Kafka storage", e);
        }
    }

    private static List<String> java(Settings s, String classpath) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + s.heapMb() + "m");
        cmd.add("-Xms128m");
        cmd.add("-XX:+UseG1GC");
        cmd.add("-Djava.awt.headless=true");
        cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        cmd.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
        cmd.add("-cp");
        cmd.add(classpath);
        return cmd;
    }

    static String serverProperties(Settings s) {
        String data = s.dataDir().resolve("logs").toAbsolutePath().toString();
        return String.join("\n",
                "# Written by l0stream; single-node KRaft (broker + controller) on loopback.",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + s.controllerPort(),
                "listeners=PLAINTEXT://127.0.0.1:" + s.port() + ",CONTROLLER://127.0.0.1:" + s.controllerPort(),
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + s.port(),
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs=" + data,
                "num.partitions=1",
                "auto.create.topics.enable=false",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=4",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=4",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                // The Flink KafkaSink's transaction timeout must fit under this (STACK.md).
                "transaction.max.timeout.ms=3600000",
                // Snapshot chunks are ≤ 1 MiB by default; leave room for larger configured chunks.
                "message.max.bytes=10485760",
                "replica.fetch.max.bytes=10485760",
                "log.segment.bytes=67108864",
                "");
    }

    private static void awaitReady(Settings s, Process p, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("The Kafka broker exited with code " + p.exitValue()
                        + " during start-up; last lines of " + s.dataDir().resolve("broker.log") + ":\n"
                        + tail(s.dataDir().resolve("broker.log"), 30));
            }
            if (answers(s.bootstrap(), Duration.ofSeconds(2))) {
                LOG.info("Kafka broker ready on {}", s.bootstrap());
                return;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for the broker", e);
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException("The Kafka broker did not answer on " + s.bootstrap() + " within "
                + timeout.toSeconds() + " s; last lines of broker.log:\n" + tail(s.dataDir().resolve("broker.log"), 30));
    }

    static String readClasspath(Path file) {
        try {
            String cp = Files.readString(file, StandardCharsets.UTF_8).trim();
            if (cp.isEmpty()) {
                throw new IllegalStateException("The broker classpath file " + file + " is empty");
            }
            return cp;
        } catch (IOException e) {
            throw new IllegalStateException("The broker classpath file " + file + " is missing: build first"
                    + " (bin/l0stream build, or mvn package), which resolves Kafka " + "into broker-runtime/target", e);
        }
    }

    static Path home() {
        String h = System.getProperty("l0stream.home", System.getenv("L0STREAM_HOME"));
        return Paths.get(h == null ? "." : h).toAbsolutePath().normalize();
    }

    static Path defaultClasspathFile() {
        String p = System.getProperty("l0stream.broker.classpath");
        return p != null ? Paths.get(p) : home().resolve("broker-runtime/target/broker-classpath.txt");
    }

    private static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
