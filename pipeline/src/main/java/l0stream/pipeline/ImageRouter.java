package l0stream.pipeline;

import l0stream.connectors.image.DecodeError;
import l0stream.connectors.image.DecodedRecord;

import org.apache.flink.api.common.functions.OpenContext;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.util.EnumMap;
import java.util.Map;

/**
 * Validate/decode step: decoded images go on to the trainer, dead letters to the
 * {@link #DEAD_LETTERS} side output (and from there to {@code <input>.dlq}), counted per error
 * class in the {@code dead_lettered} counter (label {@code error_class}).
 */
public final class ImageRouter extends ProcessFunction<DecodedRecord, DecodedRecord> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<DecodedRecord> DEAD_LETTERS = new OutputTag<>("dead-letters") {
        private static final long serialVersionUID = 1L;
    };

    private transient Map<DecodeError, Counter> deadLettered;

    @Override
    public void open(OpenContext openContext) {
        MeterRegistry m = FlinkMeterBridge.registry(getRuntimeContext().getMetricGroup());
        deadLettered = new EnumMap<>(DecodeError.class);
        for (DecodeError e : DecodeError.values()) {
            deadLettered.put(e, Counter.builder("dead_lettered").tag("error_class", e.id()).register(m));
        }
    }

    @Override
    public void processElement(DecodedRecord r, Context ctx, Collector<DecodedRecord> out) {
        if (r.isDeadLetter()) {
            deadLettered.get(DecodeError.fromId(r.errorClass())).increment();
            ctx.output(DEAD_LETTERS, r);
        } else {
            out.collect(r);
        }
    }
}
