package l0stream.pipeline.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.connectors.kafka.KafkaTestBroker;
import l0stream.connectors.snapshot.SnapshotManifest;
import l0stream.connectors.trust.SnapshotKeys;
import l0stream.pipeline.L0StreamJob;
import l0stream.pipeline.PipelineConfig;
import l0stream.pipeline.SnapshotTopicReader;
import l0stream.pipeline.TestImageStream;

import org.apache.flink.core.execution.JobClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The job on a real standalone cluster: a JobManager and 2 TaskManagers as separate JVMs (one
 * slot each), the real broker, the job jar without DJL. While records stream in, the TaskManager
 * that runs the job is killed with SIGKILL; the job must recover on the other one, train every
 * valid record exactly once, and publish snapshot versions 1..n with no gap and no duplicate to
 * read_committed readers. Then a second job is submitted to the surviving TaskManager, whose JVM
 * already loaded PyTorch for the first job's restored run: with DJL loaded parent-first it trains.
 */
@ExtendWith(KafkaTestBroker.class)
class ClusterFailoverTest {

    static final int BATCH = 32;
    static final int EVERY = 4; // snapshot every 4 steps = 128 records
    static final int VALID = 24 * BATCH * EVERY; // 3072: whole snapshots only, as the unbounded job never drains
    static final int INVALID = 40;

    @TempDir
    static Path tmp;

    static LocalFlinkCluster cluster;
    static Path signingKey;

    @BeforeAll
    static void startCluster() throws IOException {
        signingKey = tmp.resolve("keys/snapshot.key");
        Files.createDirectories(signingKey.getParent());
        SnapshotKeys.generate(signingKey);
        LocalFlinkCluster.Settings d = LocalFlinkCluster.Settings.defaults(2);
        LocalFlinkCluster.Settings s = d.withDir(tmp.resolve("flink-cluster")).withPorts(freePort(), freePort(), "")
                .withTorchThreads(1);
        assertFalse(s.lib().stream().anyMatch(e -> ClusterClasspath.isOurs(e)), "l0stream classes must not be on the cluster's classpath");
        assertTrue(s.lib().stream().anyMatch(e -> e.contains("pytorch-engine")), "DJL belongs on the cluster's classpath");
        cluster = LocalFlinkCluster.start(s, Duration.ofSeconds(120));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
            assertTrue(LocalFlinkCluster.running(cluster.settings().dir()).isEmpty(), "cluster JVMs left running");
        }
    }

    private static PipelineConfig config(String name) {
        Map<String, String> m = new HashMap<>();
        m.put("bootstrap", KafkaTestBroker.bootstrap());
        m.put("input-topic", name + "-images");
        m.put("snapshot-topic", name + "-snapshots");
        m.put("model-id", name);
        m.put("batch-size", Integer.toString(BATCH));
        m.put("snapshot-every-steps", Integer.toString(EVERY));
        m.put("checkpoint-interval-ms", "1000");
        m.put("device", "cpu");
        m.put("transactional-id-prefix", "t-" + name);
        m.put("signing-key", signingKey.toString());
        String secured = System.getenv("L0STREAM_KAFKA_CONFIG"); // the suite run against an external secured broker
        if (secured != null && !secured.isBlank()) {
            m.put("kafka-config", secured);
        }
        return PipelineConfig.from(m);
    }

    private static long lastTrained(List<SnapshotManifest> ms) {
        return ms.isEmpty() ? 0 : ms.get(ms.size() - 1).trainedRecords();
    }

    @Test
    @Timeout(value = 360, unit = TimeUnit.SECONDS)
    void testKillingTheTaskManagerThatTrainsKeepsSnapshotsGapFreeAndTrainsEveryRecordOnce() throws Exception {
        FlinkRest rest = cluster.rest();
        assertEquals(2, rest.overview().path("taskmanagers").asInt());
        PipelineConfig cfg = config("cluster");
        L0StreamJob.ensureTopics(cfg);
        RemoteSubmit.Target target = RemoteSubmit.Target.parse(cluster.restAddress(), "--target");
        JobClient job = RemoteSubmit.submit(cfg, target, tmp.resolve("job/l0stream-job.jar"), "cluster-failover");
        String jobId = job.getJobID().toHexString();
        try (JarEntries jar = new JarEntries(tmp.resolve("job/l0stream-job.jar"))) {
            assertTrue(jar.has("l0stream/pipeline/L0StreamJob.class") && jar.has("l0stream/model/ModelConfig.class")
                    && jar.has("l0stream/connectors/kafka/Topics.class"), "the job jar holds l0stream's classes");
            assertFalse(jar.any(n -> n.startsWith("ai/djl/") || n.startsWith("org/apache/flink/")),
                    "the job jar must leave DJL and Flink to the cluster");
        }

        // ~20 s of input at 150 records/s: the kill lands while records are still streaming in
        CompletableFuture<Void> producing = CompletableFuture.runAsync(() -> TestImageStream.produce(cfg.inputTopic(), VALID, INVALID, 5, 0, 150));
        try (SnapshotTopicReader m = new SnapshotTopicReader(cfg.snapshotTopic())) {
            m.until(ms -> !ms.isEmpty(), Duration.ofSeconds(150));
            assertFalse(m.seen.isEmpty(), "no snapshot within 150 s; cluster logs in " + cluster.settings().logDir());
            long trainedAtKill = lastTrained(m.seen);

            List<String> running = rest.taskManagersRunning(jobId);
            assertEquals(1, running.size(), "the job (parallelism 1, one slot per TaskManager) runs on one TaskManager: " + running);
            String victim = running.get(0);
            int victimIndex = Integer.parseInt(victim.substring(victim.lastIndexOf('-') + 1));
            long pid = cluster.killTaskManager(victimIndex);
            System.err.println("ClusterFailoverTest: SIGKILLed " + victim + " (pid " + pid + ") after snapshot v"
                    + m.seen.get(m.seen.size() - 1).version() + ", " + trainedAtKill + " records trained");
            assertTrue(trainedAtKill < VALID, "the TaskManager must die mid-run (trained " + trainedAtKill + ")");

            m.until(ms -> lastTrained(ms) >= VALID, Duration.ofSeconds(180));
            assertEquals(VALID, lastTrained(m.seen), "the recovered job did not train every record in time; logs in "
                    + cluster.settings().logDir());
            producing.get(10, TimeUnit.SECONDS);

            String jobState = rest.get("/jobs/" + jobId, Duration.ofSeconds(5)).path("state").asText();
            assertEquals("RUNNING", jobState);
            List<String> after = rest.taskManagersRunning(jobId);
            assertEquals(1, after.size(), "after recovery: " + after);
            assertNotEquals(victim, after.get(0), "the job must have moved to the surviving TaskManager");
            JsonNode history = rest.get("/jobs/" + jobId + "/exceptions", Duration.ofSeconds(5)).path("exceptionHistory").path("entries");
            assertTrue(history.size() >= 1, "the JobManager recorded no failure: " + history);

            job.cancel().get(30, TimeUnit.SECONDS);
            m.drain();
        }

        // A fresh read_committed reader sees each version once, in order, and nothing more.
        List<SnapshotManifest> ms;
        try (SnapshotTopicReader fresh = new SnapshotTopicReader(cfg.snapshotTopic())) {
            ms = fresh.drain();
        }
        assertEquals(VALID / (BATCH * EVERY), ms.size(), "snapshots: " + ms.stream().map(SnapshotManifest::version).toList());
        for (int i = 0; i < ms.size(); i++) {
            assertEquals(i + 1, ms.get(i).version(), "versions must be 1..n in order, no gap, no duplicate: "
                    + ms.stream().map(SnapshotManifest::version).toList());
            assertEquals((long) (i + 1) * EVERY, ms.get(i).step(), "snapshot " + (i + 1) + " step");
            assertEquals((long) (i + 1) * EVERY * BATCH, ms.get(i).trainedRecords(), "snapshot " + (i + 1) + " trained records");
        }
        assertEquals(INVALID, SnapshotTopicReader.count(cfg.deadLetterTopic(), INVALID), "dead letters, exactly once across the failover");

        // A second job on the surviving TaskManager, whose JVM has PyTorch loaded already: with DJL
        // parent-first this trains; from the job's classloader it would fail "already loaded in
        // another classloader".
        PipelineConfig second = config("cluster-again");
        L0StreamJob.ensureTopics(second);
        JobClient job2 = RemoteSubmit.submit(second, target, tmp.resolve("job/l0stream-job.jar"), "cluster-again");
        TestImageStream.produce(second.inputTopic(), BATCH * EVERY, 0, 5, 0, 10_000);
        try (SnapshotTopicReader m2 = new SnapshotTopicReader(second.snapshotTopic())) {
            List<SnapshotManifest> got = m2.until(x -> !x.isEmpty(), Duration.ofSeconds(90));
            assertEquals(1, got.size(), "the resubmitted job did not publish; logs in " + cluster.settings().logDir());
            assertEquals(BATCH * EVERY, got.get(0).trainedRecords());
        } finally {
            job2.cancel().get(30, TimeUnit.SECONDS);
        }
        for (LocalFlinkCluster.Member mb : cluster.members()) {
            String log = Files.exists(mb.log()) ? new String(Files.readAllBytes(mb.log()), StandardCharsets.UTF_8) : "";
            assertFalse(log.contains("already loaded in another classloader"), mb.name() + " loaded PyTorch twice");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The entry names of a jar. */
    static final class JarEntries implements AutoCloseable {
        private final java.util.jar.JarFile jar;

        JarEntries(Path p) throws IOException {
            jar = new java.util.jar.JarFile(p.toFile());
        }

        boolean has(String name) {
            return jar.getEntry(name) != null;
        }

        boolean any(Predicate<String> p) {
            return jar.stream().anyMatch(e -> p.test(e.getName()));
        }

        @Override
        public void close() throws IOException {
            jar.close();
        }
    }
}
