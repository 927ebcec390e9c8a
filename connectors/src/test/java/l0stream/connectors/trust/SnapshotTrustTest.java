package l0stream.connectors.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.connectors.snapshot.SnapshotAssembler;
import l0stream.connectors.snapshot.SnapshotManifest;
import l0stream.connectors.snapshot.SnapshotRecord;
import l0stream.connectors.snapshot.VerifiedSnapshot;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

class SnapshotTrustTest {

    @TempDir
    Path dir;

    private static byte[] artifact() {
        byte[] a = new byte[5000];
        new Random(3).nextBytes(a);
        return a;
    }

    private static List<SnapshotRecord> records(long version, byte[] artifact, SnapshotSigner signer) {
        SnapshotManifest m = new SnapshotManifest(1, "m", version, version - 1, version, version, 0, Map.of(), Map.of(),
                0, 0, 0, 0, 0, 0.5, artifact.length, SnapshotRecord.sha256Hex(artifact), 2);
        return SnapshotRecord.of(m, artifact, signer);
    }

    private static List<VerifiedSnapshot> feed(SnapshotAssembler asm, List<SnapshotRecord> records) {
        List<VerifiedSnapshot> out = new ArrayList<>();
        for (SnapshotRecord r : records) {
            ProducerRecord<byte[], byte[]> pr = r.toProducerRecord("t");
            out.addAll(asm.accept(pr.key(), pr.value(), pr.headers()));
        }
        return out;
    }

    @Test
    void testKeyFilesRoundTripAndAreProtected() throws IOException {
        Path key = dir.resolve("keys/snapshot.key");
        KeyPair kp = SnapshotKeys.generate(key);
        Path pub = dir.resolve("keys/snapshot.pub");
        assertTrue(Files.readString(key).startsWith("-----BEGIN PRIVATE KEY-----"));
        assertTrue(Files.readString(pub).startsWith("-----BEGIN PUBLIC KEY-----"));
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(key));
        assertEquals(SnapshotKeys.keyId(kp.getPublic()), SnapshotKeys.keyId(SnapshotKeys.readPublic(pub)));
        assertEquals(16, SnapshotKeys.keyId(kp.getPublic()).length());
        SnapshotSigner signer = SnapshotSigner.load(key);
        assertEquals(SnapshotKeys.keyId(kp.getPublic()), signer.keyId());
        // never silently replaced
        assertThrows(FileAlreadyExistsException.class, () -> SnapshotKeys.generate(key));
        // a .pub of another pair is caught when the signer loads
        SnapshotKeys.generate(dir.resolve("other.key"));
        Files.copy(dir.resolve("other.pub"), pub, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        IOException e = assertThrows(IOException.class, () -> SnapshotSigner.load(key));
        assertTrue(e.getMessage().contains("is not the public half"), e.getMessage());
        IOException missing = assertThrows(IOException.class, () -> SnapshotKeys.readPublic(dir.resolve("none.pub")));
        assertTrue(missing.getMessage().contains("keys generate"), missing.getMessage());
        Files.writeString(dir.resolve("junk.pub"), "hello");
        assertTrue(assertThrows(IOException.class, () -> SnapshotKeys.readPublic(dir.resolve("junk.pub")))
                .getMessage().contains("not a PEM"));
    }

    @Test
    void testAssemblerAcceptsOnlyTrustedIntactSignatures() throws IOException {
        SnapshotSigner mine = SnapshotSigner.load(keyAt("mine.key"));
        SnapshotSigner theirs = SnapshotSigner.load(keyAt("theirs.key"));
        SnapshotTrust trust = SnapshotTrust.fromFiles(List.of(dir.resolve("mine.pub")), false);
        SnapshotAssembler asm = new SnapshotAssembler(trust);
        byte[] a = artifact();

        assertEquals(1, feed(asm, records(1, a, mine)).size());
        assertEquals(0, feed(asm, records(2, a, null)).size());
        assertEquals(0, feed(asm, records(3, a, theirs)).size());
        // manifest edited after signing
        List<SnapshotRecord> edited = new ArrayList<>(records(4, a, mine));
        SnapshotRecord m = edited.get(0);
        byte[] changed = new String(m.value(), StandardCharsets.UTF_8).replace("\"step\":4", "\"step\":5").getBytes(StandardCharsets.UTF_8);
        edited.set(0, new SnapshotRecord(m.modelId(), m.type(), m.version(), m.chunk(), m.chunkCount(), changed,
                m.signatureKeyId(), m.signature()));
        assertEquals(0, feed(asm, edited).size());
        // artifact bytes that do not match the signed hash
        List<SnapshotRecord> swapped = new ArrayList<>(records(5, a, mine));
        SnapshotRecord c = swapped.get(1);
        byte[] bad = c.value().clone();
        bad[0] ^= 1;
        swapped.set(1, new SnapshotRecord(c.modelId(), c.type(), c.version(), c.chunk(), c.chunkCount(), bad));
        assertEquals(0, feed(asm, swapped).size());

        assertEquals(Map.of("unsigned", 1L, "untrusted-key", 1L, "bad-signature", 1L, "artifact-mismatch", 1L),
                asm.refusals(), asm.problems().toString());

        // a forged manifest for v6 does not block the genuine v6 that follows it
        List<SnapshotRecord> forged = records(6, a, theirs);
        feed(asm, List.of(forged.get(0)));
        assertEquals(1, feed(asm, records(6, a, mine)).size());
    }

    @Test
    void testUnsignedAllowedOnlyWhenAskedAndEmptyTrustRefused() {
        SnapshotTrust open = SnapshotTrust.of(List.of(), true);
        assertTrue(open.check(new byte[] {1}, null).accepted());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SnapshotTrust.of(List.of(), false));
        assertTrue(e.getMessage().contains("--trusted-keys"), e.getMessage());
        SnapshotTrust.Verdict v = open.check(new byte[] {1}, new ManifestSignature("0011223344556677", new byte[64]));
        assertEquals(SnapshotTrust.Refusal.UNTRUSTED_KEY, v.refusal());
        assertNull(SnapshotTrust.of(List.of(), true).check(new byte[0], null).refusal());
    }

    private Path keyAt(String name) throws IOException {
        Path k = dir.resolve(name);
        SnapshotKeys.generate(k);
        return k;
    }
}
