package l0stream.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import l0stream.connectors.rollout.RolloutTopics;
import l0stream.connectors.snapshot.SnapshotManifest;
import l0stream.connectors.snapshot.SnapshotRecord;
import l0stream.connectors.snapshot.VerifiedSnapshot;
import l0stream.model.DeviceChoice;

import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * With the broker away, the prediction and label logs drop (and count) what they cannot send,
 * and every request is still answered: logging never blocks or fails the request path.
 */
class PredictionLogBrokerDownTest {

    @Test
    void testRequestsAreAnsweredAndDropsCountedWhileTheBrokerIsDown() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort(); // closed again: nothing listens there
        }
        Properties client = new Properties();
        client.put("bootstrap.servers", "127.0.0.1:" + deadPort);
        // the sender waits on the first record for the whole test: what it can hold is then exact, not a matter of timing
        client.put("max.block.ms", "600000");
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        byte[] artifact = SnapshotFixtures.artifact(1);
        SnapshotManifest m = new SnapshotManifest(1, "m", 1, 0, 1, 1, 0, Map.of(), Map.of(), 0, 0, 0, 0, 0, 0.5, artifact.length,
                SnapshotRecord.sha256Hex(artifact), 1);
        int capacity = 8;
        int requests = 60;
        try (ModelCatalog catalog = ModelCatalog.ofSnapshots(List.of(new VerifiedSnapshot(m, artifact)), 32, ServingEngine.ONNXRUNTIME,
                DeviceChoice.CPU, metrics);
             RolloutRouting routing = new RolloutRouting(client, RolloutTopics.of("snapshots"), new RolloutRouting.Options(
                     RolloutRouting.Mode.MANUAL, 0, true, null, "replica-down", capacity, 8), catalog, metrics, false);
             ServingServer server = new ServingServer(catalog, new ServingServer.Options("127.0.0.1", 0, VariantSpec.parse("latest", "a"),
                     VariantSpec.parse("latest", "b"), 0, 1 << 20, 4), metrics, routing)) {
            HttpClient http = HttpClient.newHttpClient();
            for (int i = 0; i < requests; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/predict"))
                        .header("Content-Type", "application/x-raw-u8").POST(HttpRequest.BodyPublishers.ofByteArray(new byte[784])).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
                String id = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).get("request_id").asText();
                HttpResponse<String> f = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/feedback"))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"request_id\": \"" + id + "\", \"label\": 1}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, f.statusCode(), f.body());
            }
            double dropped = metrics.get("serving_topic_log").tag("topic", "snapshots.predictions").tag("outcome", "dropped").counter().count();
            double sent = metrics.get("serving_topic_log").tag("topic", "snapshots.predictions").tag("outcome", "sent").counter().count();
            assertEquals(0.0, sent, "nothing can reach a broker that is not there");
            // held: the record being sent, one drained batch (at most the queue's capacity), a full queue
            assertTrue(dropped >= requests - (1 + 2 * capacity), "dropped " + dropped + " of " + requests);
            assertTrue(metrics.get("serving_topic_log").tag("topic", "snapshots.labels").tag("outcome", "dropped").counter().count() > 0);
            assertEquals(requests, metrics.get("serving_requests").tag("variant", "A").counter().count()
                    + metrics.get("serving_requests").tag("variant", "B").counter().count());
        }
    }
}
