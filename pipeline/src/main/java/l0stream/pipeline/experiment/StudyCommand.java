package l0stream.pipeline.experiment;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import l0stream.connectors.cli.Args;
import l0stream.connectors.cli.Workspace;
import l0stream.connectors.dataset.DriftScenario;
import l0stream.connectors.dataset.ImageDataset;
import l0stream.model.PyTorchRuntime;
import l0stream.model.gate.GateInit;
import l0stream.model.gate.GateKind;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code l0stream experiment study}: the fair Dep-L0 vs L0-HC comparison (issue 15), in resumable parts.
 *
 * <ol>
 *   <li>{@code tune}: every method's gate init and gate learning rate on a small grid, one seed, a shorter
 *       stream, judged on a validation split held out of the training stream ({@link StudyReport#choose}).</li>
 *   <li>{@code sweep}: dense and every method at its chosen rate over the λ grid, every seed, the full
 *       stream; seeds outermost, so a stopped sweep leaves whole seeds.</li>
 *   <li>{@code ablation}: Dep-L0 (both chains) with {@code open} init — every gate open at the start — at
 *       the chosen rate, so the reference init's head start of closed gates is measured.</li>
 * </ol>
 *
 * Every run goes through {@link StreamRun} (the job's learning loop), all arms under the same
 * learning-rate schedule; the test split is scored for the report only. Runs land one line at a time in
 * {@code <out>/runs.csv}; a run already there is skipped, so parts (or a killed study) resume.
 */
final class StudyCommand {

    static final List<String> OPTIONS = List.of("--part", "--records", "--tune-records", "--validation", "--seeds", "--lambdas",
            "--tune-lambdas", "--gate-lrs", "--hc-inits", "--ablation-lambdas", "--schedule", "--weight-lr", "--network", "--dataset",
            "--data-dir", "--out", "--batch", "--device");

    /** The tune part's one seed, whatever {@code --seeds} the sweep gets, so that parts run separately choose alike. */
    static final long TUNE_SEED = 1;

    /** The validation split's draw: fixed, so every run of every study holds out the same images. */
    static final long VALIDATION_SEED = 15;

    private static final ObjectMapper JSON = new ObjectMapper();

    private StudyCommand() {}

    static ObjectNode run(Args a, Consumer<String> say) throws IOException {
        boolean quick = a.flag("--quick");
        String part = a.string("--part", "all");
        if (!List.of("all", "tune", "sweep", "ablation", "report").contains(part)) {
            throw new IllegalArgumentException("Invalid value " + part + " for --part: expected all, tune, sweep, ablation or report");
        }
        ExperimentCommand.Data all = ExperimentCommand.data(a, quick);
        int validation = a.intValue("--validation", quick ? 500 : 5_000, 1);
        ImageDataset.Split split = all.train().holdOut(validation, VALIDATION_SEED);
        long records = a.longValue("--records", quick ? 2_000 : 165_000, 64);
        long tuneRecords = a.longValue("--tune-records", quick ? 1_000 : 55_000, 64);
        List<Long> seeds = ExperimentCommand.longs(a.string("--seeds", quick ? "1,2" : "1,2,3"), "--seeds");
        List<Double> lambdas = ExperimentCommand.doubles(a.string("--lambdas", quick ? "1e-5,1e-4" : "1e-6,3e-6,1e-5,3e-5,1e-4"), "--lambdas");
        List<Double> tuneLambdas = ExperimentCommand.doubles(a.string("--tune-lambdas", quick ? "1e-4" : "1e-6,1e-5,1e-4"), "--tune-lambdas");
        List<Double> gateLrs = ExperimentCommand.doubles(a.string("--gate-lrs", quick ? "1e-3,1e-2" : "1e-3,3e-3,1e-2"), "--gate-lrs");
        List<Double> ablationLambdas = ExperimentCommand.doubles(a.string("--ablation-lambdas", quick ? "1e-4" : "3e-5,1e-4"),
                "--ablation-lambdas");
        List<GateInit> hcInits = new ArrayList<>();
        for (String s : a.string("--hc-inits", "reference,louizos").split(",")) {
            GateInit g = GateInit.parse(s, "--hc-inits");
            g.checkFits(GateKind.HC, "--hc-inits");
            hcInits.add(g);
        }
        // every arm alike: the cosine schedule is what brings dense to ≥ 89 % in three passes
        StreamRun.Settings full = ExperimentCommand.settings(a, records, DriftScenario.STATIONARY, Long.MAX_VALUE, Math.max(records / 8, 64),
                LearningRateSchedule.COSINE);
        StreamRun.Settings tune = ExperimentCommand.settings(a, tuneRecords, DriftScenario.STATIONARY, Long.MAX_VALUE,
                Math.max(tuneRecords / 4, 64), LearningRateSchedule.COSINE);
        Path out = Path.of(a.string("--out", Workspace.var().resolve("experiments").resolve("study").toString()));
        StudyLedger ledger = StudyLedger.open(out.resolve("runs.csv"));
        say.accept(String.format(Locale.ROOT, "experiment study (%s): %s, %s, stream of %,d training images (%,d held out for validation),"
                        + " %,d records per run (tune %,d), %s schedule, seeds %s; ledger %s (%d runs already)", part,
                all.train().name(), full.network(), split.kept().count(), validation, records, tuneRecords, full.schedule().id(), seeds,
                out.resolve("runs.csv"), ledger.rows().size()));
        Runner runner = new Runner(ledger, split, all.test(), say);
        if (!part.equals("report")) {
            PyTorchRuntime.engine();
        }
        if (part.equals("all") || part.equals("tune")) {
            List<Planned> plan = new ArrayList<>();
            plan.add(new Planned("tune", new ExperimentArm(GateKind.NONE, 0), TUNE_SEED, tune));
            for (GateKind g : List.of(GateKind.HC, GateKind.DEP_FORWARD, GateKind.DEP_BACKWARD)) {
                for (GateInit init : g == GateKind.HC ? hcInits : List.of(GateInit.REFERENCE)) {
                    for (double lr : gateLrs) {
                        for (double l : tuneLambdas) {
                            plan.add(new Planned("tune", new ExperimentArm(g, l, init, lr), TUNE_SEED, tune));
                        }
                    }
                }
            }
            runner.runAll(plan);
        }
        if (part.equals("all") || part.equals("sweep") || part.equals("ablation")) {
            Map<String, StudyReport.Choice> chosen = StudyReport.choose(
                    ledger.rows().stream().filter(r -> r.part().equals("tune")).toList(), StudyReport.MATCH_TOLERANCE);
            for (String m : StudyReport.METHODS) {
                if (!chosen.containsKey(m)) {
                    throw new IllegalStateException("the tune part has no run of " + m + " in " + out + ": run --part tune first");
                }
            }
            List<Planned> plan = new ArrayList<>();
            if (part.equals("all") || part.equals("sweep")) {
                for (long seed : seeds) { // seeds outermost: a stopped sweep leaves whole seeds
                    plan.add(new Planned("sweep", new ExperimentArm(GateKind.NONE, 0), seed, full));
                    for (GateKind g : List.of(GateKind.HC, GateKind.DEP_FORWARD, GateKind.DEP_BACKWARD)) {
                        StudyReport.Choice c = chosen.get(new ExperimentArm(g, 0).method());
                        for (double l : lambdas) {
                            plan.add(new Planned("sweep", new ExperimentArm(g, l, GateInit.parse(c.gateInit(), "gate_init"), c.gateLr()),
                                    seed, full));
                        }
                    }
                }
            }
            if (part.equals("all") || part.equals("ablation")) {
                for (long seed : seeds) {
                    for (GateKind g : List.of(GateKind.DEP_FORWARD, GateKind.DEP_BACKWARD)) {
                        double lr = chosen.get(new ExperimentArm(g, 0).method()).gateLr();
                        for (double l : ablationLambdas) {
                            plan.add(new Planned("ablation", new ExperimentArm(g, l, GateInit.OPEN, lr), seed, full));
                        }
                    }
                }
            }
            runner.runAll(plan);
        }
        StringBuilder text = new StringBuilder();
        ObjectNode json = StudyReport.summarise(ledger.rows(), text);
        json.put("experiment", "study").put("out", out.toString()).put("runs", ledger.rows().size())
                .put("records", records).put("tune_records", tuneRecords).put("validation_images", validation)
                .put("schedule", full.schedule().id()).put("network", full.network()).put("dataset", all.train().name());
        System.out.print(text);
        Files.writeString(out.resolve("summary.txt"), text.toString());
        Files.writeString(out.resolve("summary.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json));
        ExperimentCharts.study(ledger.rows(), "Test accuracy vs FLOPs reduction — " + full.network() + " on " + all.train().name()
                + String.format(Locale.ROOT, ", %,d records, mean ± sd over seeds", records), out.resolve("study.png"));
        return json;
    }

    /** One run of the plan. */
    private record Planned(String part, ExperimentArm arm, long seed, StreamRun.Settings settings) {
        String key() {
            return StudyRow.key(part, arm, seed, settings.records(), settings.schedule().id());
        }
    }

    /** Runs the planned arms that the ledger does not have yet, books each as it finishes, and says how far it is. */
    private record Runner(StudyLedger ledger, ImageDataset.Split data, ImageDataset test, Consumer<String> say) {
        void runAll(List<Planned> plan) throws IOException {
            List<Planned> todo = plan.stream().filter(p -> !ledger.has(p.key())).toList();
            if (todo.isEmpty()) {
                return;
            }
            say.accept(String.format(Locale.ROOT, "%s: %d of %d runs to go", todo.get(0).part(), todo.size(), plan.size()));
            double spent = 0;
            for (int i = 0; i < todo.size(); i++) {
                Planned p = todo.get(i);
                RunResult r = StreamRun.run(p.arm(), p.seed(), data.kept(), data.heldOut(), test, p.settings(), line -> {});
                StudyRow row = StudyRow.of(p.part(), r, p.settings().schedule().id());
                ledger.add(row);
                spent += r.seconds();
                say.accept(String.format(Locale.ROOT, "[%d/%d] %-8s %-40s seed %d: validation %.4f, test %.4f, FLOPs -%.1f%%, open [%s] (%.0f s;"
                                + " about %.0f min to go)", i + 1, todo.size(), p.part(), p.arm().label(), p.seed(), r.validationAccuracy(),
                        r.testAccuracy(), 100 * r.flopsReduction(), row.openChannels(), r.seconds(), spent / (i + 1) * (todo.size() - i - 1) / 60));
            }
        }
    }
}
