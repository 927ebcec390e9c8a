package l0stream.connectors.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Creates topics and waits until every partition has a leader before anyone writes to them:
 * KAFKA-15591 (fixed only in Kafka 4.5) lets an idempotent producer that writes right after topic
 * creation silently lose its first batch.
 */
public final class Topics {

    private Topics() {}

    /**
     * Creates {@code name} if missing (existing topics are left as they are), then awaits leaders.
     *
     * @return true if this call created the topic, false if it existed
     */
    public static boolean ensure(Admin admin, String name, int partitions, Map<String, String> configs, Duration timeout) {
        boolean created = true;
        try {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs)))
                    .all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("Cannot create topic " + name + ": " + e.getCause(), e.getCause());
            }
            created = false;
        } catch (Exception e) {
            throw new IllegalStateException("Cannot create topic " + name + ": " + e, e);
        }
        awaitLeaders(admin, name, timeout);
        return created;
    }

    /** The value of one topic config as the broker applies it (the topic's own, else the broker default). */
    public static String config(Admin admin, String topic, String key, Duration timeout) {
        org.apache.kafka.common.config.ConfigResource r =
                new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic);
        try {
            org.apache.kafka.clients.admin.ConfigEntry e = admin.describeConfigs(List.of(r)).all()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS).get(r).get(key);
            return e == null ? null : e.value();
        } catch (Exception e) {
            throw new IllegalStateException("Cannot read config " + key + " of topic " + topic + ": " + e, e);
        }
    }

    /** Blocks until every partition of {@code name} has a leader. */
    public static void awaitLeaders(Admin admin, String name, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                TopicDescription d = admin.describeTopics(List.of(name)).allTopicNames()
                        .get(5, TimeUnit.SECONDS).get(name);
                if (d != null && d.partitions().stream().map(TopicPartitionInfo::leader)
                        .allMatch(l -> l != null && !l.isEmpty())) {
                    return;
                }
            } catch (Exception e) {
                last = e;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for leaders of " + name, e);
            }
        }
        throw new IllegalStateException("Topic " + name + " has no leader on every partition after "
                + timeout.toSeconds() + " s", last);
    }
}
