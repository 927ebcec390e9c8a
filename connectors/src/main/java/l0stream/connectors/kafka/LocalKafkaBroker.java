package l0stream.connectors.kafka;

import l0stream.connectors.cli.Workspace;

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
    public record Settings(Path dataDir, int port, int controllerPort, int heapMb, Path classpathFile, boolean secure) {

        /** A plaintext broker. */
        public Settings(Path dataDir, int port, int controllerPort, int heapMb, Path classpathFile) {
            this(dataDir, port, controllerPort, heapMb, classpathFile, false);
        }

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

        /**
         * The secure broker's defaults: SASL_SSL (SCRAM-SHA-512) on 9094, controller 9095, data and
         * TLS material under {@code var/kafka-secure}, so it can run beside the plaintext one.
         */
        public static Settings secureDefaults() {
            return new Settings(home().resolve("var/kafka-secure"), 9094, 9095, 512, defaultClasspathFile(), true);
        }

        public Path securityDir() {
            return dataDir.resolve("security");
        }

        /** Where a secure broker writes the client properties to use with {@code --kafka-config}. */
        public Path clientPropertiesFile() {
            return dataDir.resolve("client.properties");
        }

        /** What a client of this broker needs (for a secure one: SASL_SSL as user {@code l0stream}). */
        public KafkaClientConfig clientConfig() {
            return secure ? BrokerSecurity.ensure(securityDir()).clientConfig(bootstrap()) : KafkaClientConfig.plaintext(bootstrap());
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

    /** The broker's process (benchmarks read its CPU time). */
    public ProcessHandle processHandle() {
        return process.toHandle();
    }

    /**
     * Starts a throwaway broker (benchmarks, tests) with its data in a new temporary directory
     * that {@link #close} deletes.
     */
    public static LocalKafkaBroker startTemporary(int port, int controllerPort, int heapMb, Duration timeout) {
        return startTemporary(port, controllerPort, heapMb, false, timeout);
    }

    /** As above; {@code secure}: SASL_SSL only, with its own CA and SCRAM users (see {@link BrokerSecurity}). */
    public static LocalKafkaBroker startTemporary(int port, int controllerPort, int heapMb, boolean secure, Duration timeout) {
        Path dir;
        try {
            dir = Files.createTempDirectory("l0stream-kafka-");
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create a temporary broker directory", e);
        }
        LocalKafkaBroker b = start(new Settings(dir, port, controllerPort, heapMb, defaultClasspathFile(), secure), timeout);
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

    /** Whether a plaintext broker answers a metadata request at {@code bootstrap}. */
    public static boolean answers(String bootstrap, Duration timeout) {
        return answers(KafkaClientConfig.plaintext(bootstrap), timeout);
    }

    /** Whether a broker answers a metadata request from a client configured as {@code client}. */
    public static boolean answers(KafkaClientConfig client, Duration timeout) {
        Properties p = client.toProperties();
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

    /** What a client of this broker needs to connect (bootstrap, and for a secure one SASL_SSL). */
    public KafkaClientConfig clientConfig() {
        return settings.clientConfig();
    }

    public Path dataDir() {
        return settings.dataDir();
    }

    /** The secure broker's TLS/SASL material; null for a plaintext broker. */
    public BrokerSecurity security() {
        return settings.secure() ? BrokerSecurity.ensure(settings.securityDir()) : null;
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
            BrokerSecurity security = s.secure() ? BrokerSecurity.ensure(s.securityDir()) : null;
            // owner-only: a secure broker's server.properties holds its keystore and SCRAM passwords
            Files.deleteIfExists(props);
            Files.createFile(props, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            Files.writeString(props, serverProperties(s, security));
            if (security != null) {
                security.writeClientProperties(s.clientPropertiesFile(), s.bootstrap());
            }
            Path logs = s.dataDir().resolve("logs");
            if (!Files.exists(logs.resolve("meta.properties"))) {
                format(s, classpath, props, security);
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

    /**
     * A random KRaft cluster id. A base64url id starts with '-' one time in 64, and kafka-storage's
     * argument parser then reads it as an option ("--cluster-id: expected one argument"): such draws
     * are redrawn, as Kafka's own {@code Uuid.randomUuid} does.
     */
    static String newClusterId(java.util.Random random) {
        byte[] id = new byte[16];
        String clusterId;
        do {
            random.nextBytes(id);
            clusterId = Base64.getUrlEncoder().withoutPadding().encodeToString(id);
        } while (clusterId.startsWith("-"));
        return clusterId;
    }

    private static void format(Settings s, String classpath, Path props, BrokerSecurity security) throws IOException {
        String clusterId = newClusterId(new SecureRandom());
        List<String> cmd = java(s, classpath);
        cmd.addAll(List.of("kafka.tools.StorageTool", "format", "-t", clusterId, "-c", props.toString()));
        if (security != null) {
            cmd.addAll(security.scramFormatArgs()); // SCRAM users exist before the broker first listens
        }
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

    static String serverProperties(Settings s, BrokerSecurity security) {
        String data = s.dataDir().resolve("logs").toAbsolutePath().toString();
        // A secure broker has no plaintext client listener at all: SASL_SSL for clients and between
        // brokers; only the KRaft controller listener stays plaintext, bound to loopback.
        String l = s.secure() ? "SASL_SSL" : "PLAINTEXT";
        List<String> lines = new ArrayList<>(List.of(
                "# Written by l0stream; single-node KRaft (broker + controller) on loopback.",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + s.controllerPort(),
                "listeners=" + l + "://127.0.0.1:" + s.port() + ",CONTROLLER://127.0.0.1:" + s.controllerPort(),
                "advertised.listeners=" + l + "://127.0.0.1:" + s.port(),
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=" + l,
                "listener.security.protocol.map=" + l + ":" + l + ",CONTROLLER:PLAINTEXT",
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
                // Sized for one node on a small machine that also runs the job: Kafka's defaults
                // (8 request handlers, 3 network threads, 10 background threads, a metadata no-op
                // record every 500 ms) cost an idle broker 34 ms of CPU per second here, 23 with these.
                "num.io.threads=2",
                "num.network.threads=2",
                "background.threads=2",
                "metadata.max.idle.interval.ms=5000"));
        if (security != null) {
            lines.addAll(security.serverProperties());
        }
        lines.add("");
        return String.join("\n", lines);
    }

    private static void awaitReady(Settings s, Process p, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("The Kafka broker exited with code " + p.exitValue()
                        + " during start-up; last lines of " + s.dataDir().resolve("broker.log") + ":\n"
                        + tail(s.dataDir().resolve("broker.log"), 30));
            }
            if (answers(s.clientConfig(), Duration.ofSeconds(2))) {
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
        return Workspace.home();
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
