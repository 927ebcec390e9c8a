package l0stream.pipeline.rollout;

import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A Kafka record as it came (key, value, headers, where from), for the operators that parse it
 * themselves: the snapshot assembler, which keeps incomplete versions' records in checkpointed
 * state, and the label parser, which sends what it cannot read to a dead-letter topic unchanged.
 * Headers are packed as (count, then length-prefixed key and value) so the record stays a plain
 * Flink POJO.
 */
public record RawRecord(String topic, int partition, long offset, long timestampMs, byte[] key, byte[] value, byte[] headers) {

    public Headers kafkaHeaders() {
        RecordHeaders h = new RecordHeaders();
        if (headers == null || headers.length == 0) {
            return h;
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(headers))) {
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                String k = in.readUTF();
                int len = in.readInt();
                byte[] v = len < 0 ? null : in.readNBytes(len);
                h.add(k, v);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return h;
    }

    static byte[] pack(Headers headers) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            Header[] all = headers == null ? new Header[0] : headers.toArray();
            out.writeInt(all.length);
            for (Header h : all) {
                out.writeUTF(h.key());
                if (h.value() == null) {
                    out.writeInt(-1);
                } else {
                    out.writeInt(h.value().length);
                    out.write(h.value());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Reads every record as it is. */
    public static final class Schema implements KafkaRecordDeserializationSchema<RawRecord> {
        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> r, Collector<RawRecord> out) {
            out.collect(new RawRecord(r.topic(), r.partition(), r.offset(), r.timestamp(), r.key(), r.value(), pack(r.headers())));
        }

        @Override
        public TypeInformation<RawRecord> getProducedType() {
            return TypeInformation.of(RawRecord.class);
        }
    }
}
