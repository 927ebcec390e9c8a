package l0stream.connectors.rollout;

/**
 * One answer a serving replica computed, as logged on the predictions topic (key = request id).
 * A shadow answer has the same request id as the stable answer that was returned.
 *
 * @param requestId     the id returned to the client (and named by its label later)
 * @param modelId       the model the snapshot belongs to
 * @param variant       {@code stable}, {@code candidate} or {@code shadow} under a rollout; {@code A}/{@code B} in manual A/B
 * @param version       the snapshot version that computed it
 * @param predicted     the predicted class, or -1 if the model failed on this request
 * @param latencyMicros time the model took for this request, waiting for its batch included: the part of a
 *                      request's latency that differs between versions (decoding and HTTP do not), measured
 *                      the same way for stable, candidate and shadow answers
 * @param timeMs        when it was answered, epoch milliseconds
 * @param replica       which serving replica answered
 */
public record PredictionEvent(String requestId, String modelId, String variant, long version, int predicted,
                              long latencyMicros, long timeMs, String replica) {

    public static final String STABLE = "stable";
    public static final String CANDIDATE = "candidate";
    public static final String SHADOW = "shadow";

    public PredictionEvent {
        require(requestId != null && !requestId.isEmpty(), "request_id", requestId, "must be non-empty");
        require(modelId != null && !modelId.isEmpty(), "model_id", modelId, "must be non-empty");
        require(variant != null && !variant.isEmpty(), "variant", variant, "must be non-empty");
        require(version >= 1, "version", version, "must be >= 1");
        require(predicted >= -1, "predicted", predicted, "must be a class index or -1 (failed)");
        require(latencyMicros >= 0, "latency_micros", latencyMicros, "must be >= 0");
    }

    /** True if the model answered (false: it failed on this request). */
    public boolean ok() {
        return predicted >= 0;
    }

    public byte[] toJson() {
        return RolloutJson.write(this);
    }

    public static PredictionEvent fromJson(byte[] json) {
        return RolloutJson.read(json, PredictionEvent.class, "prediction");
    }

    static void require(boolean ok, String field, Object v, String rule) {
        if (!ok) {
            throw new IllegalArgumentException("Invalid value " + v + " for " + field + ": " + rule);
        }
    }
}
