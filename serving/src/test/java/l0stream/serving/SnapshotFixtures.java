package l0stream.serving;

import l0stream.connectors.kafka.CheckedSends;
import l0stream.connectors.snapshot.SnapshotManifest;
import l0stream.connectors.snapshot.SnapshotRecord;
import l0stream.model.DeviceChoice;
import l0stream.model.ModelConfig;
import l0stream.model.artifact.SnapshotArtifact;
import l0stream.model.artifact.TensorArchive;
import l0stream.model.gate.GateKind;
import l0stream.model.train.L0Trainer;

import l0stream.connectors.trust.SnapshotSigner;
import l0stream.connectors.trust.SnapshotTrust;

import org.apache.kafka.clients.producer.KafkaProducer;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.List;
import java.util.Map;

/** Real snapshot artifacts and transactional publishing of them, for the serving tests. */
public final class SnapshotFixtures {

    private SnapshotFixtures() {}

    /** The compact artifact of an untrained LeNet with L0-HC gates, initialised from {@code seed}. */
    public static byte[] artifact(long seed) {
        ModelConfig cfg = ModelConfig.builder().setNetwork("lenet5").setGates(GateKind.HC).optSeed(seed)
                .optDevice(DeviceChoice.CPU).build();
        try (L0Trainer t = L0Trainer.create(cfg)) {
            return SnapshotArtifact.write(t.compact(), TensorArchive.json().createObjectNode());
        }
    }

    /**
     * Publishes one snapshot (manifest + chunks) in one transaction, as the pipeline does;
     * {@code tamper} flips a byte of the artifact after its hash went into the manifest.
     */
    public static void publish(KafkaProducer<byte[], byte[]> p, String topic, long version, byte[] artifact, boolean tamper) {
        publish(p, topic, version, artifact, tamper, SIGNER);
    }

    /** The key the serving tests sign with, and the trust that accepts it. */
    public static final SnapshotSigner SIGNER;
    public static final SnapshotTrust TRUST;

    static {
        try {
            KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            SIGNER = SnapshotSigner.of(kp.getPrivate(), kp.getPublic());
            TRUST = SnapshotTrust.of(List.of(kp.getPublic()), false);
        } catch (GeneralSecurityException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** As above, signed by {@code signer} (null: unsigned). */
    public static void publish(KafkaProducer<byte[], byte[]> p, String topic, long version, byte[] artifact, boolean tamper,
                        SnapshotSigner signer) {
        SnapshotManifest m = new SnapshotManifest(1, "m", version, version - 1, version, version, 0, Map.of(), Map.of(),
                0, 0, 0, 0, 0, 0.5, artifact.length, SnapshotRecord.sha256Hex(artifact), SnapshotRecord.chunksFor(artifact.length, 200_000));
        CheckedSends<byte[], byte[]> sends = new CheckedSends<>(p);
        p.beginTransaction();
        for (SnapshotRecord r : SnapshotRecord.of(m, artifact, signer)) {
            byte[] v = r.value().clone();
            if (tamper && r.chunk() == 1) {
                v[100] ^= 1;
            }
            sends.send(new SnapshotRecord(r.modelId(), r.type(), r.version(), r.chunk(), r.chunkCount(), v,
                    r.signatureKeyId(), r.signature()).toProducerRecord(topic));
        }
        p.commitTransaction();
        sends.flush();
    }

    /** Waits until {@code version} is the newest loaded version of {@code catalog} (60 s at most). */
    public static void awaitLatest(ModelCatalog catalog, long version) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            List<LoadedModel> l = catalog.loaded();
            if (!l.isEmpty() && l.get(l.size() - 1).version() == version) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("snapshot v" + version + " not loaded within 60 s; loaded " + catalog.loaded().size());
    }
}
