package l0stream.connectors.flink;

import l0stream.connectors.image.DecodePolicy;
import l0stream.connectors.image.DecodedRecord;
import l0stream.connectors.image.ImageDecoder;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * KafkaSource schema for the labeled-image topic: every record becomes exactly one
 * {@link DecodedRecord}, decoded or carrying what its dead letter needs; it never throws on bad
 * input, so one bad record cannot stop the job. The policy is the serialisable spec; the decoder
 * is made in {@link #open}.
 */
public final class LabeledImageDeserializationSchema implements KafkaRecordDeserializationSchema<DecodedRecord> {
    private static final long serialVersionUID = 1L;

    private final DecodePolicy policy;
    private transient ImageDecoder decoder;

    public LabeledImageDeserializationSchema(DecodePolicy policy) {
        this.policy = java.util.Objects.requireNonNull(policy, "policy");
    }

    @Override
    public void open(org.apache.flink.api.common.serialization.DeserializationSchema.InitializationContext context) {
        decoder = new ImageDecoder(policy);
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<DecodedRecord> out) {
        if (decoder == null) {
            decoder = new ImageDecoder(policy);
        }
        out.collect(DecodedRecord.decode(decoder, record.topic(), record.partition(), record.offset(), record.key(),
                record.value(), record.headers()));
    }

    @Override
    public TypeInformation<DecodedRecord> getProducedType() {
        return TypeInformation.of(DecodedRecord.class);
    }
}
