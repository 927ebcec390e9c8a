package l0stream.connectors.kafka;

import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Sends through a producer and never lets a failed send go unnoticed (KAFKA-15591 in STACK.md):
 * every send's callback is checked, {@link #flush} throws the first failure, and
 * {@link #acknowledged()} counts what the broker confirmed. Thread-safe.
 */
public final class CheckedSends<K, V> {

    private final Producer<K, V> producer;
    private final AtomicReference<Exception> firstFailure = new AtomicReference<>();
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicLong sent = new AtomicLong();

    public CheckedSends(Producer<K, V> producer) {
        this.producer = producer;
    }

    /** Sends asynchronously; throws at once if an earlier send already failed. */
    public Future<RecordMetadata> send(ProducerRecord<K, V> record) {
        rethrow();
        sent.incrementAndGet();
        return producer.send(record, (md, e) -> {
            if (e != null) {
                firstFailure.compareAndSet(null, e);
            } else {
                acknowledged.incrementAndGet();
            }
        });
    }

    /** Sends and waits for the broker's acknowledgement. */
    public RecordMetadata sendAndWait(ProducerRecord<K, V> record, long timeoutMs) {
        try {
            return send(record).get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Send to " + record.topic() + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while sending to " + record.topic(), e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("Send to " + record.topic() + " not acknowledged within " + timeoutMs + " ms", e);
        }
    }

    /** Flushes and throws if any send so far failed or was not acknowledged. */
    public void flush() {
        producer.flush();
        rethrow();
        if (acknowledged.get() != sent.get()) {
            throw new IllegalStateException("Only " + acknowledged.get() + " of " + sent.get()
                    + " sends were acknowledged after flush");
        }
    }

    public long acknowledged() {
        return acknowledged.get();
    }

    private void rethrow() {
        Exception e = firstFailure.get();
        if (e != null) {
            throw new IllegalStateException("A send failed: " + e, e);
        }
    }
}
