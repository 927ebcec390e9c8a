package l0stream.connectors.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The secure local broker (SASL_SSL, SCRAM-SHA-512, its own CA): unauthenticated clients and wrong
 * passwords are refused; the generated client properties work for topics, produce and consume;
 * no secret is in the broker's own logs or in the redacted form of the client settings.
 */
class SecureBrokerTest {

    private static LocalKafkaBroker broker;

    @BeforeAll
    static void start() throws IOException {
        broker = LocalKafkaBroker.startTemporary(freePort(), freePort(), 512, true, Duration.ofSeconds(120));
    }

    @AfterAll
    static void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void testUnauthenticatedAndWrongPasswordAreRefused() {
        // plaintext to the SASL_SSL port: the TLS handshake never completes, so nothing answers
        assertFalse(LocalKafkaBroker.answers(KafkaClientConfig.plaintext(broker.bootstrap()), Duration.ofSeconds(5)));
        // TLS without SASL credentials
        KafkaClientConfig tlsOnly = KafkaClientConfig.of(broker.bootstrap(), null, List.of("security.protocol=SSL",
                "ssl.truststore.type=PKCS12",
                "ssl.truststore.location=" + broker.clientConfig().asMap().get("ssl.truststore.location"),
                "ssl.truststore.password=" + broker.clientConfig().asMap().get("ssl.truststore.password")));
        assertFalse(LocalKafkaBroker.answers(tlsOnly, Duration.ofSeconds(5)));
        // the right protocol and user with a wrong password: an authentication error, not a hang
        KafkaClientConfig wrong = broker.clientConfig().with("sasl.jaas.config",
                BrokerSecurity.jaas(BrokerSecurity.CLIENT_USER, "not-the-password"));
        Properties p = wrong.toProperties();
        p.put("default.api.timeout.ms", "15000");
        p.put("request.timeout.ms", "15000");
        try (Admin admin = Admin.create(p)) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof SaslAuthenticationException, e.getCause().toString());
        }
    }

    @Test
    void testGeneratedClientPropertiesProduceAndConsume() throws Exception {
        KafkaClientConfig client = broker.clientConfig();
        assertTrue(client.isSecured());
        String topic = "secure-" + System.nanoTime();
        try (Admin admin = Admin.create(client.toProperties())) {
            Topics.ensure(admin, topic, 1, Map.of(), Duration.ofSeconds(30));
        }
        Properties pp = client.toProperties();
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(pp)) {
            p.send(new ProducerRecord<>(topic, "hello".getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
        }
        Properties cp = client.toProperties();
        cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, "secure-test");
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<String> got = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(cp)) {
            c.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 30_000;
            while (got.isEmpty() && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    got.add(new String(r.value(), StandardCharsets.UTF_8));
                }
            }
        }
        assertEquals(List.of("hello"), got);

        // secrets stay out of the redacted view and the broker's log
        String redacted = client.toString();
        for (String secret : broker.security().secretValues()) {
            assertFalse(redacted.contains(secret), "a secret in " + redacted);
        }
        assertTrue(redacted.contains("sasl.jaas.config=" + KafkaClientConfig.HIDDEN), redacted);
        assertTrue(redacted.contains("ssl.truststore.password=" + KafkaClientConfig.HIDDEN), redacted);
        Path log = broker.dataDir().resolve("broker.log");
        String brokerLog = Files.exists(log) ? Files.readString(log) : "";
        for (String secret : broker.security().secretValues()) {
            assertFalse(brokerLog.contains(secret), "a secret in the broker log");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
