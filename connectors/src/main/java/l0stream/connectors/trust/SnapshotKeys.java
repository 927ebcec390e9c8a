package l0stream.connectors.trust;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Ed25519 key files for snapshot signing, with the JDK's own provider (no extra dependency): the
 * private key as PKCS#8 PEM ({@code <name>.key}, readable by its owner only) and the public key
 * as X.509 SubjectPublicKeyInfo PEM ({@code <name>.pub}) — the formats {@code openssl pkey}
 * reads and writes. A key's id is the first 16 hex digits of the SHA-256 of its public key's DER
 * encoding; a signature carries it so a reader knows which trusted key to check it against.
 */
public final class SnapshotKeys {

    public static final String ALGORITHM = "Ed25519";
    private static final String PRIVATE_PEM = "PRIVATE KEY";
    private static final String PUBLIC_PEM = "PUBLIC KEY";

    private SnapshotKeys() {}

    /**
     * Writes a new key pair to {@code privateKey} and its sibling {@code .pub}; refuses to
     * overwrite an existing key (that would silently orphan every snapshot it signed).
     */
    public static KeyPair generate(Path privateKey) throws IOException {
        Path pub = publicKeyFileFor(privateKey);
        if (Files.exists(privateKey) || Files.exists(pub)) {
            throw new FileAlreadyExistsException(Files.exists(privateKey) ? privateKey.toString() : pub.toString(), null,
                    "a snapshot key is already there; remove it first if you really mean to replace it");
        }
        KeyPair kp;
        try {
            kp = KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no " + ALGORITHM + " provider", e);
        }
        Path dir = privateKey.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".key", ".tmp", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, pem(PRIVATE_PEM, kp.getPrivate().getEncoded()));
        Files.move(tmp, privateKey);
        Files.writeString(pub, pem(PUBLIC_PEM, kp.getPublic().getEncoded()));
        return kp;
    }

    /** {@code dir/snapshot.key} → {@code dir/snapshot.pub}. */
    public static Path publicKeyFileFor(Path privateKey) {
        String n = privateKey.getFileName().toString();
        String base = n.endsWith(".key") ? n.substring(0, n.length() - 4) : n;
        return privateKey.resolveSibling(base + ".pub");
    }

    public static PrivateKey readPrivate(Path file) throws IOException {
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(der(file, PRIVATE_PEM)));
        } catch (GeneralSecurityException e) {
            throw new IOException(file + " is not an " + ALGORITHM + " private key (PKCS#8 PEM): " + e.getMessage(), e);
        }
    }

    public static PublicKey readPublic(Path file) throws IOException {
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(der(file, PUBLIC_PEM)));
        } catch (GeneralSecurityException e) {
            throw new IOException(file + " is not an " + ALGORITHM + " public key (X.509 PEM): " + e.getMessage(), e);
        }
    }

    public static String keyId(PublicKey key) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
            return HexFormat.of().formatHex(h, 0, 8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    private static byte[] der(Path file, String type) throws IOException {
        if (!Files.isReadable(file)) {
            throw new IOException("key file " + file + " does not exist or cannot be read"
                    + " (create a key pair with: bin/l0stream keys generate --out <dir>/snapshot.key)");
        }
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int b = text.indexOf(begin);
        int e = text.indexOf(end);
        if (b < 0 || e < b) {
            throw new IOException(file + " is not a PEM " + type.toLowerCase() + " file (no '" + begin + "' block)");
        }
        try {
            return Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
        } catch (IllegalArgumentException ex) {
            throw new IOException(file + ": the PEM body is not base64", ex);
        }
    }
}
