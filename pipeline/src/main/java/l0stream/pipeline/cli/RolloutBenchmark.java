package l0stream.pipeline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import l0stream.connectors.cli.Args;
import l0stream.connectors.cli.KeysCommand;
import l0stream.connectors.dataset.FashionMnist;
import l0stream.connectors.dataset.ImageDataset;
import l0stream.connectors.dataset.SyntheticImages;
import l0stream.connectors.kafka.CheckedSends;
import l0stream.connectors.kafka.KafkaClientConfig;
import l0stream.connectors.kafka.LocalKafkaBroker;
import l0stream.connectors.kafka.Topics;
import l0stream.connectors.rollout.RolloutTopics;
import l0stream.connectors.snapshot.SnapshotManifest;
import l0stream.connectors.snapshot.SnapshotReader;
import l0stream.connectors.snapshot.SnapshotRecord;
import l0stream.connectors.snapshot.VerifiedSnapshot;
import l0stream.connectors.trust.SnapshotKeys;
import l0stream.connectors.trust.SnapshotSigner;
import l0stream.connectors.trust.SnapshotTrust;
import l0stream.model.DeviceChoice;
import l0stream.model.ImageClassifier;
import l0stream.pipeline.L0StreamJob;
import l0stream.pipeline.PipelineConfig;
import l0stream.pipeline.rollout.RolloutJob;
import l0stream.pipeline.rollout.RolloutPolicy;
import l0stream.serving.ModelCatalog;
import l0stream.serving.RolloutRouting;
import l0stream.serving.ServingEngine;
import l0stream.serving.ServingClient;
import l0stream.serving.ServingServer;
import l0stream.serving.VariantSpec;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * {@code l0stream bench rollout [--repetitions 20] [--diff 0.02] [--mode shadow|canary] [--train-records 20000]
 * [--min-labels 200] [--min-disagreements 60] [--threshold 0.99] [--label-delay-ms 200] [--concurrency 4]
 * [--latency-rate 300] [--latency-seconds 12] [--json]}.
 *
 * <p>Snapshots come from a real run of the job on Fashion-MNIST; each is scored on the test split,
 * and a stable one is paired with a worse and a better one that differ from it by about
 * {@code --diff} in accuracy. Each repetition runs the real closed loop: the evaluator job, two
 * serving replicas following it, the stable snapshot then the worse then the better published as
 * candidates, requests from the test split (shuffled by the repetition's seed) sent to both
 * replicas, and each request's true label given after a random delay to the other replica. It
 * reports the labels each decision rested on, wrong decisions (the worse promoted, the better
 * rolled back), the time from publishing a candidate to the replicas applying the decision, and the
 * request latency with rollout and prediction logging on vs off at the same offered load (canary
 * and shadow), with the evaluator job consuming the log on the same machine and without it.
 */
public final class RolloutBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();

    private RolloutBenchmark() {}

    /** A scored snapshot from the training run. */
    private record Scored(VerifiedSnapshot snapshot, double accuracy) {}

    /** One decision of one repetition. */
    private record Outcome(int repetition, String candidate, String kind, long labels, long pairs, double pPromote,
                           double pRollback, long millis) {}

    public static void main(String[] argv) throws Exception {
        // before anything loads the JDK's HTTP server (Flink's Prometheus reporter does): without
        // TCP_NODELAY every request waits ~40 ms for a delayed ACK (see ServingServer)
        System.setProperty("sun.net.httpserver.nodelay", "true");
        Args a = Args.parse(argv, List.of("--repetitions", "--diff", "--mode", "--train-records", "--min-labels", "--min-disagreements", "--threshold",
                "--label-delay-ms", "--concurrency", "--latency-rate", "--latency-seconds", "--canary-percent"), List.of("--json"));
        int reps = a.intValue("--repetitions", 20, 0);
        double diff = a.doubleValue("--diff", 0.02, 0);
        RolloutRouting.Mode mode = RolloutRouting.Mode.parse(a.string("--mode", "shadow"), "--mode");
        if (mode == RolloutRouting.Mode.MANUAL) {
            throw new IllegalArgumentException("Invalid value manual for --mode: expected shadow or canary");
        }
        int trainRecords = a.intValue("--train-records", 20_000, 640);
        RolloutPolicy d = RolloutPolicy.defaults();
        RolloutPolicy policy = new RolloutPolicy(a.intValue("--min-labels", d.minLabels(), 1),
                a.intValue("--min-disagreements", d.minDisagreements(), 0), a.doubleValue("--threshold", d.threshold(), 0),
                d.epsilon(), d.delta(), 20_000, Duration.ofHours(1), d.maxErrorIncrease(), d.maxP99Ratio(), Duration.ofMinutes(10));
        int labelDelay = a.intValue("--label-delay-ms", 200, 0);
        int concurrency = a.intValue("--concurrency", 4, 1);
        int latencyRate = a.intValue("--latency-rate", 300, 1);
        int latencySeconds = a.intValue("--latency-seconds", 12, 1);
        int canary = a.intValue("--canary-percent", 50, 0);

        Path fm = Path.of(FashionMnist.DEFAULT_DIR);
        boolean real = FashionMnist.available(fm, FashionMnist.Split.TRAIN) && FashionMnist.available(fm, FashionMnist.Split.TEST);
        ImageDataset train = real ? FashionMnist.load(fm, FashionMnist.Split.TRAIN) : SyntheticImages.generate(20_000, 1);
        ImageDataset test = real ? FashionMnist.load(fm, FashionMnist.Split.TEST) : SyntheticImages.generate(5_000, 2);
        Path key = KeysCommand.ensureDefaultKey(System.err::println);
        SnapshotSigner signer = SnapshotSigner.load(key);
        SnapshotTrust trust = SnapshotTrust.fromFiles(List.of(SnapshotKeys.publicKeyFileFor(key)), false);
        Path work = Files.createTempDirectory("l0stream-bench-rollout");

        ObjectNode out = JSON.createObjectNode();
        List<Outcome> outcomes = new ArrayList<>();
        try (LocalKafkaBroker broker = LocalKafkaBroker.startTemporary(19392, 19393, 768, Duration.ofSeconds(90))) {
            KafkaClientConfig kafka = KafkaClientConfig.plaintext(broker.bootstrap());
            String run = UUID.randomUUID().toString().substring(0, 8);

            System.err.printf("bench rollout: training on %,d records to get snapshots ...%n", trainRecords);
            List<VerifiedSnapshot> snapshots = train(kafka, train, trainRecords, run, key, trust);
            List<Scored> scored = new ArrayList<>();
            for (VerifiedSnapshot s : snapshots) {
                scored.add(new Scored(s, accuracy(s, test)));
            }
            Scored[] pick = pick(scored, diff);
            Scored stable = pick[0];
            Scored worse = pick[1];
            Scored better = pick[2];
            System.err.printf(Locale.ROOT, "bench rollout: %d snapshots scored; stable v%d %.4f, worse v%d %.4f, better v%d %.4f%n",
                    scored.size(), stable.snapshot().manifest().version(), stable.accuracy(), worse.snapshot().manifest().version(),
                    worse.accuracy(), better.snapshot().manifest().version(), better.accuracy());
            out.put("mode", mode.id()).put("repetitions", reps).put("diff_target", diff).put("snapshots_scored", scored.size());
            out.put("accuracy_stable", round4(stable.accuracy())).put("accuracy_worse", round4(worse.accuracy()))
                    .put("accuracy_better", round4(better.accuracy()));
            out.put("min_labels", policy.minLabels()).put("threshold", policy.threshold()).put("label_delay_ms", labelDelay);

            for (int r = 1; r <= reps; r++) {
                String topic = "rollout-bench-" + run + "-r" + r;
                outcomes.addAll(repetition(r, topic, kafka, trust, signer, policy, mode, canary, stable, worse, better, test,
                        labelDelay, concurrency, work));
                Outcome w = outcomes.get(outcomes.size() - 2);
                Outcome b = outcomes.get(outcomes.size() - 1);
                System.err.printf(Locale.ROOT, "bench rollout: repetition %d/%d: worse %s after %d labels (%.1f s), better %s after %d labels (%.1f s)%n",
                        r, reps, w.kind(), w.labels(), w.millis() / 1e3, b.kind(), b.labels(), b.millis() / 1e3);
            }
            latency(out, kafka, trust, signer, canary, stable, better, test, latencyRate, latencySeconds, run, work);
        }
        summarise(out, outcomes);
        print(out, outcomes);
        if (a.flag("--json")) {
            System.out.println(JSON.writeValueAsString(out));
        }
        System.exit(0);
    }

    // ---- snapshots from a real run --------------------------------------------------------------

    private static List<VerifiedSnapshot> train(KafkaClientConfig kafka, ImageDataset data, int n, String run, Path key,
                                                SnapshotTrust trust) throws Exception {
        Map<String, String> keys = new HashMap<>();
        keys.put("bootstrap", kafka.bootstrap());
        keys.put("input-topic", "rollout-bench-" + run + "-images");
        keys.put("snapshot-topic", "rollout-bench-" + run + "-snapshots");
        keys.put("model-id", "bench");
        keys.put("checkpoint-interval-ms", "1000");
        keys.put("snapshot-every-steps", "10");
        keys.put("device", "cpu");
        keys.put("transactional-id-prefix", "rollout-bench-" + run);
        keys.put("signing-key", key.toString());
        PipelineConfig cfg = PipelineConfig.from(keys);
        L0StreamJob.ensureTopics(cfg);
        PipelineBenchmark.produce(cfg, data, n);
        Configuration conf = JobRunner.embeddedConfiguration(Files.createTempDirectory("l0stream-bench-rollout-train"));
        conf.setString("rest.port", "8091-8099");
        conf.setString("metrics.reporter.prom.port", "9260-9269");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        L0StreamJob.build(env, cfg, true, s -> s);
        env.execute("rollout-bench-train");
        try (SnapshotReader reader = new SnapshotReader(kafka.toProperties(), cfg.snapshotTopic(), trust)) {
            return reader.readToEnd(Duration.ofMinutes(2));
        }
    }

    private static double accuracy(VerifiedSnapshot s, ImageDataset test) throws Exception {
        int correct = 0;
        int px = test.imageBytes();
        try (ImageClassifier c = ServingEngine.ONNXRUNTIME.load(s.artifact(), DeviceChoice.CPU)) {
            int classes = c.architecture().numClasses();
            for (int from = 0; from < test.count(); from += 256) {
                int n = Math.min(256, test.count() - from);
                float[] x = new float[n * px];
                for (int i = 0; i < n; i++) {
                    byte[] b = test.image(from + i);
                    for (int k = 0; k < px; k++) {
                        x[i * px + k] = (b[k] & 0xff) / 255f;
                    }
                }
                float[] p = c.predict(x, n);
                for (int i = 0; i < n; i++) {
                    int best = 0;
                    for (int k = 1; k < classes; k++) {
                        if (p[i * classes + k] > p[i * classes + best]) {
                            best = k;
                        }
                    }
                    correct += best == test.labels()[from + i] ? 1 : 0;
                }
            }
        }
        return (double) correct / test.count();
    }

    /** Stable, worse, better: the stable snapshot whose partners come closest to ∓diff. */
    private static Scored[] pick(List<Scored> all, double diff) {
        Scored[] best = null;
        double bestErr = Double.MAX_VALUE;
        for (Scored s : all) {
            Scored w = null;
            Scored b = null;
            for (Scored o : all) {
                if (o == s) {
                    continue;
                }
                if (w == null || Math.abs(s.accuracy() - o.accuracy() - diff) < Math.abs(s.accuracy() - w.accuracy() - diff)) {
                    w = o;
                }
                if (b == null || Math.abs(o.accuracy() - s.accuracy() - diff) < Math.abs(b.accuracy() - s.accuracy() - diff)) {
                    b = o;
                }
            }
            if (w == null || b == null || w == b) {
                continue;
            }
            double err = Math.abs(s.accuracy() - w.accuracy() - diff) + Math.abs(b.accuracy() - s.accuracy() - diff);
            if (err < bestErr) {
                bestErr = err;
                best = new Scored[] {s, w, b};
            }
        }
        if (best == null) {
            throw new IllegalStateException("the training run gave too few snapshots to pick a stable, a worse and a better one");
        }
        return best;
    }

    // ---- one repetition of the closed loop ------------------------------------------------------

    private static List<Outcome> repetition(int rep, String topic, KafkaClientConfig kafka, SnapshotTrust trust, SnapshotSigner signer,
                                            RolloutPolicy policy, RolloutRouting.Mode mode, int canary, Scored stable, Scored worse,
                                            Scored better, ImageDataset test, int labelDelay, int concurrency, Path work) throws Exception {
        List<AutoCloseable> open = new ArrayList<>();
        try {
            createTopics(kafka, topic);
            KafkaProducer<byte[], byte[]> pub = publisher(kafka, topic);
            open.add(pub);
            JobClient job = evaluator(kafka, topic, trust, policy, work.resolve("r" + rep));
            open.add(() -> job.cancel().get());
            List<Replica> replicas = List.of(new Replica(kafka, topic, trust, mode, canary, "a"), new Replica(kafka, topic, trust, mode, canary, "b"));
            open.addAll(replicas);
            publish(pub, topic, 1, stable.snapshot(), signer);
            awaitDecision(replicas, c -> c.get("seq").asLong() >= 1);
            List<Outcome> out = new ArrayList<>();
            Load load = new Load(replicas, test, new Random(rep), labelDelay, concurrency);
            try (load) {
                long version = 2;
                for (Scored candidate : new Scored[] {worse, better}) {
                    long seqBefore = replicas.get(0).current().get("seq").asLong();
                    long t0 = System.nanoTime();
                    publish(pub, topic, version, candidate.snapshot(), signer);
                    long v = version;
                    awaitDecision(replicas, c -> c.get("candidate_version").asLong() == v);
                    for (Replica r : replicas) {
                        r.awaitLoaded(v);
                    }
                    load.start();
                    JsonNode decided = awaitDecision(replicas, c -> c.get("seq").asLong() >= seqBefore + 2);
                    load.pause();
                    long millis = (System.nanoTime() - t0) / 1_000_000;
                    JsonNode e = decided.get("evidence");
                    long pairs = e == null ? 0 : e.get("pairs").asLong();
                    long labels = e == null ? 0 : pairs >= policy.minLabels() ? pairs : e.get("labels_stable").asLong() + e.get("labels_candidate").asLong();
                    out.add(new Outcome(rep, candidate == worse ? "worse" : "better", decided.get("kind").asText(), labels, pairs,
                            e == null ? Double.NaN : e.get("p_promote").asDouble(), e == null ? Double.NaN : e.get("p_rollback").asDouble(), millis));
                    version++;
                }
            }
            return out;
        } finally {
            closeAll(open);
        }
    }

    /** Closes in reverse order of opening; a failure to close is reported and the rest still close. */
    private static void closeAll(List<AutoCloseable> open) {
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception e) {
                System.err.println("bench rollout: closing: " + e);
            }
        }
    }

    private static void createTopics(KafkaClientConfig kafka, String topic) {
        try (Admin admin = Admin.create(kafka.toProperties())) {
            Topics.ensure(admin, topic, 1, Map.of(), Duration.ofSeconds(30));
            RolloutTopics.of(topic).ensure(admin, 1, Duration.ofSeconds(30));
        }
    }

    private static KafkaProducer<byte[], byte[]> publisher(KafkaClientConfig kafka, String topic) {
        Properties p = kafka.toProperties();
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        p.put("transactional.id", "bench-publisher-" + topic);
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p);
        producer.initTransactions();
        return producer;
    }

    /** Republishes a scored snapshot as version {@code v} of model "bench", signed, in one transaction. */
    private static void publish(KafkaProducer<byte[], byte[]> p, String topic, long v, VerifiedSnapshot s, SnapshotSigner signer) {
        SnapshotManifest o = s.manifest();
        byte[] artifact = s.artifact();
        SnapshotManifest m = new SnapshotManifest(o.manifestVersion(), "bench", v, v - 1, o.step(), o.trainedRecords(), System.currentTimeMillis(),
                o.sourceOffsets(), o.openChannels(), o.expectedFlops(), o.actualFlops(), o.expectedParams(), o.actualParams(),
                o.denseFlops(), o.prequentialAccuracy(), artifact.length, SnapshotRecord.sha256Hex(artifact),
                SnapshotRecord.chunksFor(artifact.length, SnapshotRecord.DEFAULT_CHUNK_BYTES), o.continual());
        CheckedSends<byte[], byte[]> sends = new CheckedSends<>(p);
        p.beginTransaction();
        for (SnapshotRecord r : SnapshotRecord.of(m, artifact, signer)) {
            sends.send(r.toProducerRecord(topic));
        }
        p.commitTransaction();
        sends.flush();
    }

    private static JobClient evaluator(KafkaClientConfig kafka, String topic, SnapshotTrust trust, RolloutPolicy policy, Path dir)
            throws Exception {
        Configuration conf = new Configuration();
        conf.setString("execution.checkpointing.dir", dir.toUri().toString());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        RolloutJob.build(env, new RolloutJob.Config(kafka, RolloutTopics.of(topic), trust, policy, 500, "bench-" + topic));
        return env.executeAsync("rollout-bench-" + topic);
    }

    /** A serving replica in this JVM: catalog, rollout routing, HTTP server. */
    private static final class Replica implements AutoCloseable {
        final ModelCatalog catalog;
        final RolloutRouting routing;
        final ServingServer server;
        final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

        Replica(KafkaClientConfig kafka, String topic, SnapshotTrust trust, RolloutRouting.Mode mode, int canary, String name)
                throws Exception {
            catalog = new ModelCatalog(kafka.toProperties(), topic, trust, 0, 2, 32, ServingEngine.ONNXRUNTIME, DeviceChoice.CPU, metrics);
            routing = mode == null ? null : new RolloutRouting(kafka.toProperties(), RolloutTopics.of(topic),
                    new RolloutRouting.Options(mode, canary, true, null, name, 100_000, 1024), catalog, metrics);
            server = new ServingServer(catalog, new ServingServer.Options("127.0.0.1", 0, VariantSpec.parse("pinned:1", "a"),
                    VariantSpec.parse("pinned:1", "b"), 0, 1 << 20, 8), metrics, routing);
            client = new ServingClient("127.0.0.1", server.port());
        }

        final ServingClient client;

        JsonNode current() {
            return routing.state().get("current"); // what GET /v1/rollout answers, without the HTTP round trip
        }

        void awaitLoaded(long version) throws InterruptedException {
            long deadline = System.currentTimeMillis() + 120_000;
            while (catalog.loaded().stream().noneMatch(m -> m.version() == version)) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("snapshot v" + version + " not loaded within 2 min");
                }
                Thread.sleep(20);
            }
        }

        @Override
        public void close() {
            server.close();
            if (routing != null) {
                routing.close();
            }
            catalog.close();
        }
    }

    private static JsonNode awaitDecision(List<Replica> replicas, Predicate<JsonNode> p) throws Exception {
        long deadline = System.currentTimeMillis() + 600_000;
        while (System.currentTimeMillis() < deadline) {
            boolean all = true;
            JsonNode c = null;
            for (Replica r : replicas) {
                c = r.current();
                all &= c != null && !c.isNull() && p.test(c);
            }
            if (all) {
                return c;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("no decision within 10 minutes: " + replicas.get(0).current());
    }

    /**
     * Closed-loop load: {@code concurrency} clients send test images (the repetition's shuffle) to
     * the replicas in turn; each answer's true label goes to the other replica after a random delay
     * in [0, 2·labelDelay] ms.
     */
    private static final class Load implements AutoCloseable {
        private final List<Replica> replicas;
        private final ImageDataset test;
        private final int[] order;
        private final int labelDelay;
        private final Random rnd;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicBoolean running = new AtomicBoolean();
        private final ScheduledExecutorService labels = Executors.newScheduledThreadPool(2);
        private final List<Thread> clients = new ArrayList<>();
        private volatile boolean closed;

        Load(List<Replica> replicas, ImageDataset test, Random rnd, int labelDelay, int concurrency) {
            this.replicas = replicas;
            this.test = test;
            this.rnd = rnd;
            this.labelDelay = labelDelay;
            this.order = test.shuffledOrder(rnd);
            for (int c = 0; c < concurrency; c++) {
                Thread t = new Thread(this::client, "bench-client-" + c);
                t.setDaemon(true);
                clients.add(t);
                t.start();
            }
        }

        void start() {
            running.set(true);
        }

        void pause() {
            running.set(false);
        }

        private void client() {
            while (!closed) {
                if (!running.get()) {
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return;
                    }
                    continue;
                }
                int i = next.getAndIncrement();
                int img = order[i % order.length];
                Replica answering = replicas.get(i % replicas.size());
                Replica labelling = replicas.get((i + 1) % replicas.size());
                try {
                    ServingClient.Response r = answering.client.predict(test.image(img), "req-" + i);
                    if (r.status() != 200) {
                        continue;
                    }
                    String id = JSON.readTree(r.body()).get("request_id").asText();
                    int truth = test.labels()[img];
                    long delay;
                    synchronized (rnd) {
                        delay = labelDelay == 0 ? 0 : rnd.nextInt(2 * labelDelay + 1);
                    }
                    labels.schedule(() -> {
                        try {
                            labelling.client.feedback(id, truth);
                        } catch (Exception e) {
                            // a lost label is only less evidence
                        }
                    }, delay, TimeUnit.MILLISECONDS);
                } catch (Exception e) {
                    // the replica is closing
                }
            }
        }

        @Override
        public void close() throws InterruptedException {
            closed = true;
            for (Thread t : clients) {
                t.join(10_000);
            }
            labels.shutdownNow();
        }
    }

    // ---- latency with rollout on vs off ---------------------------------------------------------

    /**
     * p50/p99 of requests sent open-loop at a fixed rate (a request's latency counts from when it
     * was due, so queueing shows) to a replica with rollout and prediction logging on (following a
     * rollout with a candidate under evaluation) and to one with both off serving the stable
     * version; blocks alternate so both see the same machine. Canary and shadow each.
     */
    private static void latency(ObjectNode out, KafkaClientConfig kafka, SnapshotTrust trust, SnapshotSigner signer, int canary,
                                Scored stable, Scored candidate, ImageDataset test, int rate, int seconds, String run, Path work)
            throws Exception {
        out.put("latency_rate_per_s", rate).put("latency_seconds_per_arm", seconds);
        for (RolloutRouting.Mode mode : new RolloutRouting.Mode[] {RolloutRouting.Mode.CANARY, RolloutRouting.Mode.SHADOW}) {
            String topic = "rollout-bench-" + run + "-latency-" + mode.id();
            createTopics(kafka, topic);
            List<AutoCloseable> open = new ArrayList<>();
            try {
                KafkaProducer<byte[], byte[]> pub = publisher(kafka, topic);
                open.add(pub);
                JobClient job = evaluator(kafka, topic, trust, RolloutPolicy.defaults(), work.resolve("latency-" + mode.id()));
                open.add(() -> {
                    if (!job.getJobStatus().get().isGloballyTerminalState()) {
                        job.cancel().get();
                    }
                });
                Replica on = new Replica(kafka, topic, trust, mode, canary, "on");
                Replica off = new Replica(kafka, topic, trust, null, canary, "off");
                open.add(on);
                open.add(off);
                publish(pub, topic, 1, stable.snapshot(), signer);
                publish(pub, topic, 2, candidate.snapshot(), signer);
                awaitDecision(List.of(on), c -> c.get("candidate_version").asLong() == 2); // under evaluation: no labels come
                on.awaitLoaded(2);
                off.awaitLoaded(1);
                openLoop(off, test, rate, 2, new ArrayList<>()); // warm-up
                openLoop(on, test, rate, 2, new ArrayList<>());
                String m = mode.id();
                // first with the evaluator consuming this replica's log on the same two cores, then with it
                // stopped (as when it runs on the Flink cluster): the replica keeps following its last decision
                for (String where : new String[] {"_with_evaluator_here", ""}) {
                    if (where.isEmpty()) {
                        job.cancel().get();
                    }
                    List<Long> latOn = new ArrayList<>();
                    List<Long> latOff = new ArrayList<>();
                    int rounds = 4;
                    for (int r = 0; r < rounds; r++) {
                        openLoop(off, test, rate, Math.max(1, seconds / rounds), latOff);
                        openLoop(on, test, rate, Math.max(1, seconds / rounds), latOn);
                    }
                    out.put("p50_us_" + m + "_on" + where, percentile(latOn, 0.50)).put("p50_us_" + m + "_off" + where, percentile(latOff, 0.50));
                    out.put("p99_us_" + m + "_on" + where, percentile(latOn, 0.99)).put("p99_us_" + m + "_off" + where, percentile(latOff, 0.99));
                    out.put("p99_on_over_off_" + m + where, Math.round(1000.0 * percentile(latOn, 0.99) / percentile(latOff, 0.99)) / 1000.0);
                }
            } finally {
                closeAll(open);
            }
        }
    }

    private static void openLoop(Replica r, ImageDataset test, int rate, int seconds, List<Long> lat) throws InterruptedException {
        java.util.concurrent.ExecutorService pool = Executors.newFixedThreadPool(32);
        List<Long> mine = java.util.Collections.synchronizedList(new ArrayList<>());
        long t0 = System.nanoTime();
        long n = (long) rate * seconds;
        for (long i = 0; i < n; i++) {
            long due = t0 + i * 1_000_000_000L / rate;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(wait);
            }
            long k = i;
            pool.execute(() -> {
                try {
                    ServingClient.Response res = r.client.predict(test.image((int) (k % test.count())), "lat-" + k);
                    if (res.status() == 200) {
                        mine.add((System.nanoTime() - due) / 1000);
                    }
                } catch (Exception e) {
                    // counted as missing
                }
            });
        }
        pool.shutdown();
        pool.awaitTermination(5, TimeUnit.MINUTES);
        lat.addAll(mine);
    }

    private static long percentile(List<Long> v, double q) {
        long[] s = v.stream().mapToLong(Long::longValue).sorted().toArray();
        return s.length == 0 ? 0 : s[Math.min(s.length - 1, (int) Math.ceil(q * s.length) - 1)];
    }

    // ---- report ---------------------------------------------------------------------------------

    private static void summarise(ObjectNode out, List<Outcome> outcomes) {
        long wrong = outcomes.stream().filter(o -> o.candidate().equals("worse") ? o.kind().equals("promote") : o.kind().equals("rollback")).count();
        long undecided = outcomes.stream().filter(o -> o.kind().equals("keep")).count();
        out.put("decisions", outcomes.size()).put("wrong_decisions", wrong).put("undecided", undecided);
        long[] labels = outcomes.stream().mapToLong(Outcome::labels).sorted().toArray();
        long[] millis = outcomes.stream().mapToLong(Outcome::millis).sorted().toArray();
        out.put("labels_per_decision_median", labels.length == 0 ? 0 : labels[labels.length / 2]);
        out.put("labels_per_decision_max", labels.length == 0 ? 0 : labels[labels.length - 1]);
        out.put("decision_ms_median", millis.length == 0 ? 0 : millis[millis.length / 2]);
        out.put("decision_ms_max", millis.length == 0 ? 0 : millis[millis.length - 1]);
        ArrayNode arr = out.putArray("outcomes");
        for (Outcome o : outcomes) {
            arr.addObject().put("repetition", o.repetition()).put("candidate", o.candidate()).put("decision", o.kind())
                    .put("labels", o.labels()).put("pairs", o.pairs()).put("p_promote", round4(o.pPromote()))
                    .put("p_rollback", round4(o.pRollback())).put("ms", o.millis());
        }
    }

    private static void print(ObjectNode out, List<Outcome> outcomes) {
        System.out.printf(Locale.ROOT, "%nl0stream bench rollout — %s, %d repetitions, candidates %.4f (worse) and %.4f (better) vs stable %.4f%n",
                out.get("mode").asText(), out.get("repetitions").asInt(), out.get("accuracy_worse").asDouble(),
                out.get("accuracy_better").asDouble(), out.get("accuracy_stable").asDouble());
        System.out.printf(Locale.ROOT, "%-44s %10d   (target 0)%n", "wrong decisions", out.get("wrong_decisions").asLong());
        System.out.printf(Locale.ROOT, "%-44s %10d%n", "undecided (stable kept)", out.get("undecided").asLong());
        System.out.printf(Locale.ROOT, "%-44s %10d   (max %d; target <= 2000)%n", "labels per decision, median",
                out.get("labels_per_decision_median").asLong(), out.get("labels_per_decision_max").asLong());
        System.out.printf(Locale.ROOT, "%-44s %10.1f   (max %.1f)%n", "publish -> decision applied, s (median)",
                out.get("decision_ms_median").asLong() / 1e3, out.get("decision_ms_max").asLong() / 1e3);
        for (String m : new String[] {"canary", "shadow"}) {
            System.out.printf(Locale.ROOT, "%-44s %10d / %d   (p50 %d / %d, %d req/s open loop)%n", "p99 latency us, " + m + " on / off",
                    out.get("p99_us_" + m + "_on").asLong(), out.get("p99_us_" + m + "_off").asLong(), out.get("p50_us_" + m + "_on").asLong(),
                    out.get("p50_us_" + m + "_off").asLong(), out.get("latency_rate_per_s").asInt());
            System.out.printf(Locale.ROOT, "%-44s %10.3f   (target <= 1.10; evaluator not on this machine)%n", "p99 " + m + " on / off",
                    out.get("p99_on_over_off_" + m).asDouble());
            System.out.printf(Locale.ROOT, "%-44s %10.3f   (the evaluator job on the same two cores)%n", "p99 " + m + " on / off, evaluator here",
                    out.get("p99_on_over_off_" + m + "_with_evaluator_here").asDouble());
        }
    }

    private static double round4(double v) {
        return Double.isNaN(v) ? Double.NaN : Math.round(v * 10_000) / 10_000.0;
    }
}
