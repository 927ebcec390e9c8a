package l0stream.serving;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The admin token guarding {@code POST /v1/rollout}, read once from a file (trailing newline
 * ignored). Checks compare SHA-256 digests with {@link MessageDigest#isEqual}, which takes the
 * same time whatever the first differing byte, so neither the token nor its length leaks through
 * response times. The token never appears in a log line or a {@link #toString}.
 */
final class AdminToken {

    private final byte[] digest;

    private AdminToken(byte[] digest) {
        this.digest = digest;
    }

    static AdminToken fromFile(Path file) {
        String t;
        try {
            t = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IllegalArgumentException("Invalid value " + file + " for --admin-token-file: cannot read it (" + e.getClass().getSimpleName() + ")", e);
        }
        if (t.length() < 16) {
            throw new IllegalArgumentException("Invalid value " + file + " for --admin-token-file: the token must be at least 16 characters");
        }
        return new AdminToken(sha256(t));
    }

    /** True if the {@code Authorization} header value is {@code Bearer <the token>}. */
    boolean accepts(String authorization) {
        if (authorization == null || !authorization.startsWith("Bearer ")) {
            return false;
        }
        return MessageDigest.isEqual(digest, sha256(authorization.substring(7).strip()));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "AdminToken[hidden]";
    }
}
