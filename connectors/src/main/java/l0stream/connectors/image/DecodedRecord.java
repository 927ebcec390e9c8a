package l0stream.connectors.image;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The outcome of reading one input record: either a decoded {@link #image()}, or everything a
 * dead letter needs (the original key, value and headers, where it came from, and why it failed).
 * Plain fields only, so that Flink serialises it as a POJO rather than with Kryo.
 *
 * @param image        the decoded example, or null when the record is a dead letter
 * @param errorClass   a {@link DecodeError} id, or null when decoded
 * @param error        the reason, or null when decoded
 * @param topic        source topic
 * @param partition    source partition
 * @param offset       source offset
 * @param key          original key (dead letters only)
 * @param value        original value (dead letters only)
 * @param headerKeys   original header keys (dead letters only)
 * @param headerValues original header values, aligned with {@code headerKeys}
 */
public record DecodedRecord(LabeledImage image, String errorClass, String error, String topic, int partition,
                            long offset, byte[] key, byte[] value, String[] headerKeys, byte[][] headerValues) {

    public static DecodedRecord decode(ImageDecoder decoder, String topic, int partition, long offset, byte[] key,
                                       byte[] value, Headers headers) {
        try {
            return new DecodedRecord(decoder.decode(value, headers), null, null, topic, partition, offset,
                    null, null, null, null);
        } catch (DecodeException e) {
            var hs = headers == null ? new org.apache.kafka.common.header.Header[0] : headers.toArray();
            String[] keys = new String[hs.length];
            byte[][] values = new byte[hs.length][];
            for (int i = 0; i < hs.length; i++) {
                keys[i] = hs[i].key();
                values[i] = hs[i].value();
            }
            return new DecodedRecord(null, e.errorClass().id(), e.getMessage(), topic, partition, offset, key, value,
                    keys, values);
        }
    }

    public boolean isDeadLetter() {
        return image == null;
    }

    /** The record to write to {@code <topic>.dlq}: original key, value, headers + error headers. */
    public ProducerRecord<byte[], byte[]> toDeadLetter() {
        if (!isDeadLetter()) {
            throw new IllegalStateException("record " + topic + "-" + partition + "@" + offset + " was decoded");
        }
        RecordHeaders original = new RecordHeaders();
        for (int i = 0; i < headerKeys.length; i++) {
            original.add(headerKeys[i], headerValues[i]);
        }
        DecodeError cls = DecodeError.fromId(errorClass);
        return DeadLetters.record(topic, partition, offset, key, value, original, cls, error);
    }
}
