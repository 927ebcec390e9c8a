package l0stream.connectors.rollout;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The JSON mapping of every rollout record: snake_case field names, as in the HTTP API
 * ({@code request_id}), unknown fields ignored so that older readers accept newer records.
 */
final class RolloutJson {

    static final ObjectMapper MAPPER = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private RolloutJson() {}

    static byte[] write(Object o) {
        try {
            return MAPPER.writeValueAsBytes(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses and validates; the exception's message says what is wrong, for a dead letter or a 400. */
    static <T> T read(byte[] json, Class<T> type, String what) {
        if (json == null || json.length == 0) {
            throw new IllegalArgumentException(what + " has an empty value");
        }
        try {
            T t = MAPPER.readValue(json, type);
            if (t == null) {
                throw new IllegalArgumentException(what + " is JSON null");
            }
            return t;
        } catch (com.fasterxml.jackson.databind.exc.ValueInstantiationException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            throw new IllegalArgumentException("Invalid " + what + ": " + c.getMessage(), e);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("Invalid " + what + " JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new IllegalArgumentException("Invalid " + what + " JSON: " + e.getMessage(), e);
        }
    }
}
