package l0stream.pipeline.experiment;

import l0stream.connectors.dataset.DriftScenario;
import l0stream.connectors.dataset.ImageDataset;
import l0stream.model.DeviceChoice;
import l0stream.model.ModelConfig;
import l0stream.model.continual.ContinualLearner;
import l0stream.model.nn.CompactNetwork;
import l0stream.model.nn.NetworkCost;
import l0stream.model.train.Batch;
import l0stream.model.train.L0Trainer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntPredicate;

/**
 * Runs one arm over one deterministic stream through the job's own learning loop
 * ({@link ContinualLearner}: prequential scoring, replay, drift detection, probe), in-process so
 * that a sweep of many arms fits in minutes. The same {@code streamSeed} gives every arm the same
 * examples in the same order; the model seed is separate.
 */
public final class StreamRun {

    /** How a run is set up apart from its arm. */
    public record Settings(String network, long records, int batch, double weightLr, double gateLr, DriftScenario scenario,
                           long switchAt, long traceEvery, DeviceChoice device, LearningRateSchedule schedule) {}

    private StreamRun() {}

    /**
     * @param validation scored like {@code test} at the end (null: none), for choices that must not see
     *                   the test split
     */
    public static RunResult run(ExperimentArm arm, long seed, ImageDataset train, ImageDataset validation, ImageDataset test,
                                Settings s, Consumer<String> progress) {
        ModelConfig cfg = ModelConfig.builder().setNetwork(s.network()).setGates(arm.gates()).optLambda(arm.lambda())
                .optWeightLr(s.weightLr()).optGateLr(arm.gateLr(s.gateLr())).optGateInit(arm.gateInit()).optSeed(seed).optDevice(s.device()).build();
        DriftScenario.Stream stream = new DriftScenario.Stream(s.scenario(), train, s.switchAt(), seed * 7919 + 1);
        long start = System.nanoTime();
        List<RunResult.TracePoint> trace = new ArrayList<>();
        List<Long> detections = new ArrayList<>();
        try (L0Trainer t = L0Trainer.create(cfg)) {
            ContinualLearner learner = new ContinualLearner(t, arm.continual().withSeed(seed));
            int imageSize = train.imageBytes();
            long seen = 0;
            long correct = 0;
            long windowSeen = 0;
            long windowCorrect = 0;
            long nextTrace = s.traceEvery();
            while (seen < s.records()) {
                int n = (int) Math.min(s.batch(), s.records() - seen);
                double lr = s.schedule().rate(s.weightLr(), seen, s.records());
                if (lr != t.weightLearningRate()) {
                    t.setWeightLearningRate(lr);
                }
                float[] x = new float[n * imageSize];
                int[] y = new int[n];
                for (int i = 0; i < n; i++) {
                    DriftScenario.Example e = stream.next();
                    toFloats(e.pixels(), train, x, i * imageSize);
                    y[i] = e.label();
                }
                ContinualLearner.Outcome o = learner.learn(new Batch(x, y));
                if (o.driftDetected()) {
                    detections.add(learner.records() - learner.recordsSinceDrift());
                }
                correct += o.correct();
                windowCorrect += o.correct();
                seen += n;
                windowSeen += n;
                if (seen >= nextTrace || seen == s.records()) {
                    trace.add(new RunResult.TracePoint(seen, windowCorrect / (double) windowSeen, learner.retentionAccuracy(),
                            t.network().openChannels()));
                    windowSeen = 0;
                    windowCorrect = 0;
                    nextTrace += s.traceEvery();
                    progress.accept(String.format(java.util.Locale.ROOT,
                            "  %s seed %d: %,d/%,d records, window accuracy %.3f, retention %.3f, drifts %d, open %s",
                            arm.label(), seed, seen, s.records(), trace.get(trace.size() - 1).windowAccuracy(),
                            learner.retentionAccuracy(), learner.driftCount(), java.util.Arrays.toString(t.network().openChannels())));
                }
            }
            double testAccuracy = test == null ? Double.NaN : testAccuracy(t, test, s.scenario(), true, stream.permutation());
            double validationAccuracy = validation == null ? Double.NaN
                    : testAccuracy(t, validation, DriftScenario.STATIONARY, true, stream.permutation());
            double oldTask = test == null || s.scenario() == DriftScenario.STATIONARY ? Double.NaN
                    : testAccuracy(t, test, s.scenario(), false, stream.permutation());
            CompactNetwork compact = t.compact();
            NetworkCost dense = NetworkCost.of(t.network().architecture());
            NetworkCost small = compact.cost();
            return new RunResult(arm, seed, seen, correct / (double) seen, validationAccuracy, testAccuracy, oldTask, 1 - small.flops() / dense.flops(),
                    1 - small.params() / dense.params(), t.network().openChannels(), t.network().architecture().gatedWidths(),
                    (System.nanoTime() - start) / 1e9, detections, learner.retentionAccuracy(), trace);
        }
    }

    /**
     * Test-split accuracy under the task after the switch ({@code after}) or before it: class-incremental
     * scores all ten classes after, classes 0–4 before; label-permute permutes the labels after; rotate
     * rotates the images after; stationary is the plain test split either way.
     */
    static double testAccuracy(L0Trainer t, ImageDataset test, DriftScenario scenario, boolean after, int[] permutation) {
        IntPredicate include = scenario == DriftScenario.CLASS_INCREMENTAL && !after ? label -> label < 5 : label -> true;
        int imageSize = test.imageBytes();
        long correct = 0;
        long scored = 0;
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < test.count(); i++) {
            if (include.test(test.labels()[i])) {
                idx.add(i);
            }
        }
        for (int from = 0; from < idx.size(); from += 1000) {
            int n = Math.min(1000, idx.size() - from);
            float[] x = new float[n * imageSize];
            int[] y = new int[n];
            for (int k = 0; k < n; k++) {
                int i = idx.get(from + k);
                byte[] px = test.image(i);
                int label = test.labels()[i];
                if (after && scenario == DriftScenario.ROTATE) {
                    px = DriftScenario.rotate90(px, test.height(), test.width(), test.channels());
                } else if (after && scenario == DriftScenario.LABEL_PERMUTE) {
                    label = permutation[label];
                }
                toFloats(px, test, x, k * imageSize);
                y[k] = label;
            }
            int[] p = t.evaluate(new Batch(x, y));
            for (int k = 0; k < n; k++) {
                correct += p[k] == y[k] ? 1 : 0;
            }
            scored += n;
        }
        return correct / (double) scored;
    }

    /** H×W×C bytes → C×H×W floats in [0, 1], as the job's decoder does. */
    static void toFloats(byte[] px, ImageDataset d, float[] out, int offset) {
        int hw = d.height() * d.width();
        int c = d.channels();
        for (int i = 0; i < hw; i++) {
            for (int ch = 0; ch < c; ch++) {
                out[offset + ch * hw + i] = (px[i * c + ch] & 0xff) * (1f / 255f);
            }
        }
    }
}
