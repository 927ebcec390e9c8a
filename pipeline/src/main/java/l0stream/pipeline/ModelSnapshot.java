package l0stream.pipeline;

/**
 * A snapshot cut by the trainer, on its way to the publisher: the manifest (JSON, see
 * {@link l0stream.connectors.snapshot.SnapshotManifest}) and the artifact bytes. Plain fields, a
 * Flink POJO.
 *
 * @param modelId      model id
 * @param version      snapshot version
 * @param manifestJson the manifest
 * @param artifact     the snapshot artifact ({@code L0SN})
 * @param cutNanos     {@link System#nanoTime()} when it was cut, for the publish-latency metric
 */
public record ModelSnapshot(String modelId, long version, byte[] manifestJson, byte[] artifact, long cutNanos) {}
