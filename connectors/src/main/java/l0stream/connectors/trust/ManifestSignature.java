package l0stream.connectors.trust;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

import java.nio.charset.StandardCharsets;

/**
 * A manifest's signature as it travels: Kafka headers {@code signature-key} (the signer's key id,
 * see {@link SnapshotKeys#keyId}) and {@code signature} (the 64 raw Ed25519 bytes) on the
 * manifest record.
 */
public record ManifestSignature(String keyId, byte[] signature) {

    public static final String HEADER_KEY_ID = "signature-key";
    public static final String HEADER_SIGNATURE = "signature";

    public void addTo(Headers headers) {
        headers.add(HEADER_KEY_ID, keyId.getBytes(StandardCharsets.UTF_8));
        headers.add(HEADER_SIGNATURE, signature);
    }

    /** The signature on a record, or null when it carries none (or only half of one). */
    public static ManifestSignature from(Headers headers) {
        Header k = headers == null ? null : headers.lastHeader(HEADER_KEY_ID);
        Header s = headers == null ? null : headers.lastHeader(HEADER_SIGNATURE);
        if (k == null || s == null || k.value() == null || s.value() == null) {
            return null;
        }
        return new ManifestSignature(new String(k.value(), StandardCharsets.UTF_8), s.value());
    }
}
