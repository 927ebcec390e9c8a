package l0stream.connectors.flink;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.connectors.image.DecodePolicy;
import l0stream.connectors.image.DecodedRecord;
import l0stream.connectors.image.ImageEncoder;
import l0stream.connectors.image.ImageEncoder.Encoding;
import l0stream.connectors.snapshot.SnapshotRecord;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

class FlinkSchemasTest {

    private static List<DecodedRecord> deserialize(byte[] value, RecordHeaders headers) throws Exception {
        LabeledImageDeserializationSchema schema = new LabeledImageDeserializationSchema(DecodePolicy.fashionMnist());
        List<DecodedRecord> out = new ArrayList<>();
        schema.deserialize(new ConsumerRecord<>("images", 2, 41L, 0L, TimestampType.CREATE_TIME, 0, value == null ? 0 : value.length,
                "k".getBytes(StandardCharsets.UTF_8), value, headers, Optional.empty()), new Collector<>() {
                    @Override
                    public void collect(DecodedRecord r) {
                        out.add(r);
                    }

                    @Override
                    public void close() {}
                });
        return out;
    }

    @Test
    void testEveryRecordBecomesExactlyOneDecodedRecord() throws Exception {
        byte[] px = new byte[784];
        List<DecodedRecord> good = deserialize(ImageEncoder.encode(px, 28, 28, 1, Encoding.PNG),
                (RecordHeaders) ImageEncoder.headers(6, Encoding.PNG, 28, 28, 1, "a", 5));
        assertEquals(1, good.size());
        assertFalse(good.get(0).isDeadLetter());
        assertEquals(6, good.get(0).image().label());

        RecordHeaders bad = new RecordHeaders();
        bad.add("label", "x".getBytes(StandardCharsets.UTF_8));
        List<DecodedRecord> dead = deserialize(new byte[] {1, 2, 3}, bad);
        assertEquals(1, dead.size());
        assertTrue(dead.get(0).isDeadLetter());
        ProducerRecord<byte[], byte[]> dlq = new DeadLetterSerializationSchema().serialize(dead.get(0), null, null);
        assertEquals("images.dlq", dlq.topic());
        assertArrayEquals(new byte[] {1, 2, 3}, dlq.value());
        assertEquals("invalid-label", new String(dlq.headers().lastHeader("error-class").value(), StandardCharsets.UTF_8));
        assertEquals("41", new String(dlq.headers().lastHeader("source-offset").value(), StandardCharsets.UTF_8));
        assertEquals("x", new String(dlq.headers().lastHeader("label").value(), StandardCharsets.UTF_8));
    }

    @Test
    void testRecordTypesAreFlinkPojosNotKryo() throws Exception {
        TypeInformation<DecodedRecord> type = new LabeledImageDeserializationSchema(DecodePolicy.fashionMnist()).getProducedType();
        assertInstanceOf(PojoTypeInfo.class, type, "DecodedRecord must not fall back to Kryo: " + type);
        assertInstanceOf(PojoTypeInfo.class, TypeInformation.of(SnapshotRecord.class));
        // and the serializer round-trips both outcomes
        TypeSerializer<DecodedRecord> ser = type.createSerializer(new SerializerConfigImpl());
        List<DecodedRecord> recs = new ArrayList<>();
        recs.addAll(deserialize(ImageEncoder.encode(new byte[784], 28, 28, 1, Encoding.RAW),
                (RecordHeaders) ImageEncoder.headers(1, Encoding.RAW, 28, 28, 1, null, -1)));
        recs.addAll(deserialize(new byte[0], new RecordHeaders()));
        for (DecodedRecord r : recs) {
            DataOutputSerializer out = new DataOutputSerializer(1024);
            ser.serialize(r, out);
            DecodedRecord back = ser.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
            assertEquals(r.isDeadLetter(), back.isDeadLetter());
            assertEquals(r.image(), back.image());
            assertEquals(r.errorClass(), back.errorClass());
        }
    }

    @Test
    void testSnapshotSchemaSetsKeyAndHeaders() {
        SnapshotRecord chunk = new SnapshotRecord("lenet", SnapshotRecord.CHUNK, 7, 2, 3, new byte[] {9});
        ProducerRecord<byte[], byte[]> r = new SnapshotRecordSerializationSchema("snapshots").serialize(chunk, null, null);
        assertEquals("snapshots", r.topic());
        assertEquals("lenet", new String(r.key(), StandardCharsets.UTF_8));
        assertEquals("2/3", new String(r.headers().lastHeader("chunk").value(), StandardCharsets.UTF_8));
        assertEquals("7", new String(r.headers().lastHeader("snapshot-version").value(), StandardCharsets.UTF_8));
    }
}
