package l0stream.pipeline;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import org.apache.flink.metrics.MetricGroup;

import java.util.concurrent.TimeUnit;

/**
 * Operators record their metrics with Micrometer; this bridge exposes every meter of an
 * operator's registry through Flink's metric system, so Flink's reporters (Prometheus on
 * 9249…) serve them. Tags become Flink metric groups (key/value → a label); dots in names become
 * underscores. Gauges and counters map to one Flink gauge; a timer to {@code _count},
 * {@code _mean_ms} and {@code _max_ms}. Meters added later are bridged as they appear.
 */
public final class FlinkMeterBridge {

    private FlinkMeterBridge() {}

    /** A fresh registry whose meters all show up under {@code group}. */
    public static MeterRegistry registry(MetricGroup group) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        registry.config().onMeterAdded(m -> bind(m, group));
        return registry;
    }

    private static void bind(Meter meter, MetricGroup root) {
        MetricGroup g = root;
        for (Tag t : meter.getId().getTagsAsIterable()) {
            g = g.addGroup(t.getKey(), t.getValue());
        }
        String name = meter.getId().getName().replace('.', '_');
        if (meter instanceof Gauge gauge) {
            g.gauge(name, (org.apache.flink.metrics.Gauge<Double>) gauge::value);
        } else if (meter instanceof Counter counter) {
            g.gauge(name, (org.apache.flink.metrics.Gauge<Double>) counter::count);
        } else if (meter instanceof Timer timer) {
            g.gauge(name + "_count", (org.apache.flink.metrics.Gauge<Long>) timer::count);
            g.gauge(name + "_mean_ms", (org.apache.flink.metrics.Gauge<Double>) () -> timer.mean(TimeUnit.MILLISECONDS));
            g.gauge(name + "_max_ms", (org.apache.flink.metrics.Gauge<Double>) () -> timer.max(TimeUnit.MILLISECONDS));
        }
    }
}
