package l0stream.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

class FlinkMeterBridgeTest {

    /** Records every gauge with its group path, e.g. {@code layer=layer0/gate_open_ratio}. */
    static final class Capturing extends UnregisteredMetricsGroup {
        final Map<String, org.apache.flink.metrics.Gauge<?>> gauges;
        final String path;

        Capturing(Map<String, org.apache.flink.metrics.Gauge<?>> gauges, String path) {
            this.gauges = gauges;
            this.path = path;
        }

        @Override
        public <T, G extends org.apache.flink.metrics.Gauge<T>> G gauge(String name, G gauge) {
            gauges.put(path + name, gauge);
            return gauge;
        }

        @Override
        public MetricGroup addGroup(String key, String value) {
            return new Capturing(gauges, path + key + "=" + value + "/");
        }
    }

    @Test
    void testMetersAppearInFlinkWithTagsAsGroups() {
        Map<String, org.apache.flink.metrics.Gauge<?>> gauges = new TreeMap<>();
        MeterRegistry m = FlinkMeterBridge.registry(new Capturing(gauges, ""));
        double[] ratio = {0.25};
        Gauge.builder("gate_open_ratio", () -> ratio[0]).tag("layer", "layer0").register(m);
        Counter c = Counter.builder("dead_lettered").tag("error_class", "oversize").register(m);
        Timer t = Timer.builder("snapshot.publish").register(m);
        c.increment(3);
        t.record(Duration.ofMillis(40));
        ratio[0] = 0.5;
        assertEquals(0.5, gauges.get("layer=layer0/gate_open_ratio").getValue());
        assertEquals(3.0, gauges.get("error_class=oversize/dead_lettered").getValue());
        assertEquals(1L, gauges.get("snapshot_publish_count").getValue());
        assertEquals(40.0, (Double) gauges.get("snapshot_publish_max_ms").getValue(), 1e-6);
    }
}
