package l0stream.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.connectors.image.DecodedRecord;
import l0stream.connectors.kafka.KafkaTestBroker;
import l0stream.connectors.snapshot.SnapshotManifest;
import l0stream.connectors.snapshot.SnapshotReader;
import l0stream.connectors.snapshot.VerifiedSnapshot;
import l0stream.connectors.trust.SnapshotKeys;
import l0stream.connectors.trust.SnapshotTrust;
import l0stream.model.DeviceChoice;
import l0stream.model.SnapshotPredictor;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.UnaryOperator;

/** The job on a MiniCluster against the real broker, with and without an injected failure. */
@ExtendWith(KafkaTestBroker.class)
class PipelineRecoveryTest {

    /** Snapshots are signed as in production; the read-back trusts only this key. */
    @TempDir
    static Path keys;

    private static Path signingKey() {
        Path k = keys.resolve("snapshot.key");
        if (!Files.exists(k)) {
            try {
                SnapshotKeys.generate(k);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return k;
    }

    static final int VALID = 1200;
    static final int INVALID = 40;

    private static PipelineConfig config(String name) {
        return config(name, Map.of());
    }

    private static PipelineConfig config(String name, Map<String, String> extra) {
        Map<String, String> m = new HashMap<>();
        m.put("bootstrap", KafkaTestBroker.bootstrap());
        m.put("input-topic", name + "-images");
        m.put("snapshot-topic", name + "-snapshots");
        m.put("model-id", name);
        m.put("batch-size", "32");
        m.put("snapshot-every-steps", "4");
        m.put("checkpoint-interval-ms", "300");
        m.put("device", "cpu");
        m.put("transactional-id-prefix", "t-" + name);
        m.put("signing-key", signingKey().toString());
        m.putAll(extra);
        return PipelineConfig.from(m);
    }

    /** The trainer's state (model, optimiser, 3.9 MB of default replay buffer) exceeds the 5 MiB in-JobManager limit. */
    @TempDir
    static Path checkpoints;

    private static void run(PipelineConfig cfg, UnaryOperator<DataStream<DecodedRecord>> hook) throws Exception {
        Configuration conf = new Configuration();
        conf.setString("execution.checkpointing.dir", checkpoints.resolve(cfg.modelId() + "-" + cfg.inputTopic()).toUri().toString());
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(500));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        L0StreamJob.build(env, cfg, true, hook);
        env.execute("l0stream-test");
    }

    private static void assertGapFreeAndComplete(PipelineConfig cfg, List<SnapshotManifest> ms) {
        int steps = (VALID + 31) / 32; // 38: the last one on the partial batch
        assertTrue(ms.size() >= 2, "snapshots: " + ms.size());
        for (int i = 0; i < ms.size(); i++) {
            assertEquals(i + 1, ms.get(i).version(), "versions must be 1..n in order, no gap, no duplicate");
            if (i > 0) {
                assertTrue(ms.get(i).step() > ms.get(i - 1).step(), "steps must increase");
            }
        }
        SnapshotManifest last = ms.get(ms.size() - 1);
        assertEquals(VALID, last.trainedRecords(), "every valid record trained exactly once");
        assertEquals(steps, last.step());
        assertEquals(steps / 4 + (steps % 4 == 0 ? 0 : 1), ms.size());
        assertEquals(INVALID, SnapshotTopicReader.count(cfg.deadLetterTopic(), INVALID), "dead letters");
    }

    @Test
    void testJobTrainsAndPublishesVerifiedSnapshots() throws Exception {
        PipelineConfig cfg = config("plain");
        L0StreamJob.ensureTopics(cfg);
        TestImageStream.produce(cfg.inputTopic(), VALID, INVALID, 5, 0, 0);
        run(cfg, s -> s);
        List<SnapshotManifest> ms = SnapshotTopicReader.all(cfg.snapshotTopic());
        assertGapFreeAndComplete(cfg, ms);
        Properties c = new Properties();
        c.put("bootstrap.servers", KafkaTestBroker.bootstrap());
        SnapshotTrust trust = SnapshotTrust.fromFiles(
                List.of(keys.resolve("snapshot.pub")), false);
        try (SnapshotReader reader = new SnapshotReader(c, cfg.snapshotTopic(), trust)) {
            List<VerifiedSnapshot> snaps = reader.pollUntil(ms.size(), Duration.ofSeconds(30));
            assertEquals(ms.size(), snaps.size());
            try (SnapshotPredictor p = SnapshotPredictor.load(snaps.get(snaps.size() - 1).artifact(), DeviceChoice.CPU)) {
                assertEquals(10, p.predict(new float[784], 1).length);
            }
        }
    }

    @Test
    void testInjectedFailureKeepsSnapshotsGapFreeAndTrainsEveryRecordOnce() throws Exception {
        PipelineConfig cfg = config("failing");
        L0StreamJob.ensureTopics(cfg);
        TestImageStream.produce(cfg.inputTopic(), VALID, INVALID, 5, 0, 0);
        FailOnceAfterCheckpoint.reset();
        run(cfg, s -> s.map(new FailOnceAfterCheckpoint(VALID / 2, -1)).name("fail-once").setParallelism(1));
        assertTrue(FailOnceAfterCheckpoint.FAILED.get(), "the failure was not injected");
        assertGapFreeAndComplete(cfg, SnapshotTopicReader.all(cfg.snapshotTopic()));
    }

    /**
     * Replay, the forgetting probe and drift detection on (tuned so that a short run detects drifts and
     * relaxes λ), once uninterrupted and once with a failure injected mid-stream: the restored trainer
     * must continue exactly as the uninterrupted one — replay buffer, probe, detector, relax window and
     * random streams included — so the last snapshots are the same bytes (both runs use one model id,
     * so the artifacts' metadata match too). PyTorch runs one intra-op thread here, so that the kernels'
     * reduction order cannot differ between the two runs.
     */
    @Test
    void testRecoveryContinuesExactlyAsAnUninterruptedRun() throws Exception {
        Map<String, String> continual = Map.of("model-id", "twin", "replay-capacity", "300", "replay-ratio", "0.5",
                "ph-threshold", "3", "ph-min-records", "20", "drift-response", "relax", "relax-records", "150",
                "probe-capacity", "40", "probe-every-steps", "3");
        PipelineConfig plain = config("twin-plain", continual);
        PipelineConfig failing = config("twin-failing", continual);
        l0stream.model.PyTorchRuntime.engine();
        int threads = ai.djl.pytorch.jni.JniUtils.getNumThreads();
        ai.djl.pytorch.jni.JniUtils.setNumThreads(1);
        try {
            for (PipelineConfig cfg : List.of(plain, failing)) {
                L0StreamJob.ensureTopics(cfg);
                TestImageStream.produce(cfg.inputTopic(), VALID, INVALID, 5, 0, 0);
            }
            run(plain, s -> s);
            FailOnceAfterCheckpoint.reset();
            run(failing, s -> s.map(new FailOnceAfterCheckpoint(VALID / 2, -1)).name("fail-once").setParallelism(1));
            assertTrue(FailOnceAfterCheckpoint.FAILED.get(), "the failure was not injected");
        } finally {
            ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
        }
        List<SnapshotManifest> a = SnapshotTopicReader.all(plain.snapshotTopic());
        List<SnapshotManifest> b = SnapshotTopicReader.all(failing.snapshotTopic());
        assertGapFreeAndComplete(failing, b);
        assertEquals(a.size(), b.size(), "same snapshots");
        for (int i = 0; i < a.size(); i++) {
            SnapshotManifest x = a.get(i);
            SnapshotManifest y = b.get(i);
            assertEquals(x.step(), y.step());
            assertEquals(x.artifactSha256(), y.artifactSha256(), "v" + x.version() + ": the same model, bit for bit");
            assertEquals(x.continual(), y.continual(), "v" + x.version() + ": the same learner figures");
            assertEquals(x.prequentialAccuracy(), y.prequentialAccuracy());
        }
        SnapshotManifest.Continual last = a.get(a.size() - 1).continual();
        assertTrue(last != null && last.replaySize() == 300 && last.heldOut() >= 40, "learner figures on the manifest: " + last);
        assertTrue(last.retentionAccuracy() != null, "the probe was scored: " + last);
    }
}
