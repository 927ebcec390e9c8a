package l0stream.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import l0stream.connectors.dataset.ImageDataset;
import l0stream.connectors.dataset.SyntheticImages;
import l0stream.connectors.image.ImageEncoder;
import l0stream.connectors.image.ImageEncoder.Encoding;
import l0stream.connectors.kafka.CheckedSends;
import l0stream.connectors.kafka.KafkaTestBroker;
import l0stream.connectors.trust.SnapshotKeys;
import l0stream.connectors.trust.SnapshotTrust;
import l0stream.model.DeviceChoice;
import l0stream.pipeline.L0StreamJob;
import l0stream.pipeline.PipelineConfig;
import l0stream.connectors.rollout.RolloutTopics;
import l0stream.pipeline.rollout.RolloutJob;
import l0stream.pipeline.rollout.RolloutPolicy;
import l0stream.serving.ModelCatalog;
import l0stream.serving.RolloutRouting;
import l0stream.serving.ServingServer;
import l0stream.serving.VariantSpec;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Every panel query of every dashboard, evaluated by a real Prometheus that scrapes a real run: the
 * job on a MiniCluster (Flink's PrometheusReporter) training from the real broker and publishing
 * signed snapshots, and the serving process A/B-serving those snapshots with predictions and
 * feedback, following the rollout evaluator (in the same job) in canary mode. The Prometheus config is the shipped one, with only its targets re-pointed at this
 * run's ports and a 1 s scrape interval. A query that returns no series fails, naming the panel.
 */
@ExtendWith(KafkaTestBroker.class)
class DashboardQueriesTest {

    static final Path DASHBOARDS = Path.of("grafana");
    static final Path PROMETHEUS_CONFIG = Path.of("prometheus/prometheus.yml");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    @Test
    void everyPanelQueryReturnsSeriesFromARealRun() throws Exception {
        List<GrafanaDashboard> dashboards = GrafanaDashboard.all(DASHBOARDS);
        String binary = PrometheusServer.binary(); // fail before starting anything when it is missing

        Path key = tmp.resolve("snapshot.key");
        SnapshotKeys.generate(key);
        String name = "dash";
        Map<String, String> m = new LinkedHashMap<>();
        m.put("bootstrap", KafkaTestBroker.bootstrap());
        m.put("input-topic", KafkaTestBroker.newTopic(name + "-images", 1));
        m.put("snapshot-topic", name + "-snapshots");
        m.put("model-id", name);
        m.put("batch-size", "32");
        m.put("snapshot-every-steps", "5");
        m.put("checkpoint-interval-ms", "500");
        m.put("device", "cpu");
        m.put("transactional-id-prefix", "t-" + name);
        m.put("signing-key", key.toString());
        PipelineConfig cfg = PipelineConfig.from(m);
        L0StreamJob.ensureTopics(cfg); // as demo and train do before they submit the job
        produce(cfg.inputTopic(), 4000, 20);

        int flinkPort = freePort();
        Configuration conf = new Configuration();
        conf.setString("metrics.reporter.prom.factory.class", "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        conf.setString("metrics.reporter.prom.port", Integer.toString(flinkPort));
        // the trainer's state with its default replay buffer exceeds the 5 MiB in-JobManager limit
        conf.setString("execution.checkpointing.dir", tmp.resolve("checkpoints").toUri().toString());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        L0StreamJob.build(env, cfg, false, s -> s);
        // the rollout evaluator, in the same job so that one reporter serves both: it judges the run's own snapshots
        SnapshotTrust trust = SnapshotTrust.fromFiles(List.of(SnapshotKeys.publicKeyFileFor(key)), false);
        RolloutTopics.of(cfg.snapshotTopic()).ensure(KafkaTestBroker.admin(), 1, java.time.Duration.ofSeconds(30));
        RolloutJob.build(env, new RolloutJob.Config(KafkaTestBroker.clientConfig(), RolloutTopics.of(cfg.snapshotTopic()), trust,
                RolloutPolicy.defaults(), 500, "t-" + name + "-rollout"));
        JobClient job = env.executeAsync("l0stream-dashboard-check");

        Properties client = KafkaTestBroker.clientConfig().toProperties();
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (ModelCatalog catalog = new ModelCatalog(client, cfg.snapshotTopic(), trust, 0, 3, 32,
                DeviceChoice.CPU, metrics);
             RolloutRouting routing = new RolloutRouting(client, RolloutTopics.of(cfg.snapshotTopic()), new RolloutRouting.Options(
                     RolloutRouting.Mode.CANARY, 50, true, null, "dash", 10_000, 64), catalog, metrics);
             ServingServer serving = new ServingServer(catalog, new ServingServer.Options("127.0.0.1", 0,
                     VariantSpec.parse("previous", "--a"), VariantSpec.parse("latest", "--b"), 50, 1 << 20, 4), metrics, routing)) {
            Path config = tmp.resolve("prometheus.yml");
            Files.writeString(config, pointedAt(Files.readString(PROMETHEUS_CONFIG), flinkPort, serving.port()));
            try (PrometheusServer prometheus = PrometheusServer.start(config, tmp)) {
                long deadline = System.currentTimeMillis() + 240_000;
                while (catalog.loaded().size() < 2) {
                    assertTrue(System.currentTimeMillis() < deadline, "serving loaded no two snapshot versions in 240 s");
                    Thread.sleep(250);
                }
                // traffic for the A/B panels, spread over several scrapes so rate() has samples
                for (int round = 0; round < 6; round++) {
                    predictWithFeedback(serving.port(), 40, round);
                    Thread.sleep(1000);
                }
                waitForFlinkSeries(prometheus, "flink_taskmanager_job_task_operator_compact_flops");
                waitForFlinkSeries(prometheus, "flink_taskmanager_job_task_operator_rollout_pPromote");
                Thread.sleep(3000);
                checkAll(dashboards, prometheus);
            } finally {
                job.cancel().get();
            }
        }
    }

    private static void checkAll(List<GrafanaDashboard> dashboards, PrometheusServer prometheus) {
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (GrafanaDashboard d : dashboards) {
            Map<String, List<String>> values = new LinkedHashMap<>();
            for (GrafanaDashboard.QueryVariable v : d.queryVariables()) {
                String selector = GrafanaDashboard.substitute(v.selector(), values, "30s");
                Set<String> found = new LinkedHashSet<>();
                for (JsonNode s : prometheus.series(selector)) {
                    if (s.hasNonNull(v.label())) {
                        found.add(s.get(v.label()).asText());
                    }
                }
                if (found.isEmpty()) {
                    failures.add(d.file() + ": variable $" + v.name() + " = label_values(" + selector + ", " + v.label() + ") has no value");
                    found.add("no-value");
                }
                values.put(v.name(), new ArrayList<>(found));
            }
            for (GrafanaDashboard.Target t : d.targets()) {
                String q = GrafanaDashboard.substitute(t.expr(), values, "30s");
                try {
                    JsonNode result = prometheus.query(q);
                    checked++;
                    if (result.isEmpty()) {
                        failures.add(d.file().getFileName() + " " + t + ": no series for " + q);
                    }
                } catch (IllegalArgumentException e) {
                    failures.add(d.file().getFileName() + " " + t + ": Prometheus refused " + q + ": " + e.getMessage());
                }
            }
            // an annotation fires only on events (a drift may not happen in this run): Prometheus must accept
            // its query, and the series it compares must exist
            for (GrafanaDashboard.Target t : d.annotations()) {
                String q = GrafanaDashboard.substitute(t.expr(), values, "30s");
                String series = q.replaceAll("\\s*>\\s*0\\s*$", "");
                try {
                    prometheus.query(q);
                    checked++;
                    if (prometheus.query(series).isEmpty()) {
                        failures.add(d.file().getFileName() + " " + t + ": no series for " + series);
                    }
                } catch (IllegalArgumentException e) {
                    failures.add(d.file().getFileName() + " " + t + ": Prometheus refused " + q + ": " + e.getMessage());
                }
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of the panel queries fail against the real run:\n  " + String.join("\n  ", failures)
                    + "\nscrape targets:\n" + prometheus.targets() + "\nmetric names scraped:\n" + prometheus.metricNames());
        }
        assertTrue(checked >= 15, "only " + checked + " panel queries found");
    }

    /** Re-points the shipped config's two scrape jobs at this run's ports and scrapes every second. */
    static String pointedAt(String shipped, int flinkPort, int servingPort) {
        String out = shipped.replaceAll("scrape_interval: \\S+", "scrape_interval: 1s")
                .replaceAll("evaluation_interval: \\S+", "evaluation_interval: 1s");
        out = retarget(out, "l0stream-flink", "127.0.0.1:" + flinkPort);
        return retarget(out, "l0stream-serving", "127.0.0.1:" + servingPort);
    }

    private static String retarget(String config, String job, String target) {
        Pattern p = Pattern.compile("(job_name: " + Pattern.quote(job) + "\\n(?:(?!\\s*- job_name).*\\n)*?\\s*- targets: )\\[[^\\]]*\\]");
        String out = p.matcher(config).replaceFirst("$1['" + target + "']");
        assertTrue(!out.equals(config), "the shipped prometheus.yml has no scrape job " + job + " with static targets");
        return out;
    }

    private static void waitForFlinkSeries(PrometheusServer prometheus, String metric) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (prometheus.query(metric).isEmpty()) {
            assertTrue(System.currentTimeMillis() < deadline, metric + " never scraped; targets:\n" + prometheus.targets());
            Thread.sleep(500);
        }
    }

    private static void produce(String topic, int valid, int malformed) {
        ImageDataset data = SyntheticImages.generate(valid, 3);
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(KafkaTestBroker.producerProps())) {
            CheckedSends<byte[], byte[]> sends = new CheckedSends<>(p);
            for (int i = 0; i < valid; i++) {
                sends.send(new ProducerRecord<byte[], byte[]>(topic, null, (byte[]) null,
                        ImageEncoder.encode(data.image(i), 28, 28, 1, Encoding.RAW),
                        ImageEncoder.headers(data.labels()[i], Encoding.RAW, 28, 28, 1, "r" + i, -1)));
                if (i % 50 == 0 && i / 50 < malformed) {
                    RecordHeaders h = new RecordHeaders();
                    h.add("content-type", "image/png".getBytes(StandardCharsets.UTF_8));
                    sends.send(new ProducerRecord<byte[], byte[]>(topic, null, (byte[]) null, new byte[] {1, 2, 3}, h));
                }
            }
            sends.flush();
        }
    }

    private static void predictWithFeedback(int port, int n, int round) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        byte[] raw = new byte[784];
        for (int i = 0; i < n; i++) {
            raw[i] = (byte) (i * 7 + round);
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/predict"))
                    .header("Content-Type", "application/x-raw-u8").header("X-Request-Key", "user-" + i)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(raw)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode j = JSON.readTree(r.body());
            int label = i % 3 == 0 ? (j.get("label").asInt() + 1) % 10 : j.get("label").asInt(); // some wrong, some right
            HttpResponse<String> fb = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/feedback"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"request_id\":\"" + j.get("request_id").asText()
                            + "\",\"label\":" + label + "}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, fb.statusCode(), fb.body());
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
