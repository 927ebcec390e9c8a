package l0stream.serving;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import l0stream.connectors.cli.Args;
import l0stream.connectors.snapshot.SnapshotManifest;
import l0stream.connectors.snapshot.SnapshotRecord;
import l0stream.connectors.snapshot.VerifiedSnapshot;
import l0stream.model.DeviceChoice;
import l0stream.model.ModelConfig;
import l0stream.model.PyTorchRuntime;
import l0stream.model.ImageClassifier;
import l0stream.model.artifact.SnapshotArtifact;
import l0stream.model.artifact.TensorArchive;
import l0stream.model.bench.ModelBenchmark;
import l0stream.model.gate.GateKind;
import l0stream.model.nn.CompactNetwork;
import l0stream.model.nn.NetworkCost;
import l0stream.model.train.L0Trainer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code l0stream bench serve [--engine onnxruntime|djl] [--concurrency 8] [--seconds 8] [--rounds 2] [--prune-steps 300]
 * [--prune-lambda 5e-3] [--json]}: first one forward pass of each engine timed at batch 1 and 32 (its fixed
 * and per-image cost), then, with the chosen engine, the dense LeNet against a compact Dep-L0 snapshot of it, at the
 * same concurrency, in one run. Each model is measured twice over: model-only (concurrent
 * single-image calls through {@link BatchedInference}, the serving hot path without HTTP) and end
 * to end (concurrent {@code POST /v1/predict} through a real {@link ServingServer}). Arms alternate
 * over rounds so drift in machine load hits both alike.
 */
public final class ServeBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ServeBenchmark() {}

    record Options(int concurrency, int seconds, int rounds, int pruneSteps, double pruneLambda, int maxBatch,
                   ServingEngine engine, DeviceChoice device, boolean json) {}

    /** Latencies of one measurement, in nanoseconds, and the wall time they took. */
    record Sample(long[] latenciesNs, double seconds) {
        double rps() {
            return latenciesNs.length / seconds;
        }

        double percentileMs(double q) {
            long[] s = latenciesNs.clone();
            Arrays.sort(s);
            return s.length == 0 ? Double.NaN : s[(int) Math.min(s.length - 1, Math.floor(q * s.length))] / 1e6;
        }

        static Sample merge(List<Sample> parts) {
            long[] all = parts.stream().flatMapToLong(p -> Arrays.stream(p.latenciesNs())).toArray();
            return new Sample(all, parts.stream().mapToDouble(Sample::seconds).sum());
        }
    }

    @FunctionalInterface
    interface Call {
        void run() throws Exception;
    }

    public static void main(String[] argv) throws Exception {
        Args a = Args.parse(argv, List.of("--concurrency", "--seconds", "--rounds", "--prune-steps", "--prune-lambda", "--device",
                "--max-batch", "--engine", "--engine-threads"), List.of("--json"));
        ServingEngine.threads(a.string("--engine-threads", null));
        Options o = new Options(a.intValue("--concurrency", 8, 1), a.intValue("--seconds", 8, 1), a.intValue("--rounds", 2, 1),
                a.intValue("--prune-steps", 300, 1), Double.parseDouble(a.string("--prune-lambda", "5e-3")),
                a.intValue("--max-batch", LoadedModel.DEFAULT_MAX_BATCH, 1),
                ServingEngine.parse(a.string("--engine", ServingEngine.DEFAULT.id()), "--engine"),
                DeviceChoice.parse(a.string("--device", "cpu"), "--device"), a.flag("--json"));
        ObjectNode r = run(o);
        printTable(o, r);
        if (o.json()) {
            System.out.println(JSON.writeValueAsString(r));
        }
        System.exit(0);
    }

    static ObjectNode run(Options o) throws Exception {
        PyTorchRuntime.engine();
        progress("building the dense LeNet and a compact Dep-L0 snapshot (λ=%g, %d steps on synthetic images)", o.pruneLambda(), o.pruneSteps());
        CompactNetwork dense;
        try (L0Trainer t = L0Trainer.create(config(GateKind.NONE, ModelConfig.DEFAULT_LAMBDA, o.device()))) {
            dense = t.compact();
        }
        CompactNetwork compact;
        Random rnd = new Random(17);
        try (L0Trainer t = L0Trainer.create(config(GateKind.DEP_FORWARD, o.pruneLambda(), o.device()))) {
            for (int s = 0; s < o.pruneSteps(); s++) {
                t.train(ModelBenchmark.synthetic(rnd, 64));
            }
            compact = t.compact();
        }
        NetworkCost denseCost = dense.cost();
        NetworkCost compactCost = compact.cost();
        double flopsReduction = 1 - compactCost.flops() / denseCost.flops();
        progress("compact widths %s, FLOPs reduction %.3f", Arrays.toString(compact.architecture().widths()), flopsReduction);

        float[] image = ModelBenchmark.synthetic(new Random(5), 1).images();
        byte[] raw = new byte[image.length];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) Math.round(image[i] * 255);
        }
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        double[] meanBatch;
        List<Sample> denseModel = new ArrayList<>();
        List<Sample> compactModel = new ArrayList<>();
        List<Sample> denseHttp = new ArrayList<>();
        List<Sample> compactHttp = new ArrayList<>();
        VariantSpec latest = VariantSpec.parse("latest", "--a");
        ServingServer.Options so = new ServingServer.Options("127.0.0.1", 0, latest, latest, 0, 1 << 20, o.concurrency());
        // each artifact (tensors + ONNX section) is written once and loaded by every path that measures it
        VerifiedSnapshot denseSnapshot = snapshot(dense, 1);
        VerifiedSnapshot compactSnapshot = snapshot(compact, 2);
        ObjectNode passCost = passCosts(denseSnapshot.artifact(), compactSnapshot.artifact(), o.device());
        try (ImageClassifier dp = o.engine().load(denseSnapshot.artifact(), o.device());
             ImageClassifier cp = o.engine().load(compactSnapshot.artifact(), o.device());
             BatchedInference db = new BatchedInference(dp, o.maxBatch(), "bench-dense");
             BatchedInference cb = new BatchedInference(cp, o.maxBatch(), "bench-compact");
             ModelCatalog dc = ModelCatalog.ofSnapshots(List.of(denseSnapshot), o.maxBatch(), o.engine(), o.device(), metrics);
             ModelCatalog cc = ModelCatalog.ofSnapshots(List.of(compactSnapshot), o.maxBatch(), o.engine(), o.device(), metrics);
             ServingServer ds = new ServingServer(dc, so, metrics);
             ServingServer cs = new ServingServer(cc, so, metrics)) {
            Call denseCall = httpCall(ds.port(), raw);
            Call compactCall = httpCall(cs.port(), raw);
            // warm up every path once so JIT and allocator settle before anything is timed
            measure(o.concurrency(), 1, () -> db.predict(image));
            measure(o.concurrency(), 1, () -> cb.predict(image));
            measure(o.concurrency(), 1, denseCall);
            measure(o.concurrency(), 1, compactCall);
            for (int round = 0; round < o.rounds(); round++) {
                progress("round %d/%d: model-only and HTTP, %d s per arm at concurrency %d", round + 1, o.rounds(), o.seconds(),
                        o.concurrency());
                denseModel.add(measure(o.concurrency(), o.seconds(), () -> db.predict(image)));
                compactModel.add(measure(o.concurrency(), o.seconds(), () -> cb.predict(image)));
                denseHttp.add(measure(o.concurrency(), o.seconds(), denseCall));
                compactHttp.add(measure(o.concurrency(), o.seconds(), compactCall));
            }
            meanBatch = new double[] {db.meanBatchSize(), cb.meanBatchSize()};
        }
        Sample dm = Sample.merge(denseModel);
        Sample cm = Sample.merge(compactModel);
        Sample dh = Sample.merge(denseHttp);
        Sample ch = Sample.merge(compactHttp);
        ObjectNode out = JSON.createObjectNode();
        out.put("network", "lenet5").put("engine", o.engine().id()).put("concurrency", o.concurrency()).put("max_batch", o.maxBatch())
                .put("model_dense_mean_batch", round(meanBatch[0], 2)).put("model_compact_mean_batch", round(meanBatch[1], 2)).put("seconds_per_arm", o.seconds() * o.rounds());
        out.put("flops_reduction", round(flopsReduction, 4));
        out.put("params_reduction", round(1 - compactCost.params() / denseCost.params(), 4));
        out.put("dense_rps", round(dh.rps(), 1)).put("compact_rps", round(ch.rps(), 1));
        out.put("dense_p50_ms", round(dh.percentileMs(0.5), 3)).put("dense_p99_ms", round(dh.percentileMs(0.99), 3));
        out.put("compact_p50_ms", round(ch.percentileMs(0.5), 3)).put("compact_p99_ms", round(ch.percentileMs(0.99), 3));
        out.put("compact_over_dense_rps", round(ch.rps() / dh.rps(), 3));
        out.put("model_dense_rps", round(dm.rps(), 1)).put("model_compact_rps", round(cm.rps(), 1));
        out.put("model_dense_p50_ms", round(dm.percentileMs(0.5), 3)).put("model_dense_p99_ms", round(dm.percentileMs(0.99), 3));
        out.put("model_compact_p50_ms", round(cm.percentileMs(0.5), 3)).put("model_compact_p99_ms", round(cm.percentileMs(0.99), 3));
        out.put("model_compact_over_dense_rps", round(cm.rps() / dm.rps(), 3));
        out.put("speedup_target", round(0.8 / (1 - flopsReduction), 3));
        out.put("dense_p99_over_p50", round(dh.percentileMs(0.99) / dh.percentileMs(0.5), 2));
        out.put("compact_p99_over_p50", round(ch.percentileMs(0.99) / ch.percentileMs(0.5), 2));
        out.set("pass_cost", passCost);
        return out;
    }

    /** Batch sizes at which one forward pass is timed per engine; the fixed cost is the fit's intercept. */
    private static final int[] PASS_BATCHES = {1, 32};

    /**
     * The per-pass cost of each engine, dense and compact, single-threaded caller: the median time of
     * one forward pass at batch 1 and 32, and the line through them, t(b) = fixed + b · per_image.
     */
    static ObjectNode passCosts(byte[] dense, byte[] compact, DeviceChoice device) throws Exception {
        progress("timing one forward pass per engine at batch %s", Arrays.toString(PASS_BATCHES));
        ServingEngine[] engines = ServingEngine.values();
        byte[][] nets = {dense, compact};
        String[] netNames = {"dense", "compact"};
        ImageClassifier[][] models = new ImageClassifier[engines.length][nets.length];
        try {
            for (int e = 0; e < engines.length; e++) {
                for (int n = 0; n < nets.length; n++) {
                    models[e][n] = engines[e].load(nets[n], device);
                }
            }
            float[] images = ModelBenchmark.synthetic(new Random(9), PASS_BATCHES[PASS_BATCHES.length - 1]).images();
            // blocks of consecutive passes per engine, blocks interleaved over rounds: each engine's
            // thread pool runs alone while timed (two pools spinning at once on two cores would
            // measure their contention, not the engine), and drift hits every arm alike
            int rounds = 5;
            int block = 40;
            long[][][][] t = new long[engines.length][nets.length][PASS_BATCHES.length][rounds * block];
            for (int r = -1; r < rounds; r++) { // round -1: warm-up, untimed
                for (int e = 0; e < engines.length; e++) {
                    for (int n = 0; n < nets.length; n++) {
                        for (int b = 0; b < PASS_BATCHES.length; b++) {
                            for (int k = 0; k < block; k++) {
                                long t0 = System.nanoTime();
                                models[e][n].predict(images, PASS_BATCHES[b]);
                                if (r >= 0) {
                                    t[e][n][b][r * block + k] = System.nanoTime() - t0;
                                }
                            }
                        }
                    }
                }
            }
            ObjectNode out = JSON.createObjectNode();
            for (int e = 0; e < engines.length; e++) {
                for (int n = 0; n < nets.length; n++) {
                    double[] us = new double[PASS_BATCHES.length];
                    for (int b = 0; b < PASS_BATCHES.length; b++) {
                        long[] s = t[e][n][b].clone();
                        Arrays.sort(s);
                        us[b] = s[s.length / 2] / 1e3;
                    }
                    int b0 = PASS_BATCHES[0];
                    int b1 = PASS_BATCHES[PASS_BATCHES.length - 1];
                    double perImage = (us[us.length - 1] - us[0]) / (b1 - b0);
                    ObjectNode c = out.putObject(engines[e].id() + "_" + netNames[n]);
                    c.put("pass_us_batch_" + b0, round(us[0], 1)).put("pass_us_batch_" + b1, round(us[us.length - 1], 1))
                            .put("fixed_us", round(us[0] - b0 * perImage, 1)).put("per_image_us", round(perImage, 2));
                }
            }
            return out;
        } finally {
            for (ImageClassifier[] row : models) {
                for (ImageClassifier m : row) {
                    if (m != null) {
                        m.close();
                    }
                }
            }
        }
    }

    /** Closed-loop HTTP calls through {@link ServingClient} (blocking, keep-alive). */
    private static Call httpCall(int port, byte[] raw) {
        ServingClient client = new ServingClient("127.0.0.1", port);
        return () -> {
            ServingClient.Response r = client.predict(raw, null);
            if (r.status() != 200) {
                throw new IllegalStateException("HTTP " + r.status() + ": " + r.body());
            }
        };
    }

    /** {@code threads} closed-loop callers for {@code seconds}; every call's latency is kept. */
    static Sample measure(int threads, int seconds, Call call) throws InterruptedException {
        AtomicBoolean stop = new AtomicBoolean();
        long[][] lat = new long[threads][];
        int[] counts = new int[threads];
        Throwable[] error = new Throwable[1];
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                long[] l = new long[4096];
                int n = 0;
                try {
                    while (!stop.get()) {
                        long t0 = System.nanoTime();
                        call.run();
                        if (n == l.length) {
                            l = Arrays.copyOf(l, n * 2);
                        }
                        l[n++] = System.nanoTime() - t0;
                    }
                } catch (Throwable e) {
                    synchronized (error) {
                        error[0] = e;
                    }
                }
                lat[id] = l;
                counts[id] = n;
            }, "bench-client-" + t);
            ts.add(th);
        }
        long start = System.nanoTime();
        ts.forEach(Thread::start);
        Thread.sleep(seconds * 1000L);
        stop.set(true);
        for (Thread t : ts) {
            t.join();
        }
        double wall = (System.nanoTime() - start) / 1e9;
        if (error[0] != null) {
            throw new IllegalStateException("a benchmark call failed: " + error[0], error[0]);
        }
        long[] all = new long[Arrays.stream(counts).sum()];
        int off = 0;
        for (int t = 0; t < threads; t++) {
            System.arraycopy(lat[t], 0, all, off, counts[t]);
            off += counts[t];
        }
        return new Sample(all, wall);
    }

    private static VerifiedSnapshot snapshot(CompactNetwork network, long version) {
        byte[] artifact = SnapshotArtifact.write(network, TensorArchive.json().createObjectNode());
        SnapshotManifest m = new SnapshotManifest(SnapshotManifest.CURRENT_VERSION, "bench", version, version - 1, 0, 0, 0,
                Map.of(), Map.of(), 0, network.cost().flops(), 0, network.cost().params(), 0, 0, artifact.length,
                SnapshotRecord.sha256Hex(artifact), 1);
        return new VerifiedSnapshot(m, artifact);
    }

    private static ModelConfig config(GateKind k, double lambda, DeviceChoice device) {
        return ModelConfig.builder().setNetwork("lenet5").setGates(k).optLambda(lambda).optGateLr(0.05)
                .optSeed(7).optDevice(device).build();
    }

    private static void printTable(Options o, ObjectNode r) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%none forward pass, median of 200 in 5 interleaved blocks (single caller):%n"));
        b.append(String.format(Locale.ROOT, "%-22s %14s %14s %12s %14s%n", "", "batch 1 us", "batch 32 us", "fixed us", "per image us"));
        r.get("pass_cost").fields().forEachRemaining(e -> b.append(String.format(Locale.ROOT, "%-22s %14.1f %14.1f %12.1f %14.2f%n",
                e.getKey().replace('_', ' '), e.getValue().get("pass_us_batch_1").asDouble(), e.getValue().get("pass_us_batch_32").asDouble(),
                e.getValue().get("fixed_us").asDouble(), e.getValue().get("per_image_us").asDouble())));
        b.append(String.format(Locale.ROOT, "%nserve benchmark (engine %s): LeNet-5, concurrency %d, %d s per arm, FLOPs reduction %.3f, params reduction %.3f%n",
                o.engine(), o.concurrency(), o.seconds() * o.rounds(), r.get("flops_reduction").asDouble(), r.get("params_reduction").asDouble()));
        b.append(String.format(Locale.ROOT, "batching: up to %d images per forward pass; model-only mean batch dense %.1f, compact %.1f%n",
                o.maxBatch(), r.get("model_dense_mean_batch").asDouble(), r.get("model_compact_mean_batch").asDouble()));
        b.append(String.format(Locale.ROOT, "%-22s %12s %12s %10s %10s%n", "", "requests/s", "p50 ms", "p99 ms", "p99/p50"));
        for (String[] row : new String[][] {{"model-only dense", "model_dense"}, {"model-only compact", "model_compact"},
                {"HTTP dense", "dense"}, {"HTTP compact", "compact"}}) {
            double p50 = r.get(row[1] + "_p50_ms").asDouble();
            double p99 = r.get(row[1] + "_p99_ms").asDouble();
            b.append(String.format(Locale.ROOT, "%-22s %12.0f %12.3f %10.3f %10.2f%n", row[0], r.get(row[1] + "_rps").asDouble(), p50, p99, p99 / p50));
        }
        b.append(String.format(Locale.ROOT, "%ncompact over dense, model-only: %.3f   (target >= %.3f = 0.8/(1-flops_reduction))%n",
                r.get("model_compact_over_dense_rps").asDouble(), r.get("speedup_target").asDouble()));
        b.append(String.format(Locale.ROOT, "compact over dense, HTTP:       %.3f   (same target, up to the HTTP overhead)%n",
                r.get("compact_over_dense_rps").asDouble()));
        b.append(String.format(Locale.ROOT, "p99 / p50 under load (HTTP):    dense %.2f, compact %.2f   (target < 5)%n",
                r.get("dense_p99_over_p50").asDouble(), r.get("compact_p99_over_p50").asDouble()));
        System.out.print(b);
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private static void progress(String fmt, Object... args) {
        System.err.println(String.format(Locale.ROOT, fmt, args));
    }
}
