package l0stream.pipeline.rollout;

import l0stream.connectors.image.ImageHeaders;
import l0stream.connectors.rollout.LabelEvent;

import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.apache.kafka.common.header.Headers;

import java.nio.charset.StandardCharsets;

/**
 * Reads label records; one that is neither form of {@link LabelEvent} goes, unchanged, to the
 * dead-letter side output with its reason in an {@code error} header, and is counted. The job
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
            h.add(ImageHeaders.ERROR, utf8(e.getMessage()));
            h.add(ImageHeaders.ERROR_CLASS, utf8("malformed-label"));
            h.add(ImageHeaders.SOURCE_TOPIC, utf8(r.topic()));
            h.add(ImageHeaders.SOURCE_PARTITION, utf8(Integer.toString(r.partition())));
            h.add(ImageHeaders.SOURCE_OFFSET, utf8(Long.toString(r.offset())));
            ctx.output(DEAD_LETTERS, new RawRecord(r.topic(), r.partition(), r.offset(), r.timestampMs(), r.key(), r.value(),
                    RawRecord.pack(h)));
        }
    }

    private static byte[] utf8(String s) {
        return (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
    }
}
