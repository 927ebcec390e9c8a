package l0stream.pipeline.experiment;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import l0stream.connectors.cli.Args;
import l0stream.connectors.cli.Workspace;
import l0stream.connectors.dataset.DriftScenario;
import l0stream.connectors.dataset.FashionMnist;
import l0stream.connectors.dataset.ImageDataset;
import l0stream.connectors.dataset.SyntheticImages;
import l0stream.model.DeviceChoice;
import l0stream.model.PyTorchRuntime;
import l0stream.model.gate.GateInit;
import l0stream.model.gate.GateKind;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code l0stream experiment compare|drift}: the paper's claim on a stream, rerunnable.
 *
 * <ul>
 *   <li>{@code compare}: dense, L0-HC, Dep-L0 forward and Dep-L0 backward over a λ sweep, each on
 *       the same stream (same seeds, same order); per run prequential accuracy, test-split
 *       accuracy, FLOPs and params reduction of the compact network, open channels per layer. A
 *       table, a CSV of every run, a PNG of accuracy vs FLOPs reduction, and with {@code --json}
 *       one JSON object as the last line.
 *   <li>{@code drift}: a stream that changes at a switch point ({@code --scenario class-incremental|
 *       label-permute|rotate}, or {@code stationary} for false alarms), each arm through the job's own
 *       continual learner with and without replay; all-class and old-task test accuracy at the end,
 *       detection delay, false alarms, FLOPs reduction, open channels around the switch, retention.
 * </ul>
 */
public final class ExperimentCommand {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> COMMON = List.of("--dataset", "--network", "--records", "--seeds", "--batch",
            "--out", "--data-dir", "--weight-lr", "--gate-lr", "--device", "--trace-every", "--schedule");

    private ExperimentCommand() {}

    public static void main(String[] argv) throws Exception {
        if (argv.length > 0 && argv[0].equals("study")) {
            Args a = Args.parse(Arrays.copyOfRange(argv, 1, argv.length), StudyCommand.OPTIONS, List.of("--quick", "--json"));
            ObjectNode out = StudyCommand.run(a, ExperimentCommand::say);
            if (a.flag("--json")) {
                System.out.println(JSON.writeValueAsString(out));
            }
            System.exit(0);
        }
        if (argv.length == 0 || !(argv[0].equals("compare") || argv[0].equals("drift"))) {
            throw new IllegalArgumentException("usage: l0stream experiment compare|drift|study [--dataset fashion-mnist|synthetic]"
                    + " [--network lenet5|vgg-narrow] [--records N] [--lambdas a,b,c] [--seeds 1,2] [--hc-init reference|louizos]"
                    + " [--dep-init reference|open] [--hc-gate-lr X] [--dep-gate-lr Y] [--quick] [--json] [--out DIR]");
        }
        String[] rest = Arrays.copyOfRange(argv, 1, argv.length);
        List<String> opts = new ArrayList<>(COMMON);
        opts.addAll(argv[0].equals("compare") ? List.of("--lambdas", "--hc-init", "--dep-init", "--hc-gate-lr", "--dep-gate-lr", "--methods") : List.of("--lambda", "--switch-at", "--arms", "--scenario",
                "--replay-capacity", "--replay-ratio", "--replay-policy", "--drift-detector"));
        Args a = Args.parse(rest, opts, List.of("--quick", "--json"));
        ObjectNode out = argv[0].equals("compare") ? compare(a) : drift(a);
        if (a.flag("--json")) {
            System.out.println(JSON.writeValueAsString(out));
        }
        System.exit(0);
    }

    static ObjectNode compare(Args a) throws IOException {
        boolean quick = a.flag("--quick");
        Data data = data(a, quick);
        long records = a.longValue("--records", quick ? 3_000 : 180_000, 64);
        List<Double> lambdas = doubles(a.string("--lambdas", quick ? "1e-5,1e-4" : "1e-5,3e-5,1e-4,3e-4"), "--lambdas");
        List<Long> seeds = longs(a.string("--seeds", "1"), "--seeds");
        StreamRun.Settings s = settings(a, records, DriftScenario.STATIONARY, Long.MAX_VALUE, quick ? 1_000 : 20_000);
        Path out = outDir(a, "compare");
        List<GateKind> methods = new ArrayList<>();
        for (String m : a.string("--methods", "none,hc,dep-forward,dep-backward").split(",")) {
            methods.add(GateKind.parse(m.trim(), "--methods"));
        }
        List<ExperimentArm> arms = new ArrayList<>();
        if (methods.contains(GateKind.NONE)) {
            arms.add(new ExperimentArm(GateKind.NONE, 0));
        }
        // per-method gate init and gate learning rate (issue 15: L0-HC at Adam 1e-3 cannot move log α from 3 to
        // below −2.4 in a few thousand steps, whatever λ; each method gets the rate its own validation picks)
        GateInit hcInit = GateInit.parse(a.string("--hc-init", "reference"), "--hc-init");
        GateInit depInit = GateInit.parse(a.string("--dep-init", "reference"), "--dep-init");
        hcInit.checkFits(GateKind.HC, "--hc-init");
        depInit.checkFits(GateKind.DEP_FORWARD, "--dep-init");
        double hcLr = a.doubleValue("--hc-gate-lr", s.gateLr(), 1e-9);
        double depLr = a.doubleValue("--dep-gate-lr", s.gateLr(), 1e-9);
        for (GateKind g : new GateKind[] {GateKind.HC, GateKind.DEP_FORWARD, GateKind.DEP_BACKWARD}) {
            for (double l : methods.contains(g) ? lambdas : List.<Double>of()) {
                arms.add(g == GateKind.HC ? new ExperimentArm(g, l, hcInit, hcLr) : new ExperimentArm(g, l, depInit, depLr));
            }
        }
        say("experiment compare: %s, %s, %,d records per run, batch %d, %d arms x %d seed(s); results in %s", data.train().name(),
                s.network(), records, s.batch(), arms.size(), seeds.size(), out);
        PyTorchRuntime.engine();
        List<RunResult> runs = new ArrayList<>();
        for (long seed : seeds) {
            for (ExperimentArm arm : arms) {
                RunResult r = StreamRun.run(arm, seed, data.train(), null, data.test(), s, ExperimentCommand::say);
                say("%-26s seed %d: test %.4f, prequential %.4f, FLOPs -%.1f%%, params -%.1f%%, open %s (%.0f s)", arm.label(),
                        seed, r.testAccuracy(), r.prequentialAccuracy(), 100 * r.flopsReduction(), 100 * r.paramsReduction(),
                        Arrays.toString(r.openChannels()), r.seconds());
                runs.add(r);
            }
        }
        writeCsv(runs, out.resolve("runs.csv"));
        ExperimentCharts.accuracyVsFlops(runs, "Test accuracy vs FLOPs reduction — " + s.network() + " on " + data.train().name()
                + ", " + String.format(Locale.ROOT, "%,d", records) + " streamed records", out.resolve("accuracy-vs-flops.png"));
        ObjectNode json = JSON.createObjectNode();
        json.put("experiment", "compare").put("dataset", data.train().name()).put("network", s.network())
                .put("records", records).put("batch", s.batch()).put("out", out.toString());
        ArrayNode arr = json.putArray("runs");
        runs.forEach(r -> arr.add(toJson(r)));
        ObjectNode summary = json.putObject("summary");
        double dense = runs.stream().filter(r -> r.arm().gates() == GateKind.NONE).mapToDouble(RunResult::testAccuracy).average().orElse(Double.NaN);
        summary.put("dense_test_accuracy", round(dense));
        // the paper's comparison: the most FLOPs removed at accuracy within 1 point of dense
        Map<String, Double> best = new LinkedHashMap<>();
        for (RunResult r : runs) {
            if (r.arm().gates() != GateKind.NONE && r.testAccuracy() >= dense - 0.01) {
                best.merge(r.arm().method(), r.flopsReduction(), Math::max);
            }
        }
        ObjectNode b = summary.putObject("best_flops_reduction_within_1pt_of_dense");
        for (String m : List.of("L0-HC", "Dep-L0 forward", "Dep-L0 backward")) {
            if (best.containsKey(m)) {
                b.put(m, round(best.get(m)));
            } else {
                b.putNull(m);
            }
        }
        printCompareTable(runs, summary);
        Files.writeString(out.resolve("summary.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json));
        return json;
    }

    static ObjectNode drift(Args a) throws IOException {
        boolean quick = a.flag("--quick");
        Data data = data(a, quick);
        DriftScenario scenario = DriftScenario.parse(a.string("--scenario", "class-incremental"), "--scenario");
        boolean stationary = scenario == DriftScenario.STATIONARY;
        long records = a.longValue("--records", quick ? 4_000 : stationary ? 180_000 : 60_000, 64);
        long switchAt = stationary ? Long.MAX_VALUE : a.longValue("--switch-at", records / 2, 1);
        double lambda = Double.parseDouble(a.string("--lambda", "3e-5"));
        List<Long> seeds = longs(a.string("--seeds", "1"), "--seeds");
        StreamRun.Settings s = settings(a, records, scenario, switchAt, quick ? 250 : 1_000);
        Path out = outDir(a, "drift");
        // every arm runs the job's own learner at the job's defaults (detector, probe), with or without replay
        // the job keys' defaults, or what --replay-* / --drift-detector set (same names and rules as the job's keys)
        l0stream.model.continual.ContinualConfig dflt = l0stream.model.continual.ContinualConfig.defaults();
        l0stream.model.continual.ContinualConfig job = dflt.withReplay(a.intValue("--replay-capacity", dflt.replayCapacity(), 0),
                        Double.parseDouble(a.string("--replay-ratio", Double.toString(dflt.replayRatio()))),
                        l0stream.model.continual.ReplayPolicy.parse(a.string("--replay-policy", dflt.replayPolicy().id()), "--replay-policy"))
                .withDetector(l0stream.model.continual.DriftDetector.Kind.parse(a.string("--drift-detector", dflt.driftDetector().id()),
                        "--drift-detector"), dflt.driftResponse());
        List<ExperimentArm> arms = new ArrayList<>();
        String defaultArms = stationary ? "dep-forward+replay"
                : quick ? "dep-forward,dep-forward+replay" : "dep-forward,dep-forward+replay,dep-forward+replay+relax,hc,hc+replay";
        for (String g : a.string("--arms", defaultArms).split(",")) {
            arms.add(ExperimentArm.parse(g, lambda, job, "--arms"));
        }
        say("experiment drift: %s, %s%s, %,d records in all, λ=%g, detector %s; results in %s", data.train().name(), scenario.id(),
                stationary ? "" : String.format(Locale.ROOT, " at record %,d", switchAt), records, lambda, job.driftDetector().id(), out);
        PyTorchRuntime.engine();
        List<RunResult> runs = new ArrayList<>();
        for (ExperimentArm arm : arms) {
            RunResult r = StreamRun.run(arm, seeds.get(0), data.train(), null, data.test(), s, ExperimentCommand::say);
            say("%-34s test (all) %.4f, old task %.4f, FLOPs -%.1f%%, detections %s (%.0f s)", arm.label(), r.testAccuracy(),
                    r.oldTaskAccuracy(), 100 * r.flopsReduction(), r.detections(), r.seconds());
            runs.add(r);
        }
        ExperimentCharts.drift(runs, stationary ? -1 : switchAt, "Continual learning — " + s.network() + " on " + data.train().name()
                + ", " + scenario.id(), out.resolve("drift.png"));
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out.resolve("trace.csv")))) {
            w.println("method,lambda,records,window_accuracy,retention_accuracy,open_channels");
            for (RunResult r : runs) {
                for (RunResult.TracePoint p : r.trace()) {
                    w.printf(Locale.ROOT, "%s,%g,%d,%.4f,%.4f,%s%n", r.arm().method(), r.arm().lambda(), p.records(), p.windowAccuracy(),
                            p.retentionAccuracy(), join(p.openChannels()));
                }
            }
        }
        ObjectNode json = JSON.createObjectNode();
        json.put("experiment", "drift").put("scenario", scenario.id()).put("dataset", data.train().name()).put("network", s.network())
                .put("records", records).put("lambda", lambda).put("detector", job.driftDetector().id())
                .put("replay_capacity", job.replayCapacity()).put("replay_ratio", job.replayRatio())
                .put("replay_policy", job.replayPolicy().id()).put("out", out.toString());
        if (!stationary) {
            json.put("switch_at", switchAt);
        }
        ArrayNode arr = json.putArray("runs");
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "%n%-34s %9s %9s %9s %8s %7s %9s %-16s %-16s %-16s%n", "method",
                "test all", "old task", "retention", "delay", "false", "FLOPs red", "open pre-switch", "fewest after", "open at end"));
        for (RunResult r : runs) {
            RunResult.TracePoint before = r.trace().stream().filter(p -> p.records() <= switchAt).reduce((x, y) -> y).orElse(r.trace().get(0));
            int[] minAfter = null;
            for (RunResult.TracePoint p : r.trace()) {
                if (p.records() > switchAt) {
                    minAfter = minAfter == null ? p.openChannels().clone() : min(minAfter, p.openChannels());
                }
            }
            RunResult.TracePoint end = r.trace().get(r.trace().size() - 1);
            long falseAlarms = r.detections().stream().filter(d -> d < switchAt).count();
            Long delay = r.detections().stream().filter(d -> d >= switchAt).findFirst().map(d -> d - switchAt).orElse(null);
            ObjectNode o = toJson(r);
            o.put("all_class_test_accuracy", round(r.testAccuracy()));
            o.put("old_task_test_accuracy", round(r.oldTaskAccuracy()));
            o.put("retention_accuracy", round(r.retentionAccuracy()));
            if (delay == null) {
                o.putNull("detection_delay_records");
            } else {
                o.put("detection_delay_records", delay);
            }
            o.put("false_alarms", falseAlarms);
            ArrayNode det = o.putArray("detections");
            r.detections().forEach(det::add);
            o.put("open_before_switch", join(before.openChannels()));
            o.put("open_min_after_switch", minAfter == null ? "" : join(minAfter));
            o.put("open_at_end", join(end.openChannels()));
            o.put("window_accuracy_before_switch", round(before.windowAccuracy()));
            o.put("window_accuracy_at_end", round(end.windowAccuracy()));
            ArrayNode t = o.putArray("trace");
            r.trace().forEach(p -> {
                ObjectNode tp = t.addObject().put("records", p.records()).put("window_accuracy", round(p.windowAccuracy()));
                if (Double.isNaN(p.retentionAccuracy())) {
                    tp.putNull("retention_accuracy"); // JSON has no NaN: not scored yet
                } else {
                    tp.put("retention_accuracy", round(p.retentionAccuracy()));
                }
                tp.put("open_channels", join(p.openChannels()));
            });
            arr.add(o);
            table.append(String.format(Locale.ROOT, "%-34s %9.4f %9.4f %9.4f %8s %7d %8.1f%% %-16s %-16s %-16s%n", r.arm().label(),
                    r.testAccuracy(), r.oldTaskAccuracy(), r.retentionAccuracy(), delay == null ? "-" : delay.toString(), falseAlarms,
                    100 * r.flopsReduction(), join(before.openChannels()), minAfter == null ? "-" : join(minAfter),
                    join(end.openChannels())));
        }
        System.out.print(table);
        Files.writeString(out.resolve("summary.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json));
        return json;
    }

    record Data(ImageDataset train, ImageDataset test) {}

    static Data data(Args a, boolean quick) throws IOException {
        String name = a.string("--dataset", "fashion-mnist");
        Path dir = Path.of(a.string("--data-dir", FashionMnist.DEFAULT_DIR));
        return switch (name) {
            case "fashion-mnist" -> {
                if (!FashionMnist.available(dir, FashionMnist.Split.TRAIN) || !FashionMnist.available(dir, FashionMnist.Split.TEST)) {
                    throw new IllegalArgumentException("Invalid value fashion-mnist for --dataset: not installed in " + dir
                            + " (apt-get install dataset-fashion-mnist), or use --dataset synthetic");
                }
                yield new Data(FashionMnist.load(dir, FashionMnist.Split.TRAIN), FashionMnist.load(dir, FashionMnist.Split.TEST));
            }
            case "synthetic" -> new Data(SyntheticImages.generate(quick ? 6_000 : 60_000, 1), SyntheticImages.generate(quick ? 1_000 : 10_000, 2));
            default -> throw new IllegalArgumentException("Invalid value " + name + " for --dataset: expected fashion-mnist or synthetic");
        };
    }

    private static StreamRun.Settings settings(Args a, long records, DriftScenario scenario, long switchAt, long traceEvery) {
        return settings(a, records, scenario, switchAt, traceEvery, LearningRateSchedule.CONSTANT);
    }

    static StreamRun.Settings settings(Args a, long records, DriftScenario scenario, long switchAt, long traceEvery,
                                       LearningRateSchedule defaultSchedule) {
        String network = a.string("--network", "lenet5");
        if (!network.equals("lenet5") && !network.equals("vgg-narrow")) {
            throw new IllegalArgumentException("Invalid value " + network + " for --network: expected lenet5 or vgg-narrow");
        }
        return new StreamRun.Settings(network, records, a.intValue("--batch", 64, 1), a.doubleValue("--weight-lr", 0.05, 1e-9),
                a.doubleValue("--gate-lr", 1e-3, 1e-9), scenario, switchAt, a.longValue("--trace-every", traceEvery, 1),
                DeviceChoice.parse(a.string("--device", "cpu"), "--device"),
                LearningRateSchedule.parse(a.string("--schedule", defaultSchedule.id()), "--schedule"));
    }

    private static Path outDir(Args a, String kind) throws IOException {
        Path out = Path.of(a.string("--out", Workspace.var().resolve("experiments")
                .resolve(kind + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))).toString()));
        Files.createDirectories(out);
        return out;
    }

    private static void writeCsv(List<RunResult> runs, Path file) throws IOException {
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(file))) {
            w.println("method,lambda,gate_init,gate_lr,seed,records,prequential_accuracy,test_accuracy,flops_reduction,params_reduction,open_channels,widths,seconds");
            for (RunResult r : runs) {
                w.printf(Locale.ROOT, "%s,%g,%s,%g,%d,%d,%.4f,%.4f,%.4f,%.4f,%s,%s,%.1f%n", r.arm().method(), r.arm().lambda(),
                        r.arm().gateInit().id(), r.arm().gateLr(), r.seed(),
                        r.records(), r.prequentialAccuracy(), r.testAccuracy(), r.flopsReduction(), r.paramsReduction(),
                        join(r.openChannels()), join(r.widths()), r.seconds());
            }
        }
    }

    private static void printCompareTable(List<RunResult> runs, ObjectNode summary) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%n%-18s %8s %5s %9s %9s %10s %10s  %s%n", "method", "lambda",
                "seed", "test acc", "preq acc", "FLOPs red", "params red", "open channels"));
        for (RunResult r : runs) {
            b.append(String.format(Locale.ROOT, "%-18s %8s %5d %9.4f %9.4f %9.1f%% %9.1f%%  %s%n", r.arm().method(),
                    r.arm().gates() == GateKind.NONE ? "-" : String.format(Locale.ROOT, "%.0e", r.arm().lambda()), r.seed(),
                    r.testAccuracy(), r.prequentialAccuracy(), 100 * r.flopsReduction(), 100 * r.paramsReduction(),
                    Arrays.toString(r.openChannels())));
        }
        b.append(String.format(Locale.ROOT, "%ndense test accuracy %.4f; largest FLOPs reduction within 1 point of it: %s%n",
                summary.get("dense_test_accuracy").asDouble(), summary.get("best_flops_reduction_within_1pt_of_dense")));
        System.out.print(b);
    }

    private static ObjectNode toJson(RunResult r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("method", r.arm().method()).put("lambda", r.arm().lambda()).put("gate_init", r.arm().gateInit().id());
        if (!Double.isNaN(r.arm().gateLr())) {
            o.put("gate_lr", r.arm().gateLr());
        }
        o.put("seed", r.seed()).put("records", r.records())
                .put("prequential_accuracy", round(r.prequentialAccuracy())).put("test_accuracy", round(r.testAccuracy()))
                .put("flops_reduction", round(r.flopsReduction())).put("params_reduction", round(r.paramsReduction()))
                .put("open_channels", join(r.openChannels())).put("widths", join(r.widths()))
                .put("seconds", Math.round(r.seconds() * 10) / 10.0);
        return o;
    }

    private static int[] min(int[] a, int[] b) {
        int[] m = a.clone();
        for (int i = 0; i < m.length; i++) {
            m[i] = Math.min(m[i], b[i]);
        }
        return m;
    }

    private static String join(int[] v) {
        return String.join(" ", Arrays.stream(v).mapToObj(Integer::toString).toList());
    }

    private static double round(double v) {
        return Double.isNaN(v) ? v : Math.round(v * 10000) / 10000.0;
    }

    static List<Double> doubles(String s, String key) {
        try {
            List<Double> out = Arrays.stream(s.split(",")).map(String::trim).map(Double::parseDouble).toList();
            if (out.stream().anyMatch(d -> !(d >= 0) || Double.isInfinite(d))) {
                throw new NumberFormatException();
            }
            return out;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid value " + s + " for " + key + ": expected comma-separated numbers >= 0");
        }
    }

    static List<Long> longs(String s, String key) {
        try {
            return Arrays.stream(s.split(",")).map(String::trim).map(Long::parseLong).toList();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid value " + s + " for " + key + ": expected comma-separated integers");
        }
    }

    private static void say(String fmt, Object... args) {
        System.err.println(String.format(Locale.ROOT, fmt, args));
    }

    private static void say(String line) {
        System.err.println(line);
    }
}
