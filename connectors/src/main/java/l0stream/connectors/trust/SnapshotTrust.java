package l0stream.connectors.trust;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which snapshot manifests a reader accepts: those signed by one of its trusted Ed25519 public
 * keys. Unsigned manifests are refused unless {@code allowUnsigned}, which exists for experiments
 * and is announced with a warning; a signature by a key not trusted here, or one that does not
 * verify (the manifest was changed after signing), is always refused. Thread-safe.
 */
public final class SnapshotTrust {

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotTrust.class);

    /** Why a manifest was refused; {@link #id} is the metric label. */
    public enum Refusal {
        UNSIGNED("unsigned"),
        UNTRUSTED_KEY("untrusted-key"),
        BAD_SIGNATURE("bad-signature");

        private final String id;

        Refusal(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }
    }

    /** The outcome of a check: {@code refusal} is null when the manifest is accepted. */
    public record Verdict(Refusal refusal, String reason, String keyId) {
        public boolean accepted() {
            return refusal == null;
        }
    }

    private final Map<String, PublicKey> trusted;
    private final boolean allowUnsigned;

    private SnapshotTrust(Map<String, PublicKey> trusted, boolean allowUnsigned) {
        this.trusted = Map.copyOf(trusted);
        this.allowUnsigned = allowUnsigned;
        if (allowUnsigned) {
            LOG.warn("!!! allow-unsigned is on: snapshots WITHOUT a signature will be accepted. Anyone who can write to"
                    + " the snapshot topic can push a model. Use this for experiments only. !!!");
        }
    }

    public static SnapshotTrust of(Collection<PublicKey> keys, boolean allowUnsigned) {
        Map<String, PublicKey> m = new LinkedHashMap<>();
        keys.forEach(k -> m.put(SnapshotKeys.keyId(k), k));
        if (m.isEmpty() && !allowUnsigned) {
            throw new IllegalArgumentException("Invalid value (none) for --trusted-keys: no public key to trust, so every"
                    + " snapshot would be refused; give the publisher's .pub file, or --allow-unsigned for experiments");
        }
        return new SnapshotTrust(m, allowUnsigned);
    }

    /** Reads each public key file; a missing or malformed file fails here, naming it. */
    public static SnapshotTrust fromFiles(List<Path> publicKeys, boolean allowUnsigned) throws IOException {
        List<PublicKey> keys = new java.util.ArrayList<>();
        for (Path p : publicKeys) {
            keys.add(SnapshotKeys.readPublic(p));
        }
        return of(keys, allowUnsigned);
    }

    /** The trusted keys, X.509-encoded: what a Flink function carries to rebuild this with {@link #fromEncoded}. */
    public java.util.List<byte[]> encodedKeys() {
        return trusted.values().stream().map(PublicKey::getEncoded).toList();
    }

    /** The inverse of {@link #encodedKeys()}. */
    public static SnapshotTrust fromEncoded(java.util.List<byte[]> encoded, boolean allowUnsigned) {
        List<PublicKey> keys = new java.util.ArrayList<>();
        try {
            java.security.KeyFactory f = java.security.KeyFactory.getInstance("Ed25519");
            for (byte[] b : encoded) {
                keys.add(f.generatePublic(new java.security.spec.X509EncodedKeySpec(b)));
            }
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalArgumentException("Invalid trusted key: " + e.getMessage(), e);
        }
        return of(keys, allowUnsigned);
    }

    public java.util.Set<String> trustedKeyIds() {
        return trusted.keySet();
    }

    public boolean allowUnsigned() {
        return allowUnsigned;
    }

    public Verdict check(byte[] manifestBytes, ManifestSignature sig) {
        if (sig == null) {
            return allowUnsigned ? new Verdict(null, "unsigned, allowed by allow-unsigned", null)
                    : new Verdict(Refusal.UNSIGNED, "the manifest is not signed", null);
        }
        PublicKey k = trusted.get(sig.keyId());
        if (k == null) {
            return new Verdict(Refusal.UNTRUSTED_KEY, "signed by key " + sig.keyId() + ", which is not trusted here (trusted: "
                    + trusted.keySet() + ")", sig.keyId());
        }
        if (!verifies(k, sig.signature(), manifestBytes)) {
            return new Verdict(Refusal.BAD_SIGNATURE, "the signature by key " + sig.keyId()
                    + " does not verify: the manifest was changed after it was signed", sig.keyId());
        }
        return new Verdict(null, "signed by trusted key " + sig.keyId(), sig.keyId());
    }

    static boolean verifies(PublicKey key, byte[] signature, byte[] data) {
        try {
            Signature s = Signature.getInstance(SnapshotKeys.ALGORITHM);
            s.initVerify(key);
            s.update(data);
            return s.verify(signature);
        } catch (GeneralSecurityException e) {
            return false; // a malformed signature is simply not a valid one
        }
    }
}
