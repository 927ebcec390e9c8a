package l0stream.pipeline.rollout;

import l0stream.connectors.image.DeadLetters;
import l0stream.connectors.rollout.LabelEvent;

import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;


/**
 * Reads label records; one that is neither form of {@link LabelEvent} goes, unchanged, to the
 * dead-letter side output with its reason in the headers {@link DeadLetters} puts on every dead
 * letter (error class {@code malformed-label}), and is counted. The job
 * keeps running.
 */
final class LabelParser extends ProcessFunction<RawRecord, LabelEvent> {

    static final OutputTag<RawRecord> DEAD_LETTERS = new OutputTag<>("label-dead-letters") {};

    private transient Counter deadLetters;

    @Override
    public void open(org.apache.flink.api.common.functions.OpenContext openContext) {
        deadLetters = getRuntimeContext().getMetricGroup().addGroup("rollout").counter("labelDeadLetters");
    }

    @Override
    public void processElement(RawRecord r, Context ctx, Collector<LabelEvent> out) {
        Headers h = r.kafkaHeaders();
        try {
            out.collect(LabelEvent.parse(r.key(), r.value(), h, r.timestampMs()));
        } catch (IllegalArgumentException e) {
            deadLetters.inc();
            ProducerRecord<byte[], byte[]> d = DeadLetters.record(r.topic(), r.partition(), r.offset(), r.key(), r.value(), h,
                    "malformed-label", e.getMessage());
            ctx.output(DEAD_LETTERS, new RawRecord(d.topic(), r.partition(), r.offset(), r.timestampMs(), d.key(), d.value(),
                    RawRecord.pack(d.headers())));
        }
    }
}
