package l0stream.connectors.snapshot;

import l0stream.connectors.trust.ManifestSignature;
import l0stream.connectors.trust.SnapshotSigner;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * One record of a published snapshot, manifest or chunk. On the topic, key = model id (so all
 * records of a model land on one partition, in order) and headers carry
 * {@code record-type} ({@code manifest|chunk}), {@code snapshot-version} and, for chunks,
 * {@code chunk} = {@code i/n} (1-based). A snapshot is written as its manifest, then chunks 1..n.
 * A signed manifest also carries {@code signature-key} and {@code signature} (see
 * {@link ManifestSignature}). Plain fields, so Flink handles it as a POJO.
 */
public record SnapshotRecord(String modelId, String type, long version, int chunk, int chunkCount, byte[] value,
                             String signatureKeyId, byte[] signature) {

    /** An unsigned record (every chunk, and manifests of unsigned snapshots). */
    public SnapshotRecord(String modelId, String type, long version, int chunk, int chunkCount, byte[] value) {
        this(modelId, type, version, chunk, chunkCount, value, null, null);
    }

    public static final String MANIFEST = "manifest";
    public static final String CHUNK = "chunk";
    public static final String HEADER_TYPE = "record-type";
    public static final String HEADER_VERSION = "snapshot-version";
    public static final String HEADER_CHUNK = "chunk";
    /** Default chunk size: well under Kafka's 1 MB message defaults, headers included. */
    public static final int DEFAULT_CHUNK_BYTES = 512 * 1024;

    /** The records that publish {@code artifact} under {@code manifest} (whose hash and size must match), unsigned. */
    public static List<SnapshotRecord> of(SnapshotManifest manifest, byte[] artifact) {
        return of(manifest, artifact, null);
    }

    /** As {@link #of(SnapshotManifest, byte[])}, with the manifest signed by {@code signer} (null: unsigned). */
    public static List<SnapshotRecord> of(SnapshotManifest manifest, byte[] artifact, SnapshotSigner signer) {
        if (artifact.length != manifest.artifactBytes() || !sha256Hex(artifact).equals(manifest.artifactSha256())) {
            throw new IllegalArgumentException("Invalid manifest for this artifact: size or SHA-256 differs");
        }
        int n = manifest.chunkCount();
        int size = (int) Math.ceil(artifact.length / (double) n);
        List<SnapshotRecord> out = new ArrayList<>(n + 1);
        byte[] json = manifest.toJson();
        ManifestSignature sig = signer == null ? null : signer.sign(json);
        out.add(new SnapshotRecord(manifest.modelId(), MANIFEST, manifest.version(), 0, n, json,
                sig == null ? null : sig.keyId(), sig == null ? null : sig.signature()));
        for (int i = 0; i < n; i++) {
            int from = Math.min(artifact.length, i * size);
            int to = Math.min(artifact.length, from + size);
            out.add(new SnapshotRecord(manifest.modelId(), CHUNK, manifest.version(), i + 1, n,
                    Arrays.copyOfRange(artifact, from, to)));
        }
        return out;
    }

    /** Chunks needed for {@code bytes} at {@code chunkBytes} each (at least 1). */
    public static int chunksFor(long bytes, int chunkBytes) {
        if (chunkBytes < 1) {
            throw new IllegalArgumentException("Invalid value " + chunkBytes + " for chunk-bytes: must be >= 1");
        }
        return (int) Math.max(1, (bytes + chunkBytes - 1) / chunkBytes);
    }

    public ProducerRecord<byte[], byte[]> toProducerRecord(String topic) {
        RecordHeaders h = new RecordHeaders();
        h.add(HEADER_TYPE, type.getBytes(StandardCharsets.UTF_8));
        h.add(HEADER_VERSION, Long.toString(version).getBytes(StandardCharsets.UTF_8));
        if (CHUNK.equals(type)) {
            h.add(HEADER_CHUNK, (chunk + "/" + chunkCount).getBytes(StandardCharsets.UTF_8));
        }
        if (signature != null) {
            new ManifestSignature(signatureKeyId, signature).addTo(h);
        }
        return new ProducerRecord<>(topic, null, modelId.getBytes(StandardCharsets.UTF_8), value, h);
    }

    public static String sha256Hex(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
