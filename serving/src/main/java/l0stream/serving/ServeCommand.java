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
 * [--threads 16] [--max-body-bytes 1048576] [--trusted-keys a.pub,b.pub] [--allow-unsigned]}. Only snapshots
 * signed by a trusted key are served.
 */
public final class ServeCommand {

    private ServeCommand() {}

    public static void main(String[] argv) throws Exception {
        Args a = Args.parse(argv, List.of("--bootstrap", "--snapshots", "--host", "--port", "--a", "--b", "--split",
                "--device", "--engine", "--engine-threads", "--max-body-bytes", "--threads", "--max-batch", "--trusted-keys", "--kafka-config", "--kafka-property"), List.of("--allow-unsigned"));
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
        ServingServer server = new ServingServer(catalog, o, metrics);
        System.err.printf("serve: http://%s:%d  (A = %s, B = %s, %d%% to B) from %s, engine %s%n", o.host(), server.port(), va, vb,
                o.splitToB(), topic, engine);
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            catalog.close();
            done.countDown();
        }));
        done.await();
    }
}
