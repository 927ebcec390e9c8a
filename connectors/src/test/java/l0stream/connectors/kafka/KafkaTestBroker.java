package l0stream.connectors.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * JUnit 5 extension: one real Kafka broker per test JVM, started on free loopback ports on first
 * use and stopped when the JVM's tests are done; or, when {@code L0STREAM_BOOTSTRAP} is set, that
 * broker instead. {@code @ExtendWith(KafkaTestBroker.class)} on a test class, then
 * {@link #bootstrap()} and {@link #newTopic}.
 */
public final class KafkaTestBroker implements BeforeAllCallback {

    private static final AtomicInteger TOPICS = new AtomicInteger();
    private static volatile String bootstrap;
    private static Admin admin;

    @Override
    public void beforeAll(ExtensionContext context) {
        ensureStarted(context);
    }

    private static synchronized void ensureStarted(ExtensionContext context) {
        if (bootstrap != null) {
            return;
        }
        String external = System.getenv("L0STREAM_BOOTSTRAP");
        if (external != null && !external.isBlank()) {
            bootstrap = external;
        } else {
            try {
                LocalKafkaBroker broker = LocalKafkaBroker.startTemporary(freePort(), freePort(), 512, Duration.ofSeconds(90));
                bootstrap = broker.bootstrap();
                context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                        .put("l0stream-kafka-broker", (ExtensionContext.Store.CloseableResource) () -> {
                            synchronized (KafkaTestBroker.class) {
                                if (admin != null) {
                                    admin.close();
                                }
                            }
                            broker.close();
                        });
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        admin = Admin.create(clientConfig().toProperties());
    }

    public static String bootstrap() {
        if (bootstrap == null) {
            throw new IllegalStateException("Use @ExtendWith(KafkaTestBroker.class) on the test class");
        }
        return bootstrap;
    }

    public static synchronized Admin admin() {
        return admin;
    }

    /** A fresh topic with a unique name, created and with leaders on every partition. */
    public static String newTopic(String prefix, int partitions) {
        String name = prefix + "-" + TOPICS.incrementAndGet() + "-" + UUID.randomUUID().toString().substring(0, 8);
        Topics.ensure(admin(), name, partitions, Map.of(), Duration.ofSeconds(30));
        return name;
    }

    /**
     * The client settings every helper here starts from: the broker's bootstrap, plus the client
     * properties file named by {@code L0STREAM_KAFKA_CONFIG} when the suite runs against an
     * external secured broker ({@code L0STREAM_BOOTSTRAP}).
     */
    public static KafkaClientConfig clientConfig() {
        String file = System.getenv("L0STREAM_KAFKA_CONFIG");
        return KafkaClientConfig.of(bootstrap(), file == null || file.isBlank() ? null : java.nio.file.Path.of(file), List.of());
    }

    public static Properties producerProps() {
        Properties p = clientConfig().toProperties();
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        return p;
    }

    public static Properties consumerProps(String group) {
        Properties p = clientConfig().toProperties();
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
