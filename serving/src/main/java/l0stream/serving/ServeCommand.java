package l0stream.serving;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import l0stream.connectors.cli.Args;
import l0stream.connectors.cli.TrustedKeysOption;
import l0stream.connectors.kafka.KafkaClientConfig;
import l0stream.connectors.trust.SnapshotTrust;
import l0stream.model.DeviceChoice;

import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * {@code l0stream serve --snapshots <topic> [--bootstrap 127.0.0.1:9092] [--host 127.0.0.1]
 * [--port 8080] [--engine onnxruntime|djl] [--engine-threads 1] [--a previous|latest|pinned:<v>] [--b latest] [--split 50] [--device auto] [--max-batch 32]
 * [--threads 16] [--max-body-bytes 1048576] [--trusted-keys a.pub,b.pub] [--allow-unsigned]
 * [--rollout manual|canary|shadow] [--canary-percent 10] [--prediction-log on|off] [--admin-token-file F]
 * [--replica-id NAME]}. Only snapshots signed by a trusted key are served. Every answer is logged to
 * {@code <snapshots>.predictions} and every label given to {@code /v1/feedback} to {@code <snapshots>.labels}
 * (unless {@code --prediction-log off}); under canary or shadow the replica routes by the decisions
 * on {@code <snapshots>.rollout}, which {@code l0stream rollout} writes.
 */
public final class ServeCommand {

    private ServeCommand() {}

    public static void main(String[] argv) throws Exception {
        Args a = Args.parse(argv, List.of("--bootstrap", "--snapshots", "--host", "--port", "--a", "--b", "--split",
                "--device", "--engine", "--engine-threads", "--max-body-bytes", "--threads", "--max-batch", "--trusted-keys", "--kafka-config", "--kafka-property",
                "--rollout", "--canary-percent", "--prediction-log", "--admin-token-file", "--replica-id", "--log-capacity"), List.of("--allow-unsigned"));
        String topic = a.string("--snapshots", null);
        if (topic == null) {
            throw new IllegalArgumentException("Invalid value (missing) for --snapshots: the snapshot topic to serve from");
        }
        VariantSpec va = VariantSpec.parse(a.string("--a", "previous"), "--a");
        VariantSpec vb = VariantSpec.parse(a.string("--b", "latest"), "--b");
        ServingServer.Options o = new ServingServer.Options(a.string("--host", "127.0.0.1"), a.intValue("--port", 8080, 0),
                va, vb, a.intValue("--split", 50, 0), a.intValue("--max-body-bytes", 1 << 20, 1), a.intValue("--threads", 16, 1));
        Properties client = KafkaClientConfig.fromArgs(a).toProperties();
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        long pinned = va.kind() == VariantSpec.Kind.PINNED ? va.version() : vb.kind() == VariantSpec.Kind.PINNED ? vb.version() : 0;
        SnapshotTrust trust = TrustedKeysOption.from(a, m -> System.err.println("serve: " + m));
        ServingEngine.threads(a.string("--engine-threads", null));
        ServingEngine engine = ServingEngine.parse(a.string("--engine", ServingEngine.DEFAULT.id()), "--engine");
        ModelCatalog catalog = new ModelCatalog(client, topic, trust, pinned, 4, a.intValue("--max-batch", LoadedModel.DEFAULT_MAX_BATCH, 1),
                engine, DeviceChoice.parse(a.string("--device", "auto"), "--device"), metrics);
        String log = a.string("--prediction-log", "on");
        if (!log.equals("on") && !log.equals("off")) {
            throw new IllegalArgumentException("Invalid value " + log + " for --prediction-log: expected on or off");
        }
        RolloutRouting.Mode mode = RolloutRouting.Mode.parse(a.string("--rollout", "manual"), "--rollout");
        String token = a.string("--admin-token-file", null);
        RolloutRouting.Options ro = new RolloutRouting.Options(mode, a.intValue("--canary-percent", 10, 0), log.equals("on"),
                token == null ? null : java.nio.file.Path.of(token), a.string("--replica-id", defaultReplicaId()),
                a.intValue("--log-capacity", 100_000, 1), 1024);
        RolloutRouting routing = log.equals("on")
                ? new RolloutRouting(client, l0stream.connectors.rollout.RolloutTopics.of(topic), ro, catalog, metrics) : null;
        ServingServer server = new ServingServer(catalog, o, metrics, routing);
        if (mode == RolloutRouting.Mode.MANUAL) {
            System.err.printf("serve: http://%s:%d  (A = %s, B = %s, %d%% to B) from %s, engine %s%n", o.host(), server.port(), va, vb,
                    o.splitToB(), topic, engine);
        } else {
            System.err.printf("serve: http://%s:%d  (rollout %s%s, following %s.rollout) from %s, engine %s%n", o.host(), server.port(),
                    mode.id(), mode == RolloutRouting.Mode.CANARY ? " " + ro.canaryPercent() + "%" : "", topic, topic, engine);
        }
        if (routing != null) {
            System.err.printf("serve: answers logged to %s.predictions, labels to %s.labels (replica %s)%n", topic, topic, ro.replicaId());
        }
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            if (routing != null) {
                routing.close();
            }
            catalog.close();
            done.countDown();
        }));
        done.await();
    }

    private static String defaultReplicaId() {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                host = "replica";
            }
        }
        return host + "-" + ProcessHandle.current().pid();
    }
}
