package l0stream.connectors.image;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Dead letters: a record that could not be decoded goes, unchanged (key, value, headers), to
 * {@code <input>.dlq} with {@code error}, {@code error-class} and its source topic, partition
 * and offset added as headers, so nothing a user sends is ever lost silently. Counts per class
 * are kept here. Thread-safe.
 */
public final class DeadLetters {

    public static final String SUFFIX = ".dlq";

    private final Map<DecodeError, LongAdder> counts = new EnumMap<>(DecodeError.class);

    public DeadLetters() {
        for (DecodeError e : DecodeError.values()) {
            counts.put(e, new LongAdder());
        }
    }

    public static String topicFor(String inputTopic) {
        return inputTopic + SUFFIX;
    }

    /** Builds the dead-letter record for a failed input record, and counts it. */
    public ProducerRecord<byte[], byte[]> deadLetter(String inputTopic, int partition, long offset, byte[] key,
                                                     byte[] value, Headers original, DecodeException error) {
        counts.get(error.errorClass()).increment();
        return record(inputTopic, partition, offset, key, value, original, error.errorClass(), error.getMessage());
    }

    public static ProducerRecord<byte[], byte[]> record(String inputTopic, int partition, long offset, byte[] key,
                                                        byte[] value, Headers original, DecodeError cls, String message) {
        return record(inputTopic, partition, offset, key, value, original, cls.id(), message);
    }

    /** As above, for records of other topics than images (e.g. labels), with their own error class. */
    public static ProducerRecord<byte[], byte[]> record(String inputTopic, int partition, long offset, byte[] key,
                                                        byte[] value, Headers original, String errorClass, String message) {
        RecordHeaders headers = new RecordHeaders();
        if (original != null) {
            for (Header h : original) {
                headers.add(h);
            }
        }
        headers.add(ImageHeaders.ERROR, utf8(message));
        headers.add(ImageHeaders.ERROR_CLASS, utf8(errorClass));
        headers.add(ImageHeaders.SOURCE_TOPIC, utf8(inputTopic));
        headers.add(ImageHeaders.SOURCE_PARTITION, utf8(Integer.toString(partition)));
        headers.add(ImageHeaders.SOURCE_OFFSET, utf8(Long.toString(offset)));
        return new ProducerRecord<>(topicFor(inputTopic), null, key, value, headers);
    }

    public long count(DecodeError cls) {
        return counts.get(cls).sum();
    }

    public long total() {
        return counts.values().stream().mapToLong(LongAdder::sum).sum();
    }

    /** Counts by error-class id. */
    public Map<String, Long> snapshot() {
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        counts.forEach((k, v) -> out.put(k.id(), v.sum()));
        return out;
    }

    private static byte[] utf8(String s) {
        return (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
    }
}
