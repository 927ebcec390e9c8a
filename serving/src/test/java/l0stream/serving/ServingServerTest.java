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
import java.util.Properties;

/** The serving API against the real broker and real snapshot artifacts. */
@ExtendWith(KafkaTestBroker.class)
class ServingServerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> post(int port, String path, byte[] body, String contentType, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).header("Content-Type", contentType);
        if (key != null) {
            b.header("X-Request-Key", key);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void testAbSplitStickinessFeedbackAndRefusedSnapshots() throws Exception {
        String topic = KafkaTestBroker.newTopic("serve-snapshots", 1);
        Properties client = new Properties();
        client.put("bootstrap.servers", KafkaTestBroker.bootstrap());
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ServingServer.Options o = new ServingServer.Options("127.0.0.1", 0, VariantSpec.parse("previous", "--a"),
                VariantSpec.parse("latest", "--b"), 30, 1 << 20, 8);
        Properties pp = KafkaTestBroker.producerProps();
        pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "serve-test-" + topic);
        byte[] raw = new byte[784];
        try (ModelCatalog catalog = new ModelCatalog(client, topic, SnapshotFixtures.TRUST, 0, 3, LoadedModel.DEFAULT_MAX_BATCH, DeviceChoice.CPU, metrics);
             ServingServer server = new ServingServer(catalog, o, metrics);
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp)) {
            int port = server.port();
            // nothing loaded yet: a clear 503
            HttpResponse<String> r = post(port, "/v1/predict", raw, "application/x-raw-u8", "k");
            assertEquals(503, r.statusCode());
            assertTrue(r.body().contains("no snapshot loaded yet"), r.body());

            producer.initTransactions();
            SnapshotFixtures.publish(producer, topic, 1, SnapshotFixtures.artifact(1), false);
            SnapshotFixtures.publish(producer, topic, 2, SnapshotFixtures.artifact(2), false);
            long deadline = System.currentTimeMillis() + 60_000;
            while (catalog.loaded().size() < 2 && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(2, catalog.loaded().size());

            int toB = 0;
            for (int i = 0; i < 1000; i++) {
                HttpResponse<String> p = post(port, "/v1/predict", raw, "application/x-raw-u8", "user-" + i);
                assertEquals(200, p.statusCode(), p.body());
                JsonNode j = JSON.readTree(p.body());
                boolean b = j.get("variant").asText().equals("B");
                toB += b ? 1 : 0;
                assertEquals(b ? 2 : 1, j.get("model_version").asLong(), "A = previous (v1), B = latest (v2)");
                assertEquals(10, j.get("probabilities").size());
            }
            assertTrue(Math.abs(toB / 10.0 - 30) <= 5, "B share " + toB / 10.0 + "% vs 30%");
            // sticky
            String first = JSON.readTree(post(port, "/v1/predict", raw, "application/x-raw-u8", "sticky").body()).get("variant").asText();
            for (int i = 0; i < 20; i++) {
                assertEquals(first, JSON.readTree(post(port, "/v1/predict", raw, "application/x-raw-u8", "sticky").body()).get("variant").asText());
            }
            // feedback
            JsonNode pred = JSON.readTree(post(port, "/v1/predict", raw, "application/x-raw-u8", null).body());
            HttpResponse<String> fb = post(port, "/v1/feedback", ("{\"request_id\":\"" + pred.get("request_id").asText()
                    + "\",\"label\":" + pred.get("label").asInt() + "}").getBytes(), "application/json", null);
            assertEquals(200, fb.statusCode(), fb.body());
            assertEquals(404, post(port, "/v1/feedback", "{\"request_id\":\"nope\",\"label\":1}".getBytes(), "application/json", null).statusCode());
            // bad requests
            assertEquals(415, post(port, "/v1/predict", raw, "image/gif", null).statusCode());
            assertEquals(400, post(port, "/v1/predict", new byte[783], "application/x-raw-u8", null).statusCode());
            // oversize: refused from the Content-Length alone, before any body byte is read
            try (java.net.Socket sock = new java.net.Socket("127.0.0.1", port)) {
                sock.getOutputStream().write(("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-raw-u8\r\n"
                        + "Content-Length: 50000000\r\n\r\n").getBytes());
                String status = new java.io.BufferedReader(new java.io.InputStreamReader(sock.getInputStream())).readLine();
                assertTrue(status.startsWith("HTTP/1.1 413"), status);
            }

            // a tampered snapshot is refused and v2 keeps serving as latest
            SnapshotFixtures.publish(producer, topic, 3, SnapshotFixtures.artifact(3), true);
            Thread.sleep(2000);
            assertEquals(2, catalog.loaded().stream().mapToLong(LoadedModel::version).max().getAsLong());
            String scrape = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(scrape.contains("serving_snapshots_refused_total{reason=\"artifact-mismatch\"} 1.0"), scrape);
            assertTrue(scrape.contains("serving_requests_total{variant=\"B\"}"), scrape);
            assertTrue(scrape.contains("serving_predictions_correct_total{variant="), scrape);
            assertTrue(scrape.contains("serving_model{variant=\"B\",version=\"2\"} 1.0"), scrape);
            assertEquals(200, http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
        }
    }
}
