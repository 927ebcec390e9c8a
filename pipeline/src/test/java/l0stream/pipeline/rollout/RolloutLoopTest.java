package l0stream.pipeline.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import l0stream.connectors.kafka.KafkaClientConfig;
import l0stream.connectors.kafka.KafkaTestBroker;
import l0stream.connectors.rollout.RolloutTopics;
import l0stream.model.DeviceChoice;
import l0stream.serving.ModelCatalog;
import l0stream.serving.RolloutRouting;
import l0stream.serving.ServingEngine;
import l0stream.serving.ServingServer;
import l0stream.serving.SnapshotFixtures;
import l0stream.serving.VariantSpec;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.function.Predicate;

/**
 * The closed loop against the real broker: the rollout evaluator job on a MiniCluster, two serving
 * replicas in canary mode, snapshots published as the pipeline does, labels given to the replica
 * that did not answer (so only the evaluator's cross-replica join can use them). The test decides
 * each answer's truth by the version that gave it, so "better" and "worse" candidates are exact.
 */
@ExtendWith(KafkaTestBroker.class)
class RolloutLoopTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String TOKEN = "test-admin-token-0123456789";

    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();
    private final Random rnd = new Random(11);

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    /** One serving replica: catalog, rollout routing, HTTP server. */
    private final class Replica implements AutoCloseable {
        final ModelCatalog catalog;
        final RolloutRouting routing;
        final ServingServer server;

        Replica(String topic, String name, Path tokenFile) throws Exception {
            this(topic, name, tokenFile, RolloutRouting.Mode.CANARY);
        }

        Replica(String topic, String name, Path tokenFile, RolloutRouting.Mode mode) throws Exception {
            Properties client = new Properties();
            client.put("bootstrap.servers", KafkaTestBroker.bootstrap());
            PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            catalog = new ModelCatalog(client, topic, SnapshotFixtures.TRUST, 0, 2, 32, ServingEngine.ONNXRUNTIME, DeviceChoice.CPU, metrics);
            routing = new RolloutRouting(client, RolloutTopics.of(topic), new RolloutRouting.Options(mode, 50,
                    true, tokenFile, name, 10_000, 64), catalog, metrics);
            server = new ServingServer(catalog, new ServingServer.Options("127.0.0.1", 0, VariantSpec.parse("previous", "a"),
                    VariantSpec.parse("latest", "b"), 50, 1 << 20, 4), metrics, routing);
        }

        String url(String path) {
            return "http://127.0.0.1:" + server.port() + path;
        }

        JsonNode rollout() throws Exception {
            return JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(url("/v1/rollout"))).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).body());
        }

        @Override
        public void close() {
            server.close();
            routing.close();
            catalog.close();
        }
    }

    private Replica replica(String topic, String name) throws Exception {
        return replica(topic, name, RolloutRouting.Mode.CANARY);
    }

    private Replica replica(String topic, String name, RolloutRouting.Mode mode) throws Exception {
        Path token = dir.resolve("admin.token");
        if (!Files.exists(token)) {
            Files.writeString(token, TOKEN + "\n");
        }
        Replica r = new Replica(topic, name, token, mode);
        open.add(r);
        return r;
    }

    private JobClient evaluator(String topic, RolloutPolicy policy) throws Exception {
        Configuration conf = new Configuration();
        conf.setString("execution.checkpointing.dir", dir.resolve("checkpoints").toUri().toString());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        RolloutJob.Config cfg = new RolloutJob.Config(KafkaClientConfig.plaintext(KafkaTestBroker.bootstrap()), RolloutTopics.of(topic),
                SnapshotFixtures.TRUST, policy, 300, "rollout-test-" + topic);
        RolloutJob.build(env, cfg);
        JobClient job = env.executeAsync("rollout-test");
        open.add(() -> job.cancel().get());
        return job;
    }

    private KafkaProducer<byte[], byte[]> publisher(String topic) {
        Properties pp = KafkaTestBroker.producerProps();
        pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "rollout-publisher-" + topic);
        KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(pp);
        p.initTransactions();
        open.add(p);
        return p;
    }

    private static String topicWithRolloutTopics(String prefix) {
        String topic = KafkaTestBroker.newTopic(prefix, 1);
        RolloutTopics.of(topic).ensure(KafkaTestBroker.admin(), 1, Duration.ofSeconds(30));
        return topic;
    }

    private static final RolloutPolicy POLICY = new RolloutPolicy(100, 30, 0.99, 0.01, 0, 3000, Duration.ofHours(1), 0.5, 100,
            Duration.ofMinutes(10));

    /** An answer: who gave it. */
    private record Answer(String requestId, String variant, long version, int label) {}

    private Answer predict(Replica r, String key) throws Exception {
        byte[] img = new byte[28 * 28];
        rnd.nextBytes(img);
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(r.url("/v1/predict")))
                .header("Content-Type", "application/x-raw-u8").POST(HttpRequest.BodyPublishers.ofByteArray(img));
        if (key != null) {
            b.header("X-Request-Key", key);
        }
        HttpResponse<String> res = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, res.statusCode(), res.body());
        JsonNode j = JSON.readTree(res.body());
        return new Answer(j.get("request_id").asText(), j.get("variant").asText(), j.get("model_version").asLong(), j.get("label").asInt());
    }

    private static int feedback(Replica r, String requestId, int label) throws Exception {
        String body = "{\"request_id\": \"" + requestId + "\", \"label\": " + label + "}";
        return HTTP.send(HttpRequest.newBuilder(URI.create(r.url("/v1/feedback"))).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private static HttpResponse<String> admin(Replica r, String auth, String action) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(r.url("/v1/rollout")))
                .POST(HttpRequest.BodyPublishers.ofString("{\"action\": \"" + action + "\", \"note\": \"test\"}"));
        if (auth != null) {
            b.header("Authorization", auth);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Waits until every replica's decision in force satisfies {@code p} (2 minutes at most); returns it. */
    private static JsonNode awaitDecision(List<Replica> replicas, Predicate<JsonNode> p, String what) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            boolean all = true;
            JsonNode cur = null;
            for (Replica r : replicas) {
                cur = r.rollout().get("current");
                all &= cur != null && !cur.isNull() && p.test(cur);
            }
            if (all) {
                return cur;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no replica agreement on: " + what + "; replicas say " + replicas.get(0).rollout());
    }

    /**
     * Requests with keys to alternating replicas, each labelled at the other replica, right with the
     * probability of the version that answered, until {@code done} holds for the decision in force.
     */
    private JsonNode trafficUntil(List<Replica> replicas, Map<Long, Double> accuracy, Predicate<JsonNode> done, String what)
            throws Exception {
        long deadline = System.currentTimeMillis() + 180_000;
        int i = 0;
        while (System.currentTimeMillis() < deadline) {
            for (int k = 0; k < 20; k++, i++) {
                Replica answering = replicas.get(i % 2);
                Answer a = predict(answering, "key-" + rnd.nextInt(1_000_000));
                boolean right = rnd.nextDouble() < accuracy.getOrDefault(a.version(), 0.5);
                int status = feedback(replicas.get((i + 1) % 2), a.requestId(), right ? a.label() : (a.label() + 1) % 10);
                assertTrue(status == 200 || status == 202, "feedback status " + status);
            }
            JsonNode cur = replicas.get(0).rollout().get("current");
            if (cur != null && !cur.isNull() && done.test(cur)) {
                return awaitDecision(replicas, c -> c.get("seq").asLong() >= cur.get("seq").asLong(), what);
            }
        }
        throw new AssertionError("not reached within 3 minutes: " + what + "; replicas say " + replicas.get(0).rollout());
    }

    @Test
    void testBetterCandidatePromotedWorseRolledBackAndReplicasAgree() throws Exception {
        String topic = topicWithRolloutTopics("rollout-loop");
        KafkaProducer<byte[], byte[]> pub = publisher(topic);
        Replica a = replica(topic, "replica-a");
        Replica b = replica(topic, "replica-b");
        evaluator(topic, POLICY);
        List<Replica> both = List.of(a, b);

        SnapshotFixtures.publish(pub, topic, 1, SnapshotFixtures.artifact(1), false);
        awaitDecision(both, d -> d.get("kind").asText().equals("stable") && d.get("stable_version").asLong() == 1, "v1 stable");
        SnapshotFixtures.publish(pub, topic, 2, SnapshotFixtures.artifact(2), false);
        JsonNode cand = awaitDecision(both, d -> d.get("candidate_version").asLong() == 2, "v2 candidate");
        assertEquals(2, cand.get("seq").asLong());
        SnapshotFixtures.awaitLatest(a.catalog, 2); // the decision may reach a replica before the snapshot does
        SnapshotFixtures.awaitLatest(b.catalog, 2);

        // canary: a key lands on the same version every time, on either replica
        Map<String, Long> versionOfKey = new HashMap<>();
        for (int k = 0; k < 40; k++) {
            String key = "sticky-" + k;
            long v = predict(a, key).version();
            assertEquals(v, predict(b, key).version(), "key " + key + " on both replicas");
            assertEquals(v, predict(a, key).version(), "key " + key + " again");
            versionOfKey.put(key, v);
        }
        assertTrue(versionOfKey.containsValue(1L) && versionOfKey.containsValue(2L), "50 % canary splits the keys: " + versionOfKey);

        JsonNode promoted = trafficUntil(both, Map.of(1L, 0.70, 2L, 0.95), d -> d.get("seq").asLong() > 2, "v2 judged");
        assertEquals("promote", promoted.get("kind").asText(), promoted.toString());
        assertEquals(2, promoted.get("stable_version").asLong());
        assertEquals("policy", promoted.get("by").asText());
        JsonNode ev = promoted.get("evidence");
        assertTrue(ev.get("labels_candidate").asLong() >= 100 && ev.get("labels_stable").asLong() >= 100, ev.toString());
        assertTrue(ev.get("p_promote").asDouble() >= 0.99, ev.toString());
        for (Map.Entry<String, Long> e : versionOfKey.entrySet()) {
            if (e.getValue() == 2L) {
                assertEquals(2L, predict(b, e.getKey()).version(), "a canary key stays on its version after the promotion");
            }
        }

        SnapshotFixtures.publish(pub, topic, 3, SnapshotFixtures.artifact(3), false);
        awaitDecision(both, d -> d.get("candidate_version").asLong() == 3, "v3 candidate");
        JsonNode rolledBack = trafficUntil(both, Map.of(2L, 0.95, 3L, 0.70), d -> d.get("kind").asText().matches("promote|rollback|keep"),
                "v3 judged");
        assertEquals("rollback", rolledBack.get("kind").asText(), rolledBack.toString());
        assertEquals(2, rolledBack.get("stable_version").asLong());
        assertEquals(0, rolledBack.get("candidate_version").asLong());

        // a replica restarted mid-canary resumes the rollout from the topic
        SnapshotFixtures.publish(pub, topic, 4, SnapshotFixtures.artifact(4), false);
        JsonNode v4 = awaitDecision(both, d -> d.get("candidate_version").asLong() == 4, "v4 candidate");
        b.close();
        open.remove(b);
        Replica b2 = replica(topic, "replica-b2");
        JsonNode resumed = awaitDecision(List.of(b2), d -> d.get("seq").asLong() == v4.get("seq").asLong(), "restarted replica resumes");
        assertEquals(4, resumed.get("candidate_version").asLong());
        assertEquals(2, resumed.get("stable_version").asLong());

        // both replicas saw the same decisions in the same order
        List<String> ha = history(a);
        List<String> hb = history(b2);
        assertEquals(ha, hb);
        assertEquals(List.of("1 stable", "2 candidate", "3 promote", "4 candidate", "5 rollback", "6 candidate"), ha);
    }

    private static List<String> history(Replica r) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode d : r.rollout().get("history")) {
            out.add(d.get("seq").asLong() + " " + d.get("kind").asText());
        }
        return out;
    }

    @Test
    void testBadLabelsAndAdminCallsChangeNothing() throws Exception {
        String topic = topicWithRolloutTopics("rollout-bad");
        KafkaProducer<byte[], byte[]> pub = publisher(topic);
        Replica a = replica(topic, "replica-a");
        evaluator(topic, POLICY);
        List<Replica> one = List.of(a);
        SnapshotFixtures.publish(pub, topic, 1, SnapshotFixtures.artifact(1), false);
        SnapshotFixtures.publish(pub, topic, 2, SnapshotFixtures.artifact(2), false);
        JsonNode cand = awaitDecision(one, d -> d.get("candidate_version").asLong() == 2, "v2 candidate");
        long seq = cand.get("seq").asLong();

        // admin without a token, with a wrong one
        HttpResponse<String> none = admin(a, null, "promote");
        assertEquals(401, none.statusCode(), none.body());
        HttpResponse<String> wrong = admin(a, "Bearer not-the-token-at-all", "promote");
        assertEquals(403, wrong.statusCode(), wrong.body());
        assertTrue(!wrong.body().contains(TOKEN), "the token is never echoed");

        // labels for an unknown request, a duplicate, and malformed label records
        assertEquals(202, feedback(a, "no-such-request", 3));
        Answer x = predict(a, "k1");
        assertEquals(200, feedback(a, x.requestId(), x.label()));
        assertEquals(200, feedback(a, x.requestId(), (x.label() + 1) % 10));
        RolloutTopics t = RolloutTopics.of(topic);
        try (KafkaProducer<byte[], byte[]> raw = new KafkaProducer<>(KafkaTestBroker.producerProps())) {
            raw.send(new ProducerRecord<>(t.labels(), "r".getBytes(StandardCharsets.UTF_8), "not json".getBytes(StandardCharsets.UTF_8))).get();
            raw.send(new ProducerRecord<>(t.labels(), null, "{\"request_id\": \"r\", \"label\": \"three\"}".getBytes(StandardCharsets.UTF_8))).get();
        }
        List<ConsumerRecord<byte[], byte[]>> dead = readAll(t.labelsDlq(), 2);
        assertEquals(2, dead.size());
        for (ConsumerRecord<byte[], byte[]> d : dead) {
            assertNotNull(d.headers().lastHeader("error"), "a dead letter carries its reason");
        }
        assertEquals("value is not JSON and there is no label header",
                new String(dead.get(0).headers().lastHeader("error").value(), StandardCharsets.UTF_8));

        // the next decision is the one the valid admin call causes: nothing above made one
        HttpResponse<String> ok = admin(a, "Bearer " + TOKEN, "pause");
        assertEquals(202, ok.statusCode(), ok.body());
        JsonNode paused = awaitDecision(one, d -> d.get("seq").asLong() > seq, "the pause");
        assertEquals(seq + 1, paused.get("seq").asLong());
        assertEquals("pause", paused.get("kind").asText());
        assertEquals("admin", paused.get("by").asText());
        assertTrue(paused.get("paused").asBoolean());
        assertEquals(JSON.readTree(ok.body()).get("command_id").asText(), paused.get("command_id").asText());
        for (int k = 0; k < 20; k++) {
            assertEquals("stable", predict(a, "key-" + k).variant(), "paused: no canary traffic");
        }
    }

    @Test
    void testShadowAnswersAreLoggedNeverReturnedAndJudgedInPairs() throws Exception {
        String topic = topicWithRolloutTopics("rollout-shadow");
        KafkaProducer<byte[], byte[]> pub = publisher(topic);
        Replica a = replica(topic, "replica-a", RolloutRouting.Mode.SHADOW);
        evaluator(topic, POLICY);
        SnapshotFixtures.publish(pub, topic, 1, SnapshotFixtures.artifact(1), false);
        SnapshotFixtures.publish(pub, topic, 2, SnapshotFixtures.artifact(2), false);
        awaitDecision(List.of(a), d -> d.get("candidate_version").asLong() == 2, "v2 candidate");
        SnapshotFixtures.awaitLatest(a.catalog, 2);

        // the shadow's answers are read back from the prediction log, as an operator could
        Properties cp = KafkaTestBroker.consumerProps("shadow-reader-" + topic);
        cp.put("isolation.level", "read_committed");
        Map<String, Integer> shadowAnswer = new HashMap<>();
        int pairs = 0;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(cp)) {
            c.subscribe(List.of(RolloutTopics.of(topic).predictions()));
            long deadline = System.currentTimeMillis() + 180_000;
            JsonNode cur = null;
            while (System.currentTimeMillis() < deadline) {
                List<Answer> batch = new ArrayList<>();
                boolean promotedMeanwhile = false;
                for (int k = 0; k < 20; k++) {
                    Answer x = predict(a, "key-" + rnd.nextInt(1_000_000));
                    assertEquals("stable", x.variant(), "a shadow answer is never returned");
                    if (x.version() != 1) {
                        // the evaluator may promote between two requests: then v2 answers, as stable
                        assertEquals(2, x.version());
                        assertEquals(2, a.rollout().get("current").get("stable_version").asLong(), "v2 answers only once promoted");
                        promotedMeanwhile = true;
                        break;
                    }
                    batch.add(x);
                }
                long wait = System.currentTimeMillis() + 60_000;
                while (batch.stream().anyMatch(x -> !shadowAnswer.containsKey(x.requestId())) && System.currentTimeMillis() < wait) {
                    for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
                        JsonNode p = JSON.readTree(r.value());
                        if (p.get("variant").asText().equals("shadow")) {
                            assertEquals(2, p.get("version").asLong());
                            shadowAnswer.put(p.get("request_id").asText(), p.get("predicted").asInt());
                        }
                    }
                }
                for (Answer x : batch) {
                    int candidate = shadowAnswer.get(x.requestId());
                    // where they disagree, the candidate is right 9 times in 10
                    int truth = candidate == x.label() ? candidate : rnd.nextDouble() < 0.9 ? candidate : x.label();
                    pairs += candidate != x.label() ? 1 : 0;
                    feedback(a, x.requestId(), truth);
                }
                cur = a.rollout().get("current");
                if (promotedMeanwhile || cur.get("seq").asLong() > 2) {
                    break;
                }
            }
            assertNotNull(cur);
            assertEquals("promote", cur.get("kind").asText(), cur.toString());
            assertTrue(cur.get("reason").asText().contains("shadow pairs"), cur.get("reason").asText());
            assertTrue(cur.get("evidence").get("pairs").asLong() >= POLICY.minLabels(), cur.toString());
            assertTrue(pairs > 0, "the two models disagreed on some requests");
        }
        assertEquals(2, predict(a, "after").version(), "the promoted shadow now answers");
    }

    private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int n) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        Properties p = KafkaTestBroker.consumerProps("dlq-reader-" + topic);
        p.put("isolation.level", "read_committed");
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 60_000;
            while (out.size() < n && System.currentTimeMillis() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }
}
