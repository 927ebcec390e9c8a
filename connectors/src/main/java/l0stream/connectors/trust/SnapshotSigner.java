package l0stream.connectors.trust;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;

/**
 * Signs snapshot manifests with an Ed25519 private key. The signature covers the manifest
 * record's exact bytes — no canonicalisation to get wrong — and the manifest carries the
 * artifact's size and SHA-256, so one signature vouches for the whole snapshot. Thread-safe.
 */
public final class SnapshotSigner {

    private final PrivateKey key;
    private final String keyId;

    private SnapshotSigner(PrivateKey key, PublicKey publicKey) {
        this.key = key;
        this.keyId = SnapshotKeys.keyId(publicKey);
    }

    /** Loads {@code privateKey} and its sibling {@code .pub} (the key id comes from the public half). */
    public static SnapshotSigner load(Path privateKey) throws IOException {
        PrivateKey k = SnapshotKeys.readPrivate(privateKey);
        PublicKey p = SnapshotKeys.readPublic(SnapshotKeys.publicKeyFileFor(privateKey));
        SnapshotSigner s = new SnapshotSigner(k, p);
        // a .pub that belongs to another key would make every snapshot look forged: check now
        if (!SnapshotTrust.verifies(p, s.sign(new byte[] {1, 2, 3}).signature(), new byte[] {1, 2, 3})) {
            throw new IOException(SnapshotKeys.publicKeyFileFor(privateKey) + " is not the public half of " + privateKey);
        }
        return s;
    }

    public static SnapshotSigner of(PrivateKey key, PublicKey publicKey) {
        return new SnapshotSigner(key, publicKey);
    }

    public String keyId() {
        return keyId;
    }

    public ManifestSignature sign(byte[] manifestBytes) {
        try {
            Signature s = Signature.getInstance(SnapshotKeys.ALGORITHM);
            s.initSign(key);
            s.update(manifestBytes);
            return new ManifestSignature(keyId, s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("signing a snapshot manifest failed", e);
        }
    }
}
