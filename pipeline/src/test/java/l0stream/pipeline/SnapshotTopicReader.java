package l0stream.pipeline;

import l0stream.connectors.kafka.KafkaTestBroker;
import l0stream.connectors.snapshot.SnapshotManifest;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The job tests' view of what a read_committed reader sees: a snapshot topic's manifests in topic
 * order, as they arrive, and the number of records on a topic (dead letters).
 */
public final class SnapshotTopicReader implements AutoCloseable {

    private final KafkaConsumer<byte[], byte[]> consumer;
    /** Every manifest read so far, in topic order. */
    public final List<SnapshotManifest> seen = new ArrayList<>();

    public SnapshotTopicReader(String topic) {
        consumer = new KafkaConsumer<>(KafkaTestBroker.consumerProps("m-" + topic + "-" + System.nanoTime()));
        consumer.subscribe(List.of(topic));
    }

    /** Every manifest of {@code topic}: reads until 2 s pass without a new record (at most 30 s). */
    public static List<SnapshotManifest> all(String topic) throws Exception {
        try (SnapshotTopicReader r = new SnapshotTopicReader(topic)) {
            return r.drain();
        }
    }

    /** Polls until {@code done} holds for what was read (or the timeout), and returns what was read. */
    public List<SnapshotManifest> until(Predicate<List<SnapshotManifest>> done, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.test(seen) && System.nanoTime() < deadline) {
            pollOnce();
        }
        return seen;
    }

    /** Everything, until 2 s pass without a new record (at most 30 s). */
    public List<SnapshotManifest> drain() throws Exception {
        long quietSince = System.currentTimeMillis();
        long deadline = quietSince + 30_000;
        while (System.currentTimeMillis() - quietSince < 2000 && System.currentTimeMillis() < deadline) {
            if (pollOnce() > 0) {
                quietSince = System.currentTimeMillis();
            }
        }
        return seen;
    }

    private int pollOnce() throws Exception {
        int n = 0;
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(250))) {
            n++;
            if ("manifest".equals(new String(r.headers().lastHeader("record-type").value(), StandardCharsets.UTF_8))) {
                seen.add(SnapshotManifest.fromJson(r.value()));
            }
        }
        return n;
    }

    /** Records on {@code topic} (read_committed): until {@code expected} arrived and 2 s passed without more (at most 30 s). */
    public static long count(String topic, long expected) {
        long n = 0;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(KafkaTestBroker.consumerProps("c-" + topic))) {
            c.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 30_000;
            long lastNew = System.currentTimeMillis();
            while (System.currentTimeMillis() < deadline && (n < expected || System.currentTimeMillis() - lastNew < 2000)) {
                int got = c.poll(Duration.ofMillis(200)).count();
                if (got > 0) {
                    n += got;
                    lastNew = System.currentTimeMillis();
                }
            }
        }
        return n;
    }

    @Override
    public void close() {
        consumer.close();
    }
}
