package l0stream.connectors.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

@ExtendWith(KafkaTestBroker.class)
class LocalKafkaBrokerTest {

    @Test
    void testProducedRecordsAreAllConsumed() {
        String topic = KafkaTestBroker.newTopic("roundtrip", 3);
        int n = 500;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaTestBroker.producerProps())) {
            CheckedSends<byte[], byte[]> sends = new CheckedSends<>(producer);
            for (int i = 0; i < n; i++) {
                sends.send(new ProducerRecord<>(topic, ("k" + i).getBytes(StandardCharsets.UTF_8),
                        ("v" + i).getBytes(StandardCharsets.UTF_8)));
            }
            sends.flush();
            assertEquals(n, sends.acknowledged());
        }
        Set<String> seen = new HashSet<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(KafkaTestBroker.consumerProps("g-" + topic))) {
            c.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 30_000;
            while (seen.size() < n && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    seen.add(new String(r.value(), StandardCharsets.UTF_8));
                }
            }
        }
        assertEquals(n, seen.size());
    }

    @Test
    void testServerPropertiesAreSizedForTransactionsAndSnapshots() {
        String p = LocalKafkaBroker.serverProperties(new LocalKafkaBroker.Settings(Path.of("/tmp/x"), 19092, 19093, 512,
                Path.of("cp.txt")), null);
        assertTrue(p.contains("listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"));
        assertTrue(p.contains("transaction.state.log.replication.factor=1"));
        assertTrue(p.contains("transaction.max.timeout.ms=3600000"));
        assertTrue(p.contains("message.max.bytes=10485760"));
    }

    @Test
    void testBadSettingsNameTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LocalKafkaBroker.Settings(Path.of("x"), 9092, 9092, 512, Path.of("cp")));
        assertEquals("Invalid value 9092 for controller-port: must differ from port", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new LocalKafkaBroker.Settings(Path.of("x"), 0, 9093, 512, Path.of("cp")));
        assertEquals("Invalid value 0 for port: must be a TCP port 1-65535", e.getMessage());
    }
}
