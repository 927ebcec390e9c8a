package l0stream.connectors.flink;

import l0stream.connectors.snapshot.SnapshotRecord;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/** KafkaSink schema for snapshot manifests and chunks (see {@link SnapshotRecord} for the layout). */
public final class SnapshotRecordSerializationSchema implements KafkaRecordSerializationSchema<SnapshotRecord> {
    private static final long serialVersionUID = 1L;

    private final String topic;

    public SnapshotRecordSerializationSchema(String topic) {
        this.topic = java.util.Objects.requireNonNull(topic, "topic");
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(SnapshotRecord element, KafkaSinkContext context, Long timestamp) {
        return element.toProducerRecord(topic);
    }
}
