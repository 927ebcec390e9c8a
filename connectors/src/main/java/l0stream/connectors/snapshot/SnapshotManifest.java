package l0stream.connectors.snapshot;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What a published snapshot is: the JSON value of the manifest record (key = model id) on the
 * snapshot topic. Field names are the JSON names; unknown fields are ignored so that older
 * readers accept newer manifests of the same {@code manifestVersion}.
 *
 * @param manifestVersion     format of this JSON (1)
 * @param modelId             which model (also the record key)
 * @param version             snapshot version, strictly increasing per model, no gaps
 * @param parentVersion       the version this one was trained on from, or 0
 * @param step                training steps taken when the snapshot was cut
 * @param trainedRecords      training examples consumed so far
 * @param wallTimeMs          when it was cut, epoch milliseconds
 * @param sourceOffsets       next input offset per "topic-partition" at that point
 * @param openChannels        open channels/units per gated layer, by layer name, in layer order
 * @param expectedFlops       FLOPs of the gated network at expected widths
 * @param actualFlops         FLOPs of the compact network
 * @param expectedParams      params of the gated network at expected widths
 * @param actualParams        params of the compact network
 * @param denseFlops          FLOPs of the unpruned network (for the reduction)
 * @param prequentialAccuracy running test-then-train accuracy
 * @param artifactBytes       artifact length
 * @param artifactSha256      lower-case hex SHA-256 of the artifact
 * @param chunkCount          number of chunk records that carry the artifact
 * @param continual           what the continual learner saw up to this snapshot (absent in manifests
 *                            written before it existed, and in the end-of-input merge of data-parallel
 *                            trainers); with several trainers, subtask 0's
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
public record SnapshotManifest(int manifestVersion, String modelId, long version, long parentVersion, long step,
                               long trainedRecords, long wallTimeMs, Map<String, Long> sourceOffsets,
                               Map<String, Integer> openChannels, double expectedFlops, double actualFlops,
                               double expectedParams, double actualParams, double denseFlops,
                               double prequentialAccuracy, long artifactBytes, String artifactSha256,
                               int chunkCount, Continual continual) {

    /**
     * The continual learner's figures at the cut. Accuracies are null until known (JSON has no NaN).
     *
     * @param driftCount         drifts detected so far
     * @param recordsSinceDrift  records since the last detection, null if none yet
     * @param retentionAccuracy  accuracy on the held-out probe of past records at its last scoring
     * @param windowedAccuracy   prequential accuracy over the last window-records records
     * @param fadingAccuracy     fading-factor prequential accuracy
     * @param replaySize         images in the replay buffer
     * @param heldOut            records set aside for the probe so far (never trained on)
     */
    public record Continual(long driftCount, Long recordsSinceDrift, Double retentionAccuracy, Double windowedAccuracy,
                            Double fadingAccuracy, int replaySize, long heldOut) {}

    /** A manifest without continual-learning figures. */
    public SnapshotManifest(int manifestVersion, String modelId, long version, long parentVersion, long step,
                            long trainedRecords, long wallTimeMs, Map<String, Long> sourceOffsets,
                            Map<String, Integer> openChannels, double expectedFlops, double actualFlops,
                            double expectedParams, double actualParams, double denseFlops,
                            double prequentialAccuracy, long artifactBytes, String artifactSha256, int chunkCount) {
        this(manifestVersion, modelId, version, parentVersion, step, trainedRecords, wallTimeMs, sourceOffsets, openChannels,
                expectedFlops, actualFlops, expectedParams, actualParams, denseFlops, prequentialAccuracy, artifactBytes,
                artifactSha256, chunkCount, null);
    }

    public static final int CURRENT_VERSION = 1;
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    @com.fasterxml.jackson.annotation.JsonCreator
    public SnapshotManifest {
        require(manifestVersion >= 1, manifestVersion, "manifestVersion", "must be >= 1");
        require(manifestVersion <= CURRENT_VERSION, manifestVersion, "manifestVersion",
                "this reader supports up to " + CURRENT_VERSION);
        require(modelId != null && !modelId.isBlank(), modelId, "modelId", "must be non-empty");
        require(version >= 1, version, "version", "must be >= 1");
        require(parentVersion >= 0 && parentVersion < version, parentVersion, "parentVersion", "must be in [0, version)");
        require(artifactBytes >= 0, artifactBytes, "artifactBytes", "must be >= 0");
        require(artifactSha256 != null && SHA256_HEX.matcher(artifactSha256).matches(), artifactSha256,
                "artifactSha256", "must be 64 lower-case hex digits");
        require(chunkCount >= 1, chunkCount, "chunkCount", "must be >= 1");
        sourceOffsets = sourceOffsets == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(sourceOffsets));
        openChannels = openChannels == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(openChannels));
    }

    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses and validates; errors name the field. */
    public static SnapshotManifest fromJson(byte[] json) throws InvalidSnapshotException {
        try {
            return JSON.readValue(json, SnapshotManifest.class);
        } catch (com.fasterxml.jackson.databind.exc.ValueInstantiationException e) {
            throw new InvalidSnapshotException("Invalid manifest: " + e.getCause().getMessage(), e);
        } catch (IOException | RuntimeException e) {
            throw new InvalidSnapshotException("Invalid manifest JSON: " + e.getMessage(), e);
        }
    }

    /** 1 − actual ÷ dense FLOPs. */
    public double flopsReduction() {
        return denseFlops <= 0 ? 0 : 1 - actualFlops / denseFlops;
    }

    private static void require(boolean ok, Object v, String field, String rule) {
        if (!ok) {
            throw new IllegalArgumentException("Invalid value " + v + " for " + field + ": " + rule);
        }
    }
}
