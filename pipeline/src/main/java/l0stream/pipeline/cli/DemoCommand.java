package l0stream.pipeline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import l0stream.connectors.cli.Args;
import l0stream.connectors.cli.KeysCommand;
import l0stream.connectors.cli.Workspace;
import l0stream.connectors.trust.SnapshotKeys;
import l0stream.connectors.trust.SnapshotTrust;
import l0stream.connectors.dataset.DriftScenario;
import l0stream.connectors.dataset.FashionMnist;
import l0stream.connectors.dataset.ImageDataset;
import l0stream.connectors.dataset.ReplayProducer;
import l0stream.connectors.dataset.SyntheticImages;
import l0stream.connectors.image.ImageEncoder.Encoding;
import l0stream.connectors.kafka.LocalKafkaBroker;
import l0stream.connectors.snapshot.SnapshotManifest;
import l0stream.connectors.snapshot.SnapshotReader;
import l0stream.connectors.snapshot.VerifiedSnapshot;
import l0stream.pipeline.L0StreamJob;
import l0stream.pipeline.PipelineConfig;
import l0stream.pipeline.PipelineOption;
import l0stream.pipeline.TrainingProgress;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;

import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code l0stream demo}: the main job end to end on one machine. Starts the local broker unless
 * {@code --bootstrap} is given, streams Fashion-MNIST (synthetic images if it is not installed,
 * said plainly) into a fresh input topic while the job trains on an embedded MiniCluster, shows
 * live progress, drains the job (stop-with-savepoint: the partial batch is trained and a final
 * snapshot committed), and prints the published snapshots read back from the topic.
 */
public final class DemoCommand {

    private DemoCommand() {}

    public static void main(String[] argv) throws Exception {
        if (argv.length > 0 && (argv[0].equals("--help") || argv[0].equals("-h"))) {
            System.out.println("usage: l0stream demo [--records N=30000 | --duration SECONDS] [--bootstrap HOST:PORT]"
                    + " [--rate R] [--scenario S] [--json] [--allow-unsigned] [--<job key> value ...]\njob keys:\n" + PipelineOption.help());
            return;
        }
        List<String> own = List.of("--records", "--duration", "--rate", "--scenario", "--data-dir");
        List<String> flags = List.of("--json", "--allow-unsigned");
        Map<String, String> jobKeys = new HashMap<>();
        List<String> ownArgs = new ArrayList<>();
        for (int i = 0; i < argv.length; i++) {
            if (own.contains(argv[i]) || flags.contains(argv[i])) {
                ownArgs.add(argv[i]);
                if (own.contains(argv[i]) && i + 1 < argv.length) {
                    ownArgs.add(argv[++i]);
                }
            } else if (argv[i].startsWith("--") && i + 1 < argv.length) {
                PipelineOption.put(jobKeys, argv[i].substring(2), argv[++i]);
            } else {
                throw new IllegalArgumentException("Unknown argument " + argv[i] + " (see --help)");
            }
        }
        Args a = Args.parse(ownArgs.toArray(String[]::new), own, flags);
        boolean json = a.flag("--json");
        long duration = a.longValue("--duration", 0, 0);
        long records = a.longValue("--records", duration > 0 ? Long.MAX_VALUE / 4 : 30_000, 1);
        Path var = Workspace.var();

        String run = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        jobKeys.putIfAbsent("input-topic", "demo-" + run + "-images");
        jobKeys.putIfAbsent("snapshot-topic", "demo-" + run + "-snapshots");
        jobKeys.putIfAbsent("model-id", "demo");
        jobKeys.putIfAbsent("transactional-id-prefix", "l0stream-demo-" + run);
        if (!jobKeys.containsKey("bootstrap") && !jobKeys.containsKey("kafka-config")) {
            LocalKafkaBroker.Settings s = LocalKafkaBroker.Settings.defaults();
            if (!LocalKafkaBroker.answers(s.bootstrap(), Duration.ofSeconds(2))) {
                say(json, "demo: starting the local Kafka broker on " + s.bootstrap() + " (data in " + s.dataDir() + ")");
                LocalKafkaBroker.startDetached(s, Duration.ofSeconds(90));
            }
            jobKeys.put("bootstrap", s.bootstrap());
        }
        if (a.flag("--allow-unsigned")) {
            jobKeys.put("allow-unsigned", "true");
            jobKeys.put("signing-key", "");
            say(json, "demo: !!! --allow-unsigned: snapshots are published WITHOUT a signature; serving refuses them"
                    + " unless it runs with --allow-unsigned too. Experiments only. !!!");
        } else if (!jobKeys.containsKey("signing-key")) {
            jobKeys.put("signing-key", KeysCommand.ensureDefaultKey(m -> say(json, "demo: " + m)).toString());
        }
        PipelineConfig cfg = PipelineConfig.from(jobKeys);

        Path dataDir = Path.of(a.string("--data-dir", FashionMnist.DEFAULT_DIR));
        ImageDataset data;
        if (FashionMnist.available(dataDir, FashionMnist.Split.TRAIN)) {
            data = FashionMnist.load(dataDir, FashionMnist.Split.TRAIN);
        } else {
            say(json, "demo: Fashion-MNIST is NOT installed (" + dataDir + "), so this run uses SYNTHETIC images;"
                    + " install the Debian package dataset-fashion-mnist for the real data");
            data = SyntheticImages.generate(60_000, 1);
        }
        L0StreamJob.ensureTopics(cfg);
        say(json, String.format(Locale.ROOT, "demo: %s %s gates, lambda %g, batch %d -> snapshots every %d steps on %s",
                cfg.network(), cfg.gates().id(), cfg.lambda(), cfg.batchSize(), cfg.snapshotEverySteps(), cfg.snapshotTopic()));
        JobClient job = JobRunner.startEmbedded(cfg, var, "l0stream-demo");
        say(json, "demo: job " + job.getJobID() + " running on an embedded Flink MiniCluster (web UI http://localhost:8081,"
                + " Prometheus metrics http://localhost:9249)");

        Properties client = cfg.kafka().toProperties();
        ReplayProducer producer = new ReplayProducer();
        ReplayProducer.Options po = new ReplayProducer.Options(client, cfg.inputTopic(), cfg.inputPartitions(), records,
                a.doubleValue("--rate", 0, 0), DriftScenario.parse(a.string("--scenario", "stationary"), "--scenario"),
                records == Long.MAX_VALUE / 4 ? Long.MAX_VALUE : records / 2, Encoding.PNG, cfg.seed());
        CompletableFuture<ReplayProducer.Summary> produced = CompletableFuture.supplyAsync(() -> producer.run(data, po, null));
        long start = System.nanoTime();
        if (duration > 0) {
            CompletableFuture.delayedExecutor(duration, TimeUnit.SECONDS).execute(producer::stop);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(producer::stop));
        ReplayProducer.Summary summary = null;
        while (true) {
            Thread.sleep(2000);
            TrainingProgress p = TrainingProgress.latest();
            if (produced.isDone() && summary == null) {
                summary = produced.get();
            }
            if (!json && p != null) {
                System.err.printf(Locale.ROOT, "[%4.0fs] produced %,d  trained %,d  %,.0f img/s  step %,d  acc last %,d %.3f"
                        + "  retention %.3f  drifts %d  open channels %s  snapshot v%d%n", (System.nanoTime() - start) / 1e9,
                        summary != null ? summary.sent() : producer.sentSoFar(), p.trainedRecords(), p.imagesPerSecond(), p.step(),
                        cfg.continual().windowRecords(), p.windowedAccuracy(), p.retentionAccuracy(), p.driftDetections(),
                        Arrays.toString(p.openChannels()), p.snapshotVersion());
            }
            if (job.getJobStatus().get().isGloballyTerminalState()) {
                throw new IllegalStateException("the job ended early: " + job.getJobStatus().get()
                        + " (see the log above and the Flink web UI)");
            }
            if (summary != null && p != null && p.trainedRecords() + p.pendingRecords() >= summary.acknowledged()) {
                break;
            }
        }
        say(json, "demo: all " + summary.acknowledged() + " records consumed; draining the job (final batch, final snapshot)");
        job.stopWithSavepoint(true, null, SavepointFormatType.CANONICAL).get(120, TimeUnit.SECONDS);
        job.getJobExecutionResult().get(120, TimeUnit.SECONDS);
        report(cfg, json, (System.nanoTime() - start) / 1e9, summary.acknowledged());
        System.exit(0); // the embedded cluster's non-daemon threads would otherwise keep the JVM up
    }

    private static void report(PipelineConfig cfg, boolean json, double seconds, long produced) throws Exception {
        TrainingProgress p = TrainingProgress.latest();
        Properties c = cfg.kafka().toProperties();
        List<VerifiedSnapshot> snaps;
        // read back as serving would: only snapshots signed by this run's key count
        SnapshotTrust trust = cfg.signingKey().isEmpty() ? SnapshotTrust.of(List.of(), true)
                : SnapshotTrust.fromFiles(List.of(SnapshotKeys.publicKeyFileFor(Path.of(cfg.signingKey()))), false);
        try (SnapshotReader reader = new SnapshotReader(c, cfg.snapshotTopic(), trust)) {
            snaps = reader.pollUntil((int) p.snapshotVersion(), Duration.ofSeconds(60));
        }
        ObjectNode out = new ObjectMapper().createObjectNode();
        out.put("snapshot_topic", cfg.snapshotTopic());
        out.put("input_topic", cfg.inputTopic());
        out.put("seconds", Math.round(seconds * 10) / 10.0);
        out.put("produced_records", produced);
        out.put("trained_records", p.trainedRecords());
        out.put("steps", p.step());
        out.put("prequential_accuracy", Math.round(p.prequentialAccuracy() * 10000) / 10000.0);
        putRounded(out, "windowed_accuracy", p.windowedAccuracy());
        putRounded(out, "retention_accuracy", p.retentionAccuracy());
        out.put("drift_detections", p.driftDetections());
        ArrayNode arr = out.putArray("snapshots");
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "%n%-8s %8s %9s %-26s %10s %10s%n", "version",
                "step", "accuracy", "open channels per layer", "FLOPs red.", "bytes"));
        for (VerifiedSnapshot s : snaps) {
            SnapshotManifest m = s.manifest();
            ObjectNode o = arr.addObject();
            o.put("version", m.version()).put("step", m.step()).put("prequential_accuracy", m.prequentialAccuracy())
                    .put("flops_reduction", Math.round(m.flopsReduction() * 10000) / 10000.0)
                    .put("artifact_bytes", m.artifactBytes()).put("trained_records", m.trainedRecords());
            if (m.continual() != null) {
                putRounded(o, "retention_accuracy", m.continual().retentionAccuracy() == null ? Double.NaN : m.continual().retentionAccuracy());
                o.put("drift_detections", m.continual().driftCount());
            }
            ObjectNode open = o.putObject("open_channels");
            m.openChannels().forEach(open::put);
            table.append(String.format(Locale.ROOT, "%-8d %8d %9.4f %-26s %10.3f %,10d%n", m.version(), m.step(),
                    m.prequentialAccuracy(), m.openChannels().values(), m.flopsReduction(), m.artifactBytes()));
        }
        if (json) {
            System.out.println(new ObjectMapper().writeValueAsString(out));
        } else {
            System.out.print(table);
            System.out.printf(Locale.ROOT, "%n%d snapshots on %s; %,d records trained in %.0f s; overall prequential accuracy %.4f;"
                    + " last %,d records %.4f; retention (held-out probe) %.4f; drifts detected %d%n",
                    snaps.size(), cfg.snapshotTopic(), p.trainedRecords(), seconds, p.prequentialAccuracy(),
                    cfg.continual().windowRecords(), p.windowedAccuracy(), p.retentionAccuracy(), p.driftDetections());
        }
    }

    /** JSON has no NaN: an unknown figure is null. */
    private static void putRounded(ObjectNode o, String key, double v) {
        if (Double.isNaN(v)) {
            o.putNull(key);
        } else {
            o.put(key, Math.round(v * 10000) / 10000.0);
        }
    }

    private static void say(boolean json, String line) {
        System.err.println(line);
    }
}
