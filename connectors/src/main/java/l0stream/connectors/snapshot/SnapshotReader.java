package l0stream.connectors.snapshot;

import l0stream.connectors.trust.SnapshotTrust;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Reads the snapshot topic from the beginning with {@code isolation.level=read_committed} and
 * yields whole, verified snapshots (see {@link SnapshotAssembler} for what is skipped and why).
 * Assigns all partitions itself (no consumer group), so any number of readers see everything.
 * Not thread-safe; close it.
 */
public final class SnapshotReader implements AutoCloseable {

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final SnapshotAssembler assembler;

    /** A reader that does not check signatures (for inspecting a topic); see the other constructor. */
    public SnapshotReader(Properties clientProperties, String topic) {
        this(clientProperties, topic, null);
    }

    /**
     * {@code clientProperties}: bootstrap and any security settings; the rest is set here.
     * {@code trust}: the signatures manifests must carry (null: not checked).
     */
    public SnapshotReader(Properties clientProperties, String topic, SnapshotTrust trust) {
        this.assembler = new SnapshotAssembler(trust);
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.putIfAbsent(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(16 << 20));
        p.putIfAbsent(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(64 << 20));
        this.consumer = new KafkaConsumer<>(p);
        List<TopicPartition> parts = new ArrayList<>();
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
            consumer.close();
            throw new IllegalStateException("Snapshot topic " + topic + " does not exist");
        }
        for (PartitionInfo pi : infos) {
            parts.add(new TopicPartition(topic, pi.partition()));
        }
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
    }

    /** Polls once; returns the snapshots completed by what arrived. */
    public List<VerifiedSnapshot> poll(Duration timeout) {
        List<VerifiedSnapshot> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
            out.addAll(assembler.accept(r.key(), r.value(), r.headers()));
        }
        return out;
    }

    /** Polls until {@code count} snapshots arrived or the timeout passed. */
    public List<VerifiedSnapshot> pollUntil(int count, Duration timeout) {
        List<VerifiedSnapshot> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (out.size() < count && System.nanoTime() < deadline) {
            out.addAll(poll(Duration.ofMillis(200)));
        }
        return out;
    }

    /**
     * Polls until everything committed to the topic when this was called has been read (each
     * partition's position reaches its last stable offset) and returns what it completed.
     *
     * @throws IllegalStateException if that takes longer than {@code timeout}
     */
    public List<VerifiedSnapshot> readToEnd(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        java.util.Map<TopicPartition, Long> end = consumer.endOffsets(consumer.assignment(), timeout);
        List<VerifiedSnapshot> out = new ArrayList<>();
        while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey(), timeout) < e.getValue())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Could not read the snapshot topic to its end within " + timeout.toSeconds() + " s");
            }
            out.addAll(poll(Duration.ofMillis(200)));
        }
        return out;
    }

    public SnapshotAssembler assembler() {
        return assembler;
    }

    @Override
    public void close() {
        consumer.close();
    }
}
