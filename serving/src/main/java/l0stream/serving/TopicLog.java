package l0stream.serving;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Writes records to one topic without ever slowing the request that made them: {@link #offer}
 * puts the record in a bounded queue and returns at once; one thread drains the queue into a Kafka
 * producer. A full queue (the broker is down or slow) drops the record; a send the broker refuses
 * drops it too. Both are counted in {@code serving_topic_log_total{topic, outcome}}, never thrown.
 */
final class TopicLog implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TopicLog.class);

    private final String topic;
    private final BlockingQueue<ProducerRecord<byte[], byte[]>> queue;
    private final KafkaProducer<byte[], byte[]> producer;
    private final Counter sent;
    private final Counter dropped;
    private final Counter failed;
    private final Thread sender;
    private volatile boolean running = true;

    TopicLog(Properties client, String topic, int capacity, MeterRegistry metrics) {
        this.topic = topic;
        this.queue = new ArrayBlockingQueue<>(capacity);
        Properties p = new Properties();
        p.putAll(client);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
        p.putIfAbsent(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "5");
        // the sender thread, not a request, waits for a broker that is away; bounded so close() returns
        p.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, "2000");
        p.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
        p.putIfAbsent(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        this.producer = new KafkaProducer<>(p);
        this.sent = count(metrics, "sent");
        this.dropped = count(metrics, "dropped");
        this.failed = count(metrics, "failed");
        this.sender = new Thread(this::drain, "topic-log-" + topic);
        sender.setDaemon(true);
        sender.start();
    }

    private Counter count(MeterRegistry metrics, String outcome) {
        return Counter.builder("serving_topic_log").tag("topic", topic).tag("outcome", outcome)
                .description("records a replica logged to Kafka (predictions, labels), by outcome; dropped and failed ones are lost")
                .register(metrics);
    }

    /** Queues a record; never blocks. Returns false (and counts a drop) when the queue is full. */
    boolean offer(String key, byte[] value) {
        if (!running || !queue.offer(new ProducerRecord<>(topic, key == null ? null : key.getBytes(StandardCharsets.UTF_8), value))) {
            dropped.increment();
            return false;
        }
        return true;
    }

    private void drain() {
        List<ProducerRecord<byte[], byte[]>> batch = new ArrayList<>();
        while (running || !queue.isEmpty()) {
            try {
                ProducerRecord<byte[], byte[]> first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, 1023);
                for (ProducerRecord<byte[], byte[]> r : batch) {
                    try {
                        producer.send(r, (md, e) -> {
                            if (e == null) {
                                sent.increment();
                            } else {
                                failed.increment();
                            }
                        });
                    } catch (org.apache.kafka.common.errors.InterruptException e) {
                        failed.increment(); // close() gave up waiting for the broker
                        return;
                    } catch (RuntimeException e) {
                        // metadata not available within max.block.ms, or the producer is closing
                        failed.increment();
                    }
                }
                batch.clear();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    double sent() {
        return sent.count();
    }

    double dropped() {
        return dropped.count();
    }

    double failed() {
        return failed.count();
    }

    String topic() {
        return topic;
    }

    @Override
    public void close() {
        running = false;
        try {
            sender.join(2000);
            if (sender.isAlive()) {
                sender.interrupt(); // still waiting for a broker that is away: what is left is lost, and counted
                sender.join(5000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        int left = queue.size();
        if (left > 0) {
            dropped.increment(left);
            queue.clear();
        }
        producer.close(java.time.Duration.ofSeconds(2));
        LOG.info("log of {} closed: {} sent, {} dropped, {} failed", topic, (long) sent.count(), (long) dropped.count(), (long) failed.count());
    }
}
