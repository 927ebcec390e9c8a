package l0stream.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import l0stream.connectors.kafka.CheckedSends;
import l0stream.connectors.kafka.KafkaTestBroker;
import l0stream.connectors.snapshot.SnapshotManifest;
import l0stream.connectors.snapshot.SnapshotRecord;
import l0stream.connectors.trust.SnapshotSigner;
import l0stream.model.DeviceChoice;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Serving loads only snapshots signed by a key it trusts. Against the real broker: unsigned, signed
 * by another key, a manifest changed after signing, and an artifact that does not match its
 * signed hash are each refused and counted under their reason, while the last good model keeps
 * serving; a correctly signed newer snapshot is then loaded.
 */
@ExtendWith(KafkaTestBroker.class)
class SignedSnapshotServingTest {

    @Test
    void testOnlyTrustedSignaturesAreServed() throws Exception {
        String topic = KafkaTestBroker.newTopic("signed-snapshots", 1);
        Properties client = new Properties();
        client.put("bootstrap.servers", KafkaTestBroker.bootstrap());
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Properties pp = KafkaTestBroker.producerProps();
        pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "signed-test-" + topic);
        KeyPair other = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        SnapshotSigner stranger = SnapshotSigner.of(other.getPrivate(), other.getPublic());
        byte[] artifact = SnapshotFixtures.artifact(1);
        try (ModelCatalog catalog = new ModelCatalog(client, topic, SnapshotFixtures.TRUST, 0, 3, LoadedModel.DEFAULT_MAX_BATCH,
                DeviceChoice.CPU, metrics);
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp)) {
            producer.initTransactions();
            SnapshotFixtures.publish(producer, topic, 1, artifact, false);
            SnapshotFixtures.awaitLatest(catalog, 1);

            SnapshotFixtures.publish(producer, topic, 2, artifact, false, null);            // unsigned
            SnapshotFixtures.publish(producer, topic, 3, artifact, false, stranger);        // another key
            publishWithEditedManifest(producer, topic, 4, artifact);                        // changed after signing
            SnapshotFixtures.publish(producer, topic, 5, artifact, true);                   // artifact ≠ signed hash
            SnapshotFixtures.publish(producer, topic, 6, artifact, false);                  // good again
            SnapshotFixtures.awaitLatest(catalog, 6);

            List<Long> versions = catalog.loaded().stream().map(LoadedModel::version).toList();
            assertEquals(List.of(1L, 6L), versions, "only the trusted, intact snapshots were loaded");
            for (String reason : new String[] {"unsigned", "untrusted-key", "bad-signature", "artifact-mismatch"}) {
                assertEquals(1.0, metrics.get("serving_snapshots_refused").tag("reason", reason).counter().count(), reason);
            }
            assertEquals(0.0, metrics.get("serving_snapshots_refused").tag("reason", "corrupt").counter().count());
        }
    }

    /** A correctly signed manifest whose bytes are then edited (a larger accuracy), signature kept. */
    private static void publishWithEditedManifest(KafkaProducer<byte[], byte[]> p, String topic, long version, byte[] artifact) {
        SnapshotManifest m = new SnapshotManifest(1, "m", version, version - 1, version, version, 0, Map.of(), Map.of(),
                0, 0, 0, 0, 0, 0.5, artifact.length, SnapshotRecord.sha256Hex(artifact),
                SnapshotRecord.chunksFor(artifact.length, 200_000));
        List<SnapshotRecord> records = SnapshotRecord.of(m, artifact, SnapshotFixtures.SIGNER);
        CheckedSends<byte[], byte[]> sends = new CheckedSends<>(p);
        p.beginTransaction();
        for (SnapshotRecord r : records) {
            byte[] v = r.value();
            if (r.type().equals(SnapshotRecord.MANIFEST)) {
                String edited = new String(v, StandardCharsets.UTF_8).replace("\"prequentialAccuracy\":0.5", "\"prequentialAccuracy\":0.99");
                assertTrue(!edited.equals(new String(v, StandardCharsets.UTF_8)), "the edit must change the manifest");
                v = edited.getBytes(StandardCharsets.UTF_8);
            }
            sends.send(new SnapshotRecord(r.modelId(), r.type(), r.version(), r.chunk(), r.chunkCount(), v,
                    r.signatureKeyId(), r.signature()).toProducerRecord(topic));
        }
        p.commitTransaction();
        sends.flush();
    }
}
