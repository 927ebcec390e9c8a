package l0stream.connectors.rollout;

import l0stream.connectors.image.ImageHeaders;

import com.fasterxml.jackson.databind.JsonNode;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The true class of a request, known later. On the labels topic it is either JSON
 * {@code {"request_id": "...", "label": 3}} or, as on the image topic, the request id as the key
 * and the class in a {@code label} header (the value then may be empty).
 *
 * @param requestId the request it labels
 * @param label     the true class
 * @param timeMs    when the label was given, epoch milliseconds (the record's timestamp)
 */
public record LabelEvent(String requestId, int label, long timeMs) {

    public LabelEvent {
        PredictionEvent.require(requestId != null && !requestId.isEmpty(), "request_id", requestId, "must be non-empty");
        PredictionEvent.require(label >= 0, "label", label, "must be a class index >= 0");
    }

    public byte[] toJson() {
        return RolloutJson.write(this);
    }

    /**
     * Reads a label record as it arrives on the labels topic.
     *
     * @throws IllegalArgumentException with the reason when it is neither form (a dead letter)
     */
    public static LabelEvent parse(byte[] key, byte[] value, Headers headers, long timestampMs) {
        Header h = headers == null ? null : headers.lastHeader(ImageHeaders.LABEL);
        if (h != null) {
            if (key == null || key.length == 0) {
                throw new IllegalArgumentException("label header without a key: the key must be the request id");
            }
            String s = h.value() == null ? "" : new String(h.value(), StandardCharsets.UTF_8).trim();
            int label;
            try {
                label = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("label header '" + s + "' is not an integer class");
            }
            return new LabelEvent(new String(key, StandardCharsets.UTF_8), label, timestampMs);
        }
        if (value == null || value.length == 0) {
            throw new IllegalArgumentException("neither a label header nor a JSON value");
        }
        JsonNode j;
        try {
            j = RolloutJson.MAPPER.readTree(value);
        } catch (IOException e) {
            throw new IllegalArgumentException("value is not JSON and there is no label header");
        }
        if (j == null || !j.path("request_id").isTextual() || !j.path("label").isIntegralNumber()) {
            throw new IllegalArgumentException("expected {\"request_id\": \"...\", \"label\": <integer>}");
        }
        long t = j.path("time_ms").isIntegralNumber() ? j.get("time_ms").asLong() : timestampMs;
        return new LabelEvent(j.get("request_id").asText(), j.get("label").asInt(), t);
    }
}
