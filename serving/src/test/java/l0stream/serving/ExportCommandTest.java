package l0stream.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import l0stream.connectors.cli.Args;
import l0stream.connectors.kafka.KafkaTestBroker;
import l0stream.connectors.snapshot.SnapshotManifest;
import l0stream.connectors.snapshot.SnapshotRecord;
import l0stream.connectors.trust.SnapshotKeys;
import l0stream.connectors.trust.SnapshotSigner;
import l0stream.model.DeviceChoice;
import l0stream.model.ImageClassifier;
import l0stream.model.onnx.OnnxExport;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;

/**
 * {@code export} against the real broker: it takes only what serving would load — trusted
 * signature, whole and intact artifact — and refuses the rest with serving's reason; the ONNX file
 * it writes runs in ONNX Runtime, answers what the DJL engine answers, and names its version,
 * manifest hash and signer in its metadata.
 */
@ExtendWith(KafkaTestBroker.class)
class ExportCommandTest {

    @TempDir
    Path dir;

    @Test
    void testExportsOnlyVerifiedSnapshotsAndTheOnnxRunsAsServed() throws Exception {
        String topic = KafkaTestBroker.newTopic("export-snapshots", 1);
        Path key = dir.resolve("k.key");
        SnapshotKeys.generate(key);
        SnapshotSigner signer = SnapshotSigner.load(key);
        Path pub = SnapshotKeys.publicKeyFileFor(key);
        java.security.KeyPair other = java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        SnapshotSigner stranger = SnapshotSigner.of(other.getPrivate(), other.getPublic());
        byte[] first = SnapshotFixtures.artifact(1);
        byte[] last = SnapshotFixtures.artifact(2);
        Properties pp = KafkaTestBroker.producerProps();
        pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "export-test-" + topic);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp)) {
            producer.initTransactions();
            SnapshotFixtures.publish(producer, topic, 1, first, false, signer);
            SnapshotFixtures.publish(producer, topic, 2, first, false, null);      // unsigned
            SnapshotFixtures.publish(producer, topic, 3, first, false, stranger);  // untrusted key
            SnapshotFixtures.publish(producer, topic, 4, first, true, signer);     // artifact ≠ signed hash
            SnapshotFixtures.publish(producer, topic, 5, last, false, signer);
        }
        List<String> said = new ArrayList<>();

        // latest = v5; the ONNX runs in ONNX Runtime and answers what DJL answers
        Path onnx = dir.resolve("out/model.onnx");
        ExportCommand.Exported e = ExportCommand.run(args(topic, pub, "--out", onnx.toString()), said::add);
        assertEquals(5, e.version());
        byte[] manifestJson = SnapshotRecord.of(manifest(5, last), last, signer).get(0).value();
        assertEquals(SnapshotRecord.sha256Hex(manifestJson), e.manifestSha256(), "the hash of the signed manifest bytes");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(Files.readAllBytes(onnx));
             ImageClassifier djl = ServingEngine.DJL.load(last, DeviceChoice.CPU)) {
            Map<String, String> meta = s.getMetadata().getCustomMetadata();
            assertEquals("5", meta.get("l0stream.version"));
            assertEquals(e.manifestSha256(), meta.get("l0stream.manifestSha256"));
            assertEquals(SnapshotRecord.sha256Hex(last), meta.get("l0stream.artifactSha256"));
            assertEquals(SnapshotKeys.keyId(SnapshotKeys.readPublic(pub)), meta.get("l0stream.signedBy"));
            int size = djl.architecture().inputSize();
            float[] x = new float[3 * size];
            Random rnd = new Random(3);
            for (int i = 0; i < x.length; i++) {
                x[i] = rnd.nextFloat();
            }
            float[] expected = djl.predict(x, 3);
            try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {3, 1, 28, 28});
                 OrtSession.Result r = s.run(Map.of(OnnxExport.INPUT, in))) {
                FloatBuffer got = ((OnnxTensor) r.get(OnnxExport.PROBABILITIES).orElseThrow()).getFloatBuffer();
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(expected[i], got.get(i), 1e-5, "probability " + i);
                }
            }
        }

        // native: the verified artifact itself
        Path nat = dir.resolve("v1.l0sn");
        assertEquals(1, ExportCommand.run(args(topic, pub, "--version", "1", "--format", "native", "--out", nat.toString()),
                said::add).version());
        assertArrayEquals(first, Files.readAllBytes(nat));

        // refused with serving's reasons; nothing written
        for (String[] c : new String[][] {{"2", "unsigned"}, {"3", "untrusted-key"}, {"4", "artifact-mismatch"}, {"9", "none was published"}}) {
            Path out = dir.resolve("refused-" + c[0] + ".onnx");
            IllegalStateException x = assertThrows(IllegalStateException.class,
                    () -> ExportCommand.run(args(topic, pub, "--version", c[0], "--out", out.toString()), said::add));
            assertTrue(x.getMessage().contains(c[1]), "v" + c[0] + ": " + x.getMessage());
            assertTrue(!Files.exists(out), "a refused snapshot must not be written");
        }
        // unsigned is exported only when asked for, as serving loads it only then
        Path unsigned = dir.resolve("v2.onnx");
        assertEquals(2, ExportCommand.run(args(topic, pub, "--version", "2", "--allow-unsigned", "--out", unsigned.toString()),
                said::add).version());
        try (OrtSession s = env.createSession(Files.readAllBytes(unsigned))) {
            assertEquals("unsigned", s.getMetadata().getCustomMetadata().get("l0stream.signedBy"));
        }
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> ExportCommand.run(args(topic, pub, "--format", "tflite", "--out", "x"), said::add));
        assertTrue(bad.getMessage().contains("--format"), bad.getMessage());
    }

    private static SnapshotManifest manifest(long version, byte[] artifact) {
        // as SnapshotFixtures.publish builds it
        return new SnapshotManifest(1, "m", version, version - 1, version, version, 0, Map.of(), Map.of(),
                0, 0, 0, 0, 0, 0.5, artifact.length, SnapshotRecord.sha256Hex(artifact), SnapshotRecord.chunksFor(artifact.length, 200_000));
    }

    private static Args args(String topic, Path pub, String... more) {
        List<String> argv = new ArrayList<>(List.of("--snapshots", topic, "--bootstrap", KafkaTestBroker.bootstrap(),
                "--trusted-keys", pub.toString(), "--timeout-seconds", "60"));
        argv.addAll(List.of(more));
        return ExportCommand.parse(argv.toArray(String[]::new));
    }
}
