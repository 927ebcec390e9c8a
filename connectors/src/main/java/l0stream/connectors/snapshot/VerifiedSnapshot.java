package l0stream.connectors.snapshot;

/** A whole snapshot whose artifact matched its manifest's size and SHA-256. */
public record VerifiedSnapshot(SnapshotManifest manifest, byte[] artifact) {
    @Override
    public byte[] artifact() {
        return artifact.clone();
    }
}
