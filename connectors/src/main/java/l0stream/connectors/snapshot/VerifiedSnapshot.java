package l0stream.connectors.snapshot;

/**
 * A whole snapshot whose artifact matched its manifest's size and SHA-256.
 *
 * @param manifestJson the manifest record's value exactly as received (what the signature covers)
 * @param signedBy     the key id of the signature that was verified, or null (unchecked or unsigned)
 */
public record VerifiedSnapshot(SnapshotManifest manifest, byte[] artifact, byte[] manifestJson, String signedBy) {

    /** A snapshot built in this process (benchmarks, tests): its manifest JSON is {@code manifest.toJson()}. */
    public VerifiedSnapshot(SnapshotManifest manifest, byte[] artifact) {
        this(manifest, artifact, manifest.toJson(), null);
    }

    @Override
    public byte[] artifact() {
        return artifact.clone();
    }

    @Override
    public byte[] manifestJson() {
        return manifestJson.clone();
    }
}
