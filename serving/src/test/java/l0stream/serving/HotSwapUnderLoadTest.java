package l0stream.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import l0stream.connectors.kafka.KafkaTestBroker;
import l0stream.model.DeviceChoice;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * New snapshots arrive and old ones are retired (closed) while 8 client threads keep predicting:
 * every request must still answer 200 — the reference counting in {@link LoadedModel} must never
 * close a model under an in-flight request, and the catalog must never hand out a closed one.
 */
@ExtendWith(KafkaTestBroker.class)
class HotSwapUnderLoadTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CLIENTS = 8;
    private static final int VERSIONS = 8;

    @Test
    void testHotSwapUnderConcurrentLoadAnswersEveryRequest() throws Exception {
        String topic = KafkaTestBroker.newTopic("hotswap-snapshots", 1);
        Properties client = new Properties();
        client.put("bootstrap.servers", KafkaTestBroker.bootstrap());
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ServingServer.Options o = new ServingServer.Options("127.0.0.1", 0, VariantSpec.parse("previous", "--a"),
                VariantSpec.parse("latest", "--b"), 50, 1 << 20, CLIENTS);
        Properties pp = KafkaTestBroker.producerProps();
        pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "hotswap-test-" + topic);
        List<byte[]> artifacts = new ArrayList<>();
        for (int v = 1; v <= VERSIONS; v++) {
            artifacts.add(SnapshotFixtures.artifact(v)); // built up front so the swaps come fast
        }
        // keep = 2: every new version retires one, so closing under load happens on each swap
        try (ModelCatalog catalog = new ModelCatalog(client, topic, SnapshotFixtures.TRUST, 0, 2, LoadedModel.DEFAULT_MAX_BATCH, DeviceChoice.CPU, metrics);
             ServingServer server = new ServingServer(catalog, o, metrics);
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp)) {
            producer.initTransactions();
            SnapshotFixtures.publish(producer, topic, 1, artifacts.get(0), false);
            SnapshotFixtures.awaitLatest(catalog, 1);

            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            URI predict = URI.create("http://127.0.0.1:" + server.port() + "/v1/predict");
            byte[] raw = new byte[784];
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong ok = new AtomicLong();
            Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            Set<Long> versionsSeen = ConcurrentHashMap.newKeySet();
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int id = c;
                Thread t = new Thread(() -> {
                    long i = 0;
                    while (!stop.get()) {
                        try {
                            HttpResponse<String> r = http.send(HttpRequest.newBuilder(predict)
                                    .header("Content-Type", "application/x-raw-u8").header("X-Request-Key", id + "-" + i++)
                                    .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofByteArray(raw)).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() == 200) {
                                ok.incrementAndGet();
                                JsonNode j = JSON.readTree(r.body());
                                versionsSeen.add(j.get("model_version").asLong());
                                assertEquals(10, j.get("probabilities").size());
                            } else {
                                statuses.computeIfAbsent(r.statusCode(), k -> new AtomicLong()).incrementAndGet();
                            }
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    }
                }, "client-" + c);
                t.start();
                clients.add(t);
            }
            for (int v = 2; v <= VERSIONS; v++) {
                long before = ok.get();
                SnapshotFixtures.publish(producer, topic, v, artifacts.get(v - 1), false);
                SnapshotFixtures.awaitLatest(catalog, v);
                // let some requests run on the new pair before the next swap
                long until = System.currentTimeMillis() + 10_000;
                while (ok.get() < before + 50 && System.currentTimeMillis() < until) {
                    Thread.sleep(20);
                }
            }
            stop.set(true);
            for (Thread t : clients) {
                t.join(60_000);
            }

            assertTrue(failures.isEmpty(), "client errors: " + failures);
            assertTrue(statuses.isEmpty(), "non-200 answers under hot swap: " + statuses);
            assertTrue(ok.get() >= 50L * (VERSIONS - 1), "too few requests to mean anything: " + ok.get());
            assertTrue(versionsSeen.size() >= VERSIONS - 1, "answered with versions " + versionsSeen);
            List<LoadedModel> left = catalog.loaded();
            assertEquals(2, left.size(), "older versions retired");
            assertEquals(VERSIONS, left.get(1).version());
        }
    }
}
