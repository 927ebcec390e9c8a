package l0stream.model.bench;


import com.fasterxml.jackson.databind.node.ObjectNode;

import l0stream.model.DeviceChoice;
import l0stream.model.ModelConfig;
import l0stream.model.PyTorchRuntime;
import l0stream.model.SnapshotPredictor;
import l0stream.model.artifact.TensorArchive;
import l0stream.model.gate.GateKind;
import l0stream.model.nn.CompactNetwork;
import l0stream.model.nn.NetworkCost;
import l0stream.model.train.Batch;
import l0stream.model.train.L0Trainer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * {@code l0stream bench model}: trains dense, L0-HC and Dep-L0 LeNet side by side on the same
 * synthetic batches (round-robin, so machine noise hits all arms alike), reports median step
 * times, then prunes a Dep-L0 model trained with a large λ and compares gated vs compact
 * inference. With {@code --json} the last line is one JSON object.
 */
public final class ModelBenchmark {

    record Options(int steps, int batch, int pruneSteps, double pruneLambda, int inferBatch,
                   int inferRounds, String device, boolean json, boolean vsTorch) {}

    public static void main(String[] args) throws Exception {
        Options o = parse(args);
        ObjectNode result = run(o);
        if (o.json()) {
            System.out.println(TensorArchive.json().writeValueAsString(result));
        }
    }

    static Options parse(String[] args) {
        int steps = 300, batch = 64, pruneSteps = 300, inferBatch = 256, inferRounds = 30;
        double pruneLambda = 5e-3;
        String device = "cpu";
        boolean json = false;
        boolean vsTorch = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--steps" -> steps = positive(a, args, ++i);
                case "--batch" -> batch = positive(a, args, ++i);
                case "--prune-steps" -> pruneSteps = positive(a, args, ++i);
                case "--prune-lambda" -> pruneLambda = Double.parseDouble(value(a, args, ++i));
                case "--infer-batch" -> inferBatch = positive(a, args, ++i);
                case "--infer-rounds" -> inferRounds = positive(a, args, ++i);
                case "--device" -> device = DeviceChoice.parse(value(a, args, ++i), "--device").id();
                case "--json" -> json = true;
                case "--vs-torch" -> vsTorch = true;
                case "-h", "--help" -> {
                    System.out.println("usage: l0stream bench model [--steps N=300] [--batch B=64] [--prune-steps N=300]"
                            + " [--prune-lambda L=5e-3] [--infer-batch B=256] [--infer-rounds R=30]"
                            + " [--device auto|cpu|gpu] [--vs-torch] [--json]");
                    System.exit(0);
                }
                default -> throw new IllegalArgumentException("Unknown option " + a + " (try --help)");
            }
        }
        if (vsTorch && !device.equals("cpu")) {
            throw new IllegalArgumentException("Invalid value " + device + " for --device with --vs-torch: the PyTorch baseline runs on cpu");
        }
        return new Options(steps, batch, pruneSteps, pruneLambda, inferBatch, inferRounds, device, json, vsTorch);
    }

    private static String value(String key, String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException("Invalid value (missing) for " + key);
        }
        return args[i];
    }

    private static int positive(String key, String[] args, int i) {
        String v = value(key, args, i);
        try {
            int n = Integer.parseInt(v);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // fall through to the error below
        }
        throw new IllegalArgumentException("Invalid value " + v + " for " + key + ": must be an integer >= 1");
    }

    static ObjectNode run(Options o) throws java.io.IOException {
        PyTorchRuntime.engine();
        DeviceChoice device = DeviceChoice.parse(o.device(), "--device");
        Random rnd = new Random(17);
        Batch[] pool = new Batch[32];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = synthetic(rnd, o.batch());
        }
        GateKind[] arms = {GateKind.NONE, GateKind.HC, GateKind.DEP_FORWARD};
        List<L0Trainer> trainers = new ArrayList<>();
        for (GateKind k : arms) {
            trainers.add(L0Trainer.create(config(k, ModelConfig.DEFAULT_LAMBDA, ModelConfig.DEFAULT_GATE_LR, device)));
        }
        // the PyTorch arms (--vs-torch) are arms 3 (dense) and 4 (Dep-L0), in the same rotation
        TorchBaseline torch = o.vsTorch() ? TorchBaseline.start(pool, o.batch()) : null;
        int nArms = arms.length + (torch == null ? 0 : 2);
        progress(o, "training %d steps of batch %d per arm (dense, L0-HC, Dep-L0%s), interleaved", o.steps(), o.batch(),
                torch == null ? "" : "; PyTorch " + torch.version() + " dense and Dep-L0");
        double[][] times = new double[nArms][o.steps()];
        int warmup = Math.min(20, o.steps());
        try {
            for (int s = 0; s < warmup; s++) {
                for (int a = 0; a < nArms; a++) {
                    step(a, s % pool.length, pool, trainers, torch);
                }
            }
            for (int s = 0; s < o.steps(); s++) {
                for (int a = 0; a < nArms; a++) {
                    // rotate which arm goes first so no arm always follows the same one
                    int arm = (a + s) % nArms;
                    times[arm][s] = step(arm, s % pool.length, pool, trainers, torch);
                }
                if ((s + 1) % 100 == 0) {
                    progress(o, "  step %d/%d", s + 1, o.steps());
                }
            }
        } finally {
            if (torch != null) {
                torch.close();
            }
        }
        trainers.forEach(L0Trainer::close);
        double[] medians = Arrays.stream(times).mapToDouble(ModelBenchmark::median).toArray();

        progress(o, "training Dep-L0 with λ=%g (gate lr 0.05) for %d steps, then pruning", o.pruneLambda(), o.pruneSteps());
        ObjectNode out = TensorArchive.json().createObjectNode();
        try (L0Trainer sparse = L0Trainer.create(config(GateKind.DEP_FORWARD, o.pruneLambda(), 0.05, device))) {
            for (int s = 0; s < o.pruneSteps(); s++) {
                sparse.train(pool[s % pool.length]);
            }
            CompactNetwork compact = sparse.compact();
            NetworkCost dense = NetworkCost.of(compact.architecture().withWidths(
                    sparse.network().architecture().widths()));
            NetworkCost small = compact.cost();
            Batch infer = synthetic(new Random(99), o.inferBatch());
            double[] gatedT = new double[o.inferRounds()];
            double[] compactT = new double[o.inferRounds()];
            float maxDiff;
            try (SnapshotPredictor predictor = SnapshotPredictor.of(compact, TensorArchive.json().createObjectNode(), device)) {
                float[] gatedLogits = sparse.logits(infer);
                float[] compactLogits = predictor.logits(infer.images(), infer.size());
                maxDiff = maxAbsDiff(gatedLogits, compactLogits);
                for (int w = 0; w < 3; w++) {
                    sparse.logits(infer);
                    predictor.logits(infer.images(), infer.size());
                }
                for (int r = 0; r < o.inferRounds(); r++) {
                    long t0 = System.nanoTime();
                    sparse.logits(infer);
                    long t1 = System.nanoTime();
                    predictor.logits(infer.images(), infer.size());
                    long t2 = System.nanoTime();
                    gatedT[r] = (t1 - t0) / 1e9;
                    compactT[r] = (t2 - t1) / 1e9;
                }
            }
            double flopsReduction = 1 - small.flops() / dense.flops();
            double gatedIps = o.inferBatch() / median(gatedT);
            double compactIps = o.inferBatch() / median(compactT);
            out.put("device", device.resolve(PyTorchRuntime.engine()).toString());
            out.put("batch", o.batch());
            out.put("steps", o.steps());
            out.put("dense_images_per_s", round(o.batch() / medians[0]));
            out.put("hc_images_per_s", round(o.batch() / medians[1]));
            out.put("dep_images_per_s", round(o.batch() / medians[2]));
            out.put("dep_step_time_over_dense", round4(medians[2] / medians[0]));
            out.put("hc_step_time_over_dense", round4(medians[1] / medians[0]));
            if (torch != null) {
                out.put("torch_version", torch.version());
                out.put("torch_threads", torch.threads());
                out.put("djl_threads", ai.djl.pytorch.jni.JniUtils.getNumThreads());
                out.put("onednn_max_cpu_isa", System.getenv().getOrDefault("ONEDNN_MAX_CPU_ISA", "ALL"));
                out.put("torch_dense_images_per_s", round(o.batch() / medians[3]));
                out.put("torch_dep_images_per_s", round(o.batch() / medians[4]));
                out.put("djl_over_torch_dense", round4(medians[3] / medians[0]));
                out.put("djl_over_torch_dep", round4(medians[4] / medians[2]));
            }
            out.put("prune_lambda", o.pruneLambda());
            out.put("open_channels", Arrays.toString(sparse.network().openChannels()));
            out.put("flops_reduction", round4(flopsReduction));
            out.put("params_reduction", round4(1 - small.params() / dense.params()));
            out.put("gated_inference_images_per_s", round(gatedIps));
            out.put("compact_inference_images_per_s", round(compactIps));
            out.put("compact_speedup", round4(compactIps / gatedIps));
            out.put("compact_speedup_target", round4(0.8 / (1 - flopsReduction)));
            out.put("compact_vs_gated_max_abs_diff", maxDiff);
        }
        printTable(o, out);
        return out;
    }

    /** One step of arm {@code a} (0–2: DJL dense, L0-HC, Dep-L0; 3–4: PyTorch dense, Dep-L0) on pool batch {@code k}, in seconds. */
    private static double step(int a, int k, Batch[] pool, List<L0Trainer> trainers, TorchBaseline torch) throws java.io.IOException {
        if (a >= trainers.size()) {
            return torch.step(a == trainers.size() ? "dense" : "dep", k);
        }
        long t0 = System.nanoTime();
        trainers.get(a).train(pool[k]);
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void printTable(Options o, ObjectNode r) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%nl0stream bench model — LeNet-5-Caffe, batch %d, %d measured steps per arm, device %s%n",
                o.batch(), o.steps(), r.get("device").asText()));
        b.append(String.format(Locale.ROOT, "%-34s %14s%n", "training arm", "images/s (median)"));
        b.append(String.format(Locale.ROOT, "%-34s %14.0f%n", "dense", r.get("dense_images_per_s").asDouble()));
        b.append(String.format(Locale.ROOT, "%-34s %14.0f%n", "L0-HC", r.get("hc_images_per_s").asDouble()));
        b.append(String.format(Locale.ROOT, "%-34s %14.0f%n", "Dep-L0 (forward)", r.get("dep_images_per_s").asDouble()));
        b.append(String.format(Locale.ROOT, "%-34s %14.3f   (target <= 1.10)%n", "Dep-L0 step time / dense",
                r.get("dep_step_time_over_dense").asDouble()));
        if (r.has("torch_version")) {
            b.append(String.format(Locale.ROOT, "%nPyTorch %s (%d intra-op threads; DJL %d), same batches, interleaved:%n",
                    r.get("torch_version").asText(), r.get("torch_threads").asInt(), r.get("djl_threads").asInt()));
            b.append(String.format(Locale.ROOT, "%-34s %14.0f%n", "PyTorch dense", r.get("torch_dense_images_per_s").asDouble()));
            b.append(String.format(Locale.ROOT, "%-34s %14.0f%n", "PyTorch Dep-L0 (forward)", r.get("torch_dep_images_per_s").asDouble()));
            b.append(String.format(Locale.ROOT, "%-34s %14.3f   (target >= 1.0)%n", "DJL / PyTorch, dense", r.get("djl_over_torch_dense").asDouble()));
            b.append(String.format(Locale.ROOT, "%-34s %14.3f   (target >= 1.0)%n", "DJL / PyTorch, Dep-L0", r.get("djl_over_torch_dep").asDouble()));
        }
        b.append(String.format(Locale.ROOT, "%nprune (Dep-L0, lambda %g): open channels %s%n", r.get("prune_lambda").asDouble(),
                r.get("open_channels").asText()));
        b.append(String.format(Locale.ROOT, "%-34s %14.3f%n", "FLOPs reduction", r.get("flops_reduction").asDouble()));
        b.append(String.format(Locale.ROOT, "%-34s %14.3f%n", "params reduction", r.get("params_reduction").asDouble()));
        b.append(String.format(Locale.ROOT, "%-34s %14.0f%n", "gated inference images/s", r.get("gated_inference_images_per_s").asDouble()));
        b.append(String.format(Locale.ROOT, "%-34s %14.0f%n", "compact inference images/s", r.get("compact_inference_images_per_s").asDouble()));
        b.append(String.format(Locale.ROOT, "%-34s %14.3f   (target >= %.3f = 0.8/(1-flops_reduction))%n", "compact speedup over gated",
                r.get("compact_speedup").asDouble(), r.get("compact_speedup_target").asDouble()));
        b.append(String.format(Locale.ROOT, "%-34s %14.2e   (target <= 1e-4)%n", "compact vs gated max |diff|",
                r.get("compact_vs_gated_max_abs_diff").asDouble()));
        System.out.print(b);
    }

    private static void progress(Options o, String fmt, Object... args) {
        System.err.println(String.format(Locale.ROOT, fmt, args));
    }

    private static ModelConfig config(GateKind k, double lambda, double gateLr, DeviceChoice device) {
        return ModelConfig.builder().setNetwork("lenet5").setGates(k).optLambda(lambda).optGateLr(gateLr)
                .optSeed(7).optDevice(device).build();
    }

    /** Fashion-MNIST-shaped synthetic images: class c lights a band of rows, plus noise. */
    public static Batch synthetic(Random rnd, int n) {
        float[] x = new float[n * 784];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            int c = rnd.nextInt(10);
            y[i] = c;
            for (int p = 0; p < 784; p++) {
                int row = p / 28;
                x[i * 784 + p] = 0.2f * rnd.nextFloat() + (row / 3 == c ? 0.8f : 0f);
            }
        }
        return new Batch(x, y);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static float maxAbsDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    private static double round4(double v) {
        return Math.round(v * 10000) / 10000.0;
    }

    private ModelBenchmark() {}
}
