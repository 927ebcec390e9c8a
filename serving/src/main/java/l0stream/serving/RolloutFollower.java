package l0stream.serving;

import l0stream.connectors.rollout.RolloutDecision;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * Follows the rollout topic (read_committed, from the beginning, no consumer group) and keeps the
 * latest decision per model id: every replica reads the same records in the same order, so all
 * replicas route by the same decision, and a restarted replica resumes the rollout where the
 * topic says it is. A decision older than one already applied (a redelivery) is ignored.
 */
final class RolloutFollower implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RolloutFollower.class);
    private static final int HISTORY = 50;

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Map<String, RolloutDecision> current = new HashMap<>();
    private final Deque<RolloutDecision> history = new ArrayDeque<>();
    private final Consumer<RolloutDecision> onDecision;
    private final Thread reader;
    private volatile boolean running = true;
    private volatile long malformed;

    RolloutFollower(Properties client, String topic, Consumer<RolloutDecision> onDecision) {
        this.onDecision = onDecision;
        Properties p = new Properties();
        p.putAll(client);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        this.consumer = new KafkaConsumer<>(p);
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
            consumer.close();
            throw new IllegalStateException("Rollout topic " + topic + " does not exist");
        }
        List<TopicPartition> parts = new ArrayList<>();
        infos.forEach(i -> parts.add(new TopicPartition(topic, i.partition())));
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        this.reader = new Thread(this::run, "rollout-follower");
        reader.setDaemon(true);
        reader.start();
    }

    private void run() {
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    if (r.value() == null) {
                        continue; // a tombstone: compaction's business, not a decision
                    }
                    RolloutDecision d;
                    try {
                        d = RolloutDecision.fromJson(r.value());
                    } catch (IllegalArgumentException e) {
                        malformed++;
                        LOG.warn("skipping a rollout record at offset {}: {}", r.offset(), e.getMessage());
                        continue;
                    }
                    apply(d);
                }
            }
        } catch (org.apache.kafka.common.errors.WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            LOG.error("rollout follower stopped: {}", e.toString(), e);
        } finally {
            consumer.close();
        }
    }

    private void apply(RolloutDecision d) {
        synchronized (this) {
            RolloutDecision before = current.get(d.modelId());
            if (before != null && before.seq() >= d.seq()) {
                return;
            }
            current.put(d.modelId(), d);
            history.addLast(d);
            while (history.size() > HISTORY) {
                history.removeFirst();
            }
        }
        LOG.info("rollout {} #{} {}: stable v{}, candidate {}{}", d.modelId(), d.seq(), d.kind().id(), d.stableVersion(),
                d.hasCandidate() ? "v" + d.candidateVersion() : "none", d.paused() ? " (paused)" : "");
        onDecision.accept(d);
    }

    /** The decision in force for a model, or null before the first one. */
    synchronized RolloutDecision current(String modelId) {
        return current.get(modelId);
    }

    /** The decision in force for the only (or any) model followed; null before the first. */
    synchronized RolloutDecision current() {
        return history.isEmpty() ? null : current.get(history.peekLast().modelId());
    }

    synchronized List<RolloutDecision> history() {
        return new ArrayList<>(history);
    }

    long malformed() {
        return malformed;
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            reader.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
