package l0stream.connectors.dataset;

import l0stream.connectors.image.ImageEncoder;
import l0stream.connectors.image.ImageEncoder.Encoding;
import l0stream.connectors.kafka.CheckedSends;
import l0stream.connectors.kafka.Topics;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Replays a dataset into a Kafka topic as labeled-image records, optionally rate-limited and with
 * a drift scenario. Creates the topic if needed (waiting for leaders) and checks every send.
 * Prints a progress line (records, rate, ETA) about once a second and a summary at the end.
 */
public final class ReplayProducer {

    /** What to replay and where. */
    public record Options(Properties client, String topic, int partitions, long records, double ratePerSecond,
                          DriftScenario scenario, long switchAt, Encoding encoding, long seed) {
        public Options {
            if (records < 1) {
                throw new IllegalArgumentException("Invalid value " + records + " for --records: must be >= 1");
            }
            if (partitions < 1) {
                throw new IllegalArgumentException("Invalid value " + partitions + " for --partitions: must be >= 1");
            }
        }
    }

    /** What happened. */
    public record Summary(long sent, long acknowledged, long bytes, double seconds, long afterSwitch) {
        public double recordsPerSecond() {
            return seconds <= 0 ? 0 : sent / seconds;
        }
    }

    private final AtomicBoolean stop = new AtomicBoolean();
    /** Records handed to the producer so far by a running {@link #run}, for progress lines elsewhere. */
    private final AtomicLong sentSoFar = new AtomicLong();

    /** Asks a running {@link #run} to stop after the current record (e.g. on Ctrl-C). */
    public void stop() {
        stop.set(true);
    }

    /** Records sent so far by the current or last {@link #run}. */
    public long sentSoFar() {
        return sentSoFar.get();
    }

    public Summary run(ImageDataset data, Options o, PrintStream progress) {
        Properties p = new Properties();
        p.putAll(o.client());
        try (Admin admin = Admin.create(p)) {
            Topics.ensure(admin, o.topic(), o.partitions(), Map.of(), Duration.ofSeconds(60));
        }
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
        p.putIfAbsent(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 * 1024));
        DriftScenario.Stream stream = new DriftScenario.Stream(o.scenario(), data, o.switchAt(), o.seed());
        long start = System.nanoTime();
        long lastPrint = start;
        long bytes = 0;
        long sent = 0;
        long after = 0;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            CheckedSends<byte[], byte[]> sends = new CheckedSends<>(producer);
            for (; sent < o.records() && !stop.get(); sent++, sentSoFar.lazySet(sent)) {
                DriftScenario.Example ex = stream.next();
                byte[] value = ImageEncoder.encode(ex.pixels(), data.height(), data.width(), data.channels(), o.encoding());
                String id = data.name() + "-" + ex.sourceIndex();
                var headers = ImageEncoder.headers(ex.label(), o.encoding(), data.height(), data.width(), data.channels(),
                        id, System.currentTimeMillis());
                sends.send(new ProducerRecord<>(o.topic(), null, id.getBytes(StandardCharsets.UTF_8), value, headers));
                bytes += value.length;
                after += ex.afterSwitch() ? 1 : 0;
                if (o.ratePerSecond() > 0) {
                    long due = start + (long) ((sent + 1) * 1e9 / o.ratePerSecond());
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        sleepNanos(wait);
                    }
                }
                long now = System.nanoTime();
                if (progress != null && now - lastPrint > 1_000_000_000L) {
                    lastPrint = now;
                    double secs = (now - start) / 1e9;
                    double rate = (sent + 1) / secs;
                    progress.printf(Locale.ROOT, "\rproduce: %,d / %,d records  %,.0f rec/s  %.1f MB/s  ETA %.0fs   ",
                            sent + 1, o.records(), rate, bytes / secs / 1e6, (o.records() - sent - 1) / Math.max(rate, 1e-9));
                    progress.flush();
                }
            }
            sends.flush();
            double secs = (System.nanoTime() - start) / 1e9;
            Summary s = new Summary(sent, sends.acknowledged(), bytes, secs, after);
            if (progress != null) {
                progress.printf(Locale.ROOT, "\rproduce: %,d records (%,d acknowledged, %,d after the %s switch) to %s"
                        + " in %.1fs, %,.0f rec/s, %.1f MB%s%n", s.sent(), s.acknowledged(), after, o.scenario().id(),
                        o.topic(), secs, s.recordsPerSecond(), bytes / 1e6, stop.get() ? " (stopped early)" : "");
            }
            return s;
        }
    }

    private static void sleepNanos(long nanos) {
        try {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
