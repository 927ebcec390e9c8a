package l0stream.pipeline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import l0stream.connectors.cli.Args;
import l0stream.connectors.cli.KeysCommand;
import l0stream.connectors.dataset.FashionMnist;
import l0stream.connectors.dataset.ImageDataset;
import l0stream.connectors.dataset.SyntheticImages;
import l0stream.connectors.image.ImageEncoder;
import l0stream.connectors.image.ImageEncoder.Encoding;
import l0stream.connectors.kafka.CheckedSends;
import l0stream.connectors.kafka.LocalKafkaBroker;
import l0stream.connectors.snapshot.SnapshotManifest;
import l0stream.model.train.Batch;
import l0stream.model.train.L0Trainer;
import l0stream.pipeline.L0StreamJob;
import l0stream.pipeline.PipelineConfig;
import l0stream.pipeline.CheckpointStats;
import l0stream.pipeline.TrainingProgress;
import l0stream.pipeline.TrainerPhases;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code l0stream bench pipeline}: the same model, batch size and records, in one run, (a) as a
 * bare in-process test-then-train loop over in-memory batches and (b) through Kafka and the job
 * on a MiniCluster (records produced beforehand, raw encoding; throughput counted from the
 * trainer's first record to its last step, so cluster start-up is excluded). Snapshot publish
 * latency is cut (manifest wall time) → visible to a read_committed consumer, with a 1 s
 * checkpoint interval.
 *
 * <p>Both sides are timed over two windows of the same stream: the headline one after
 * {@code --warmup-records} (default {@value #DEFAULT_WARMUP_RECORDS}: the job's steady state,
 * once the JIT has compiled the paths Flink and Kafka run once per checkpoint), and a start-up
 * window of as many records after {@value #STARTUP_RECORDS} (keys prefixed {@code startup_}),
 * while the JIT is still compiling them. A continual job runs for days, so the first is what it
 * keeps; the second is what a short run sees. Only round 1's start-up window is a fresh JVM's:
 * later rounds start their job in a JVM that has compiled much of it before, as a job restarted on
 * a running TaskManager does.
 */
public final class PipelineBenchmark {

    private PipelineBenchmark() {}

    public static void main(String[] argv) throws Exception {
        Args a = Args.parse(argv, List.of("--records", "--warmup-records", "--batch", "--rounds", "--bootstrap", "--kafka-config",
                "--kafka-property", "--replay-ratio", "--replay-capacity"), List.of("--json"));
        int n = a.intValue("--records", 12_800, 64);
        int rounds = a.intValue("--rounds", DEFAULT_ROUNDS, 1);
        int batch = a.intValue("--batch", 64, 1);
        // whole batches, so that both sides time the same steps on the same records
        int warm = (a.intValue("--warmup-records", DEFAULT_WARMUP_RECORDS, 0) + batch - 1) / batch * batch;
        List<Window> windows = windows(warm, n, batch);
        Path dir = Path.of(FashionMnist.DEFAULT_DIR);
        ImageDataset data = FashionMnist.available(dir, FashionMnist.Split.TRAIN)
                ? FashionMnist.load(dir, FashionMnist.Split.TRAIN) : SyntheticImages.generate(60_000, 1);
        String bootstrap = a.string("--bootstrap", null);
        LocalKafkaBroker broker = null;
        if (bootstrap == null && a.string("--kafka-config", null) == null) {
            broker = LocalKafkaBroker.startTemporary(19292, 19293, 768, Duration.ofSeconds(90));
            bootstrap = broker.bootstrap();
        }
        String run = UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> keys = new HashMap<>();
        if (bootstrap != null) {
            keys.put("bootstrap", bootstrap);
        }
        if (a.string("--kafka-config", null) != null) {
            keys.put("kafka-config", a.string("--kafka-config", null));
        }
        if (!a.strings("--kafka-property").isEmpty()) {
            keys.put("kafka-property", String.join("\n", a.strings("--kafka-property")));
        }
        keys.put("batch-size", Integer.toString(batch));
        keys.put("checkpoint-interval-ms", "1000");
        keys.put("snapshot-every-steps", "25");
        keys.put("device", "cpu");
        keys.put("signing-key", KeysCommand.ensureDefaultKey(System.err::println).toString()); // as in production
        // the continual learner's replay is part of the job's work (default on); both sides run it alike
        for (String k : List.of("replay-ratio", "replay-capacity")) {
            if (a.string("--" + k, null) != null) {
                keys.put(k, a.string("--" + k, null));
            }
        }
        List<ObjectNode> results = new ArrayList<>();
        try {
            ProcessHandle brokerProcess = broker == null ? null : broker.processHandle();
            for (int r = 0; r < rounds; r++) {
                // each round on topics of its own, so that the job starts from an empty state on fresh records
                String id = "bench-" + run + "-r" + r;
                keys.put("input-topic", id + "-images");
                keys.put("snapshot-topic", id + "-snapshots");
                keys.put("model-id", id);
                keys.put("transactional-id-prefix", id);
                PipelineConfig cfg = PipelineConfig.from(keys);
                ObjectNode o = new ObjectMapper().createObjectNode();
                // on a thread that ends, as the job's trainer runs on a task thread: a bare loop on the main
                // thread would leave a second libgomp team alive and slow the pipeline measured after it
                long total = windows.get(0).to();
                // progress: a round trains warm-up + window records twice, a few minutes on 2 cores
                System.err.printf(Locale.ROOT, "round %d/%d: bare loop, %,d records (the last %,d timed) ...%n", r + 1, rounds, total,
                        windows.get(0).images());
                l0stream.model.KernelSelfCheck.onOwnThread("bare-trainer", () -> bare(cfg, data, windows, o, brokerProcess));
                L0StreamJob.ensureTopics(cfg);
                produce(cfg, data, Math.toIntExact(total));
                System.err.printf(Locale.ROOT, "round %d/%d: Kafka + Flink job, the same %,d records ...%n", r + 1, rounds, total);
                pipeline(cfg, windows, o, brokerProcess);
                for (Window w : windows) {
                    ratios(o, w.prefix());
                }
                System.err.printf(Locale.ROOT, "round %d/%d: bare %.0f, pipeline %.0f images/s, pipeline / bare %.3f, CPU per image %.3f%s%n",
                        r + 1, rounds, o.get("bare_images_per_s").asDouble(), o.get("pipeline_images_per_s").asDouble(),
                        o.get("pipeline_over_bare").asDouble(), o.path("cpu_per_image_over_bare").asDouble(),
                        o.has(STARTUP + "pipeline_over_bare") ? String.format(Locale.ROOT, " (start-up window: %.3f, %.3f)",
                                o.get(STARTUP + "pipeline_over_bare").asDouble(), o.path(STARTUP + "cpu_per_image_over_bare").asDouble()) : "");
                results.add(o);
            }
        } finally {
            if (broker != null) {
                broker.close();
            }
        }
        ObjectNode out = summary(results);
        out.put("records", n);
        out.put("warmup_records", warm);
        if (windows.size() > 1) {
            out.put(STARTUP + "from_records", windows.get(1).from());
            out.put(STARTUP + "to_records", windows.get(1).to());
        }
        out.put("batch", batch);
        System.out.printf(Locale.ROOT, "%nl0stream bench pipeline — LeNet Dep-L0, %,d records after %,d of warm-up on each side,"
                + " batch %d, checkpoint every 1 s, %d round(s)%n", n, warm, batch, rounds);
        if (rounds > 1) {
            System.out.printf(Locale.ROOT, "%-40s %s%n", "pipeline / bare by round", out.get("pipeline_over_bare_by_round"));
            System.out.printf(Locale.ROOT, "%-40s %s%n", "CPU per image, pipeline / bare by round", out.get("cpu_per_image_over_bare_by_round"));
            System.out.printf(Locale.ROOT, "(medians over the rounds; the rest is round %d's, the round with the median pipeline / bare)%n",
                    out.get("median_round").asInt() + 1);
        }
        System.out.printf(Locale.ROOT, "%-40s %,12.0f%n", "bare test-then-train loop, images/s", out.get("bare_images_per_s").asDouble());
        System.out.printf(Locale.ROOT, "%-40s %,12.0f%n", "Kafka + Flink pipeline, images/s", out.get("pipeline_images_per_s").asDouble());
        System.out.printf(Locale.ROOT, "%-40s %12.3f   (target >= 0.90)%n", "pipeline / bare", out.get("pipeline_over_bare").asDouble());
        if (out.has("cpu_per_image_over_bare")) {
            System.out.printf(Locale.ROOT, "%-40s %12.0f%n", "bare CPU µs per image", out.get("bare_cpu_us_per_image").asDouble());
            System.out.printf(Locale.ROOT, "%-40s %12.0f   (job JVM %.0f + broker %.0f)%n", "pipeline CPU µs per image",
                    out.get("pipeline_cpu_us_per_image").asDouble(), out.get("pipeline_jvm_cpu_us_per_image").asDouble(),
                    out.get("pipeline_broker_cpu_us_per_image").asDouble());
            System.out.printf(Locale.ROOT, "%-40s %12.3f   (target <= 1.10)%n", "CPU per image, pipeline / bare",
                    out.get("cpu_per_image_over_bare").asDouble());
        }
        if (out.has(STARTUP + "pipeline_over_bare")) {
            Window w = windows.get(1);
            System.out.printf(Locale.ROOT, "start-up window (records %,d to %,d of each round's job; round 1 is this JVM's first job):%n", w.from(), w.to());
            if (rounds > 1) {
                System.out.printf(Locale.ROOT, "  %-38s %s%n", "pipeline / bare by round", out.get(STARTUP + "pipeline_over_bare_by_round"));
            }
            System.out.printf(Locale.ROOT, "  %-38s %12.3f%n", "pipeline / bare", out.get(STARTUP + "pipeline_over_bare").asDouble());
            System.out.printf(Locale.ROOT, "  %-38s %12.3f%n", "CPU per image, pipeline / bare", out.path(STARTUP + "cpu_per_image_over_bare").asDouble());
            System.out.printf(Locale.ROOT, "  %-38s %12d   (steady window: %d)%n", "pipeline JIT CPU µs per image",
                    out.path(STARTUP + "pipeline_jit_cpu_us_per_image").asLong(), out.path("pipeline_jit_cpu_us_per_image").asLong());
        }
        System.out.printf(Locale.ROOT, "%-40s %12.0f µs per image, %.1f %% of the window (bare: %.0f µs per image)%n",
                "trainer thread: learning steps", out.get("trainer_learn_us_per_image").asDouble(),
                100 * out.get("trainer_learn_share").asDouble(), out.get("bare_learn_us_per_image").asDouble());
        System.out.printf(Locale.ROOT, "%-40s %12.1f %%   (%d, %.0f ms each)%n", "trainer thread: snapshot cuts",
                100 * out.get("trainer_cut_share").asDouble(), out.get("trainer_cuts").asInt(), out.get("trainer_cut_ms_mean").asDouble());
        System.out.printf(Locale.ROOT, "%-40s %12.1f %%   (%d, %.0f ms each, synchronous part)%n", "trainer thread: checkpoints",
                100 * out.get("trainer_checkpoint_share").asDouble(), out.get("trainer_checkpoints").asInt(),
                out.get("trainer_checkpoint_sync_ms_mean").asDouble());
        printThreads("CPU µs per image by thread, bare", out.get("bare_thread_cpu_us_per_image"));
        printThreads("CPU µs per image by thread, pipeline", out.get("pipeline_thread_cpu_us_per_image"));
        System.out.printf(Locale.ROOT, "%-40s %12.0f%n", "broker CPU ms per s, idle (bare phase)",
                out.path("broker_idle_cpu_ms_per_s").asDouble());
        System.out.printf(Locale.ROOT, "%-40s %12.0f   (target < 2000, median of %d)%n", "snapshot publish latency ms (cut→visible)",
                out.get("snapshot_publish_latency_ms").asDouble(), out.get("snapshots").asInt());
        System.out.printf(Locale.ROOT, "%-40s %12.0f%n", "checkpoint duration ms (median)", out.get("checkpoint_duration_ms").asDouble());
        if (a.flag("--json")) {
            System.out.println(new ObjectMapper().writeValueAsString(out));
        }
        System.exit(0);
    }

    /**
     * Records before the headline window on both sides. The bare loop's code is compiled within a
     * few thousand records; the job's is not: Flink's checkpoint and RPC paths, the Kafka clients
     * and Jackson run once per checkpoint or snapshot and reach the JIT's thresholds over about a
     * minute (5,275 compilations in the job's first 10 s, still 250–400 per 10 s after a minute).
     * After 6,400 records the JIT took 50–380 CPU µs per image in the window, after 64,000 about 13.
     */
    static final int DEFAULT_WARMUP_RECORDS = 64_000;

    /** Where the start-up window begins: the warm-up this benchmark used before it measured the steady state. */
    static final int STARTUP_RECORDS = 6_400;

    /** Key prefix of the start-up window's figures. */
    static final String STARTUP = "startup_";

    /** Records {@code [from, to)} of the stream over which both sides are timed; its keys start with {@code prefix}. */
    record Window(String prefix, long from, long to) {
        long images() {
            return to - from;
        }
    }

    /**
     * The headline window ({@code n} records after {@code warm}) and, where the warm-up leaves room
     * for it, the start-up window: up to {@code n} records after {@link #STARTUP_RECORDS}, ending
     * where the headline window starts at the latest. Whole batches, so both sides time the same steps.
     */
    static List<Window> windows(int warm, int n, int batch) {
        List<Window> w = new ArrayList<>();
        w.add(new Window("", warm, warm + (long) n / batch * batch));
        long from = (STARTUP_RECORDS + batch - 1) / batch * batch;
        long to = Math.min(from + (long) n / batch * batch, warm);
        if (to > from) {
            w.add(new Window(STARTUP, from, to));
        }
        return w;
    }

    /** pipeline / bare for one window's images/s and CPU per image; the JIT's share on both sides. */
    static void ratios(ObjectNode o, String p) {
        o.put(p + "pipeline_over_bare", Math.round(o.get(p + "pipeline_images_per_s").asDouble()
                / o.get(p + "bare_images_per_s").asDouble() * 1000) / 1000.0);
        if (o.has(p + "pipeline_cpu_us_per_image") && o.has(p + "bare_cpu_us_per_image")) {
            o.put(p + "cpu_per_image_over_bare", Math.round(o.get(p + "pipeline_cpu_us_per_image").asDouble()
                    / o.get(p + "bare_cpu_us_per_image").asDouble() * 1000) / 1000.0);
        }
        for (String side : List.of("bare", "pipeline")) {
            long jit = 0;
            var threads = o.path(p + side + "_thread_cpu_us_per_image").fields();
            while (threads.hasNext()) {
                var e = threads.next();
                jit += e.getKey().contains("CompilerThre") ? e.getValue().asLong() : 0;
            }
            o.put(p + side + "_jit_cpu_us_per_image", jit);
        }
    }

    /**
     * Bare loop and pipeline measured in turn this many times: this machine's speed drifts by ±20 %
     * within minutes, so one pair's ratio moves by ±0.1; the median of three pairs much less.
     */
    static final int DEFAULT_ROUNDS = 3;

    /**
     * One result for several rounds: the two ratios as medians over the rounds (and round by round),
     * every other figure from the round whose {@code pipeline_over_bare} is the median, so that they
     * belong together.
     */
    static ObjectNode summary(List<ObjectNode> rounds) {
        List<ObjectNode> byRatio = new ArrayList<>(rounds);
        byRatio.sort(java.util.Comparator.comparingDouble(o -> o.get("pipeline_over_bare").asDouble()));
        ObjectNode median = byRatio.get((byRatio.size() - 1) / 2);
        ObjectNode out = median.deepCopy();
        out.put("rounds", rounds.size());
        out.put("median_round", rounds.indexOf(median));
        for (String k : List.of("pipeline_over_bare", "cpu_per_image_over_bare",
                STARTUP + "pipeline_over_bare", STARTUP + "cpu_per_image_over_bare")) {
            List<Double> v = new ArrayList<>();
            var arr = out.putArray(k + "_by_round");
            for (ObjectNode o : rounds) {
                if (o.has(k)) {
                    v.add(o.get(k).asDouble());
                    arr.add(o.get(k).asDouble());
                }
            }
            if (!v.isEmpty()) {
                out.put(k, Math.round(median(v) * 1000) / 1000.0);
            }
        }
        return out;
    }

    private static void printThreads(String title, com.fasterxml.jackson.databind.JsonNode threads) {
        if (threads == null || threads.isEmpty()) {
            return;
        }
        System.out.println(title + " (top 8):");
        var it = threads.fields();
        for (int i = 0; i < 8 && it.hasNext(); i++) {
            var e = it.next();
            System.out.printf(Locale.ROOT, "  %-38s %12d%n", e.getKey(), e.getValue().asLong());
        }
    }

    private static void putThreads(ObjectNode out, String key, Map<String, Double> threads, long images) {
        ObjectNode o = out.putObject(key);
        threads.entrySet().stream()
                .filter(e -> !e.getKey().isEmpty() && Math.round(e.getValue() * 1e6 / images) > 0)
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> o.put(e.getKey(), Math.round(e.getValue() * 1e6 / images)));
    }

    private static float[] pixels(ImageDataset data, int i) {
        byte[] b = data.image(i);
        float[] f = new float[b.length];
        for (int k = 0; k < b.length; k++) {
            f[k] = (b[k] & 0xff) / 255f;
        }
        return f;
    }

    /**
     * (a) The same work without Kafka or Flink: the job's own learning loop ({@link ContinualLearner},
     * with the job's continual settings: replay, probe, detector) per batch, through the end of the
     * last window, each window timed from the start of its first batch to the end of its last.
     */
    static void bare(PipelineConfig cfg, ImageDataset data, List<Window> windows, ObjectNode out, ProcessHandle broker) {
        int bs = cfg.batchSize();
        long total = windows.stream().mapToLong(Window::to).max().orElseThrow();
        List<Batch> batches = new ArrayList<>();
        for (int s = 0; s + bs <= total; s += bs) {
            float[] x = new float[bs * 784];
            int[] y = new int[bs];
            for (int i = 0; i < bs; i++) {
                System.arraycopy(pixels(data, (s + i) % data.count()), 0, x, i * 784, 784);
                y[i] = data.labels()[(s + i) % data.count()];
            }
            batches.add(new Batch(x, y));
        }
        AtomicBoolean stop = new AtomicBoolean();
        CpuClock.Sampler cpu = new CpuClock.Sampler(broker, stop);
        cpu.start();
        try (L0Trainer t = L0Trainer.create(cfg.modelConfig())) {
            l0stream.model.continual.ContinualLearner learner = new l0stream.model.continual.ContinualLearner(t, cfg.continual());
            long[] before = new long[batches.size() + 1]; // before[i]: when batch i starts (and batch i - 1 has ended)
            for (int b = 0; b < batches.size(); b++) {
                before[b] = System.nanoTime();
                learner.learn(batches.get(b));
            }
            before[batches.size()] = System.nanoTime();
            sleepQuietly(300); // a sample after the last window's end
            stop.set(true);
            for (Window w : windows) {
                String p = w.prefix();
                long t0 = before[(int) (w.from() / bs)];
                long t1 = before[(int) (w.to() / bs)];
                double rate = w.images() / ((t1 - t0) / 1e9);
                out.put(p + "bare_images_per_s", Math.round(rate));
                long[] c = cpu.between(t0, t1);
                if (c != null) {
                    out.put(p + "bare_cpu_us_per_image", Math.round(c[0] / 1e3 / w.images()));
                    out.put(p + "broker_idle_cpu_ms_per_s", Math.round(c[1] / 1e6 / ((t1 - t0) / 1e9)));
                }
                out.put(p + "bare_learn_us_per_image", Math.round(1e6 / rate));
                putThreads(out, p + "bare_thread_cpu_us_per_image", cpu.threadsBetween(t0, t1), w.images());
            }
            // what each checkpoint writes for the trainer: model + optimiser, and the learner (replay buffer, probe, ...)
            out.put("trainer_model_state_bytes", t.checkpoint().length);
            out.put("trainer_learner_state_bytes", learner.writeState().length);
            out.put("replay_ratio", cfg.continual().replayRatio());
            out.put("replay_capacity", cfg.continual().replayCapacity());
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Writes {@code n} raw image records (the dataset repeated as needed) to the job's input topic, every send checked. */
    static void produce(PipelineConfig cfg, ImageDataset data, int n) {
        Properties p = cfg.kafka().toProperties();
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        p.put("linger.ms", "5");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            CheckedSends<byte[], byte[]> sends = new CheckedSends<>(producer);
            for (int i = 0; i < n; i++) {
                int k = i % data.count();
                sends.send(new ProducerRecord<byte[], byte[]>(cfg.inputTopic(), null, (byte[]) null,
                        ImageEncoder.encode(data.image(k), data.height(), data.width(), data.channels(), Encoding.RAW),
                        ImageEncoder.headers(data.labels()[k], Encoding.RAW, data.height(), data.width(), data.channels(), null, -1)));
            }
            sends.flush();
        }
    }

    /**
     * (b) Through Kafka and Flink; also watches the snapshot topic and the REST API. Each window is
     * timed from the end of the step that completes its first records to the end of the step that
     * completes its last (a window from record 0 starts at the trainer's first record).
     */
    private static void pipeline(PipelineConfig cfg, List<Window> windows, ObjectNode out, ProcessHandle broker) throws Exception {
        List<Double> latencies = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        Thread watcher = new Thread(() -> watchSnapshots(cfg, latencies, stop), "snapshot-watcher");
        watcher.start();
        CpuClock.Sampler cpu = new CpuClock.Sampler(broker, stop);
        cpu.start();
        Configuration conf = JobRunner.embeddedConfiguration(Path.of(System.getProperty("java.io.tmpdir"), "l0stream-bench"));
        conf.setString("rest.port", "8091-8099");
        conf.setString("metrics.reporter.prom.port", "9260-9269");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
        L0StreamJob.build(env, cfg, true, s -> s);
        CheckpointStats.reset();
        TrainerPhases.reset();
        env.execute("l0stream-bench");
        TrainingProgress p = TrainingProgress.latest();
        Thread.sleep(2500);
        stop.set(true);
        watcher.join();
        cpu.join();
        List<TrainerPhases.Span> spans = TrainerPhases.spans();
        for (Window w : windows) {
            long from = w.from() == 0 ? p.firstRecordNanos() : endOfStepReaching(spans, w.from()).endNanos();
            long to = endOfStepReaching(spans, w.to()).endNanos();
            windowFigures(out, w.prefix(), from, to, w.images(), spans, cpu, broker != null);
        }
        out.put("snapshots", latencies.size());
        out.put("snapshot_publish_latency_ms", Math.round(median(latencies)));
        out.put("snapshot_publish_latency_max_ms", Math.round(latencies.stream().mapToDouble(Double::doubleValue).max().orElse(0)));
        out.put("checkpoint_duration_ms", Math.round(median(CheckpointStats.durationsMs())));
        out.put("checkpoints", CheckpointStats.durationsMs().size());
    }

    /** The trainer's first learning step after which at least {@code records} records are trained. */
    static TrainerPhases.Span endOfStepReaching(List<TrainerPhases.Span> spans, long records) {
        return spans.stream()
                .filter(s -> s.phase() == TrainerPhases.Phase.LEARN && s.trainedRecords() >= records)
                .findFirst().orElseThrow(() -> new IllegalStateException("the trainer never reached " + records + " records"));
    }

    /** The pipeline's figures over {@code [from, to]}: throughput, CPU per image, the trainer thread's phases. */
    private static void windowFigures(ObjectNode out, String prefix, long from, long to, long images,
                                      List<TrainerPhases.Span> spans, CpuClock.Sampler cpu, boolean brokerSampled) {
        out.put(prefix + "pipeline_images_per_s", Math.round(images / ((to - from) / 1e9)));
        // CPU of every process of the run (this JVM: Flink, trainer, PyTorch's threads, the benchmark's own
        // snapshot watcher; the broker) over the same window as the throughput; only with a broker of our own,
        // whose process is sampled too
        long[] window = cpu.between(from, to);
        if (window != null && brokerSampled) {
            out.put(prefix + "pipeline_jvm_cpu_us_per_image", Math.round(window[0] / 1e3 / images));
            out.put(prefix + "pipeline_broker_cpu_us_per_image", Math.round(window[1] / 1e3 / images));
            out.put(prefix + "pipeline_cpu_us_per_image", Math.round((window[0] + window[1]) / 1e3 / images));
        }
        putThreads(out, prefix + "pipeline_thread_cpu_us_per_image", cpu.threadsBetween(from, to), images);
        long[] sum = new long[TrainerPhases.Phase.values().length];
        int[] count = new int[sum.length];
        for (TrainerPhases.Span s : spans) {
            if (s.startNanos() >= from && s.endNanos() <= to) {
                sum[s.phase().ordinal()] += s.endNanos() - s.startNanos();
                count[s.phase().ordinal()]++;
            }
        }
        double span = to - from;
        int learn = TrainerPhases.Phase.LEARN.ordinal();
        int cut = TrainerPhases.Phase.CUT.ordinal();
        int checkpoint = TrainerPhases.Phase.CHECKPOINT.ordinal();
        out.put(prefix + "trainer_learn_share", Math.round(sum[learn] / span * 1000) / 1000.0);
        out.put(prefix + "trainer_learn_us_per_image", Math.round(sum[learn] / 1e3 / images));
        out.put(prefix + "trainer_cut_share", Math.round(sum[cut] / span * 1000) / 1000.0);
        out.put(prefix + "trainer_cuts", count[cut]);
        out.put(prefix + "trainer_cut_ms_mean", count[cut] == 0 ? 0 : Math.round(sum[cut] / 1e6 / count[cut]));
        out.put(prefix + "trainer_checkpoint_share", Math.round(sum[checkpoint] / span * 1000) / 1000.0);
        out.put(prefix + "trainer_checkpoints", count[checkpoint]);
        out.put(prefix + "trainer_checkpoint_sync_ms_mean", count[checkpoint] == 0 ? 0 : Math.round(sum[checkpoint] / 1e6 / count[checkpoint]));
    }

    private static void watchSnapshots(PipelineConfig cfg, List<Double> latencies, AtomicBoolean stop) {
        Properties c = cfg.kafka().toProperties();
        c.put("isolation.level", "read_committed");
        c.put("key.deserializer", ByteArrayDeserializer.class.getName());
        c.put("value.deserializer", ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c)) {
            TopicPartition tp = new TopicPartition(cfg.snapshotTopic(), 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            while (!stop.get()) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofSeconds(1))) {
                    if ("manifest".equals(new String(r.headers().lastHeader("record-type").value(), StandardCharsets.UTF_8))) {
                        SnapshotManifest m = SnapshotManifest.fromJson(r.value());
                        synchronized (latencies) {
                            latencies.add((double) (System.currentTimeMillis() - m.wallTimeMs()));
                        }
                    }
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("snapshot watcher failed", e);
        }
    }

    static double median(List<Double> v) {
        if (v.isEmpty()) {
            return Double.NaN;
        }
        double[] s = v.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
