package l0stream.connectors.flink;

import l0stream.connectors.image.DecodedRecord;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/** KafkaSink schema for dead letters: the original record, to {@code <source topic>.dlq}, with error headers. */
public final class DeadLetterSerializationSchema implements KafkaRecordSerializationSchema<DecodedRecord> {
    private static final long serialVersionUID = 1L;

    @Override
    public ProducerRecord<byte[], byte[]> serialize(DecodedRecord element, KafkaSinkContext context, Long timestamp) {
        return element.toDeadLetter();
    }
}
