package l0stream.model.continual;

import l0stream.model.DeviceChoice;
import l0stream.model.ModelConfig;
import l0stream.model.TestNetworks;
import l0stream.model.gate.GateKind;
import l0stream.model.train.Batch;
import l0stream.model.train.L0Trainer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContinualLearnerTest {

    private static final ModelConfig MODEL = ModelConfig.builder().setNetwork("lenet5").setGates(GateKind.DEP_FORWARD)
            .optLambda(1e-4).optSeed(3).optDevice(DeviceChoice.CPU).build();

    /** Everything on, and tuned so that a small run exercises it: detections, relax windows, probe scoring. */
    private static final ContinualConfig ALL_ON = new ContinualConfig(100, 0.5, ReplayPolicy.CLASS_BALANCED,
            DriftDetector.Kind.PAGE_HINKLEY, 0.02, 5, 20, 0.002, DriftResponse.RELAX, 64, 0.1, 24, 3, 50, 0.99, 7);

    /** Batches of 16 images whose pixels are k/255 (what the decoder makes); classes 0-4, then 5-9 from batch 15 on. */
    private static List<Batch> stream(int batches) {
        Random rnd = new Random(17);
        List<Batch> out = new ArrayList<>();
        for (int b = 0; b < batches; b++) {
            Batch raw = TestNetworks.syntheticBatch(rnd, 16, 1, 28, 28, 10);
            float[] x = raw.images();
            for (int i = 0; i < x.length; i++) {
                x[i] = Math.round(Math.min(1f, x[i]) * 255f) * (1f / 255f);
            }
            int[] y = raw.labels();
            for (int i = 0; i < y.length; i++) {
                y[i] = b < 15 ? y[i] % 5 : 5 + y[i] % 5;
            }
            out.add(new Batch(x, y));
        }
        return out;
    }

    @Test
    void testRestoreAndContinueEqualsUninterruptedRun() throws Exception {
        TestNetworks.singleThreaded(() -> {
            restoreAndContinue();
            return null;
        });
    }

    private static void restoreAndContinue() throws Exception {
        List<Batch> data = stream(30);
        byte[] params;
        byte[] learnerState;
        long detections;
        try (L0Trainer t = L0Trainer.create(MODEL)) {
            ContinualLearner l = new ContinualLearner(t, ALL_ON);
            for (Batch b : data) {
                l.learn(b);
            }
            params = t.parameters();
            learnerState = l.writeState();
            detections = l.driftCount();
            assertTrue(detections >= 1, "the class switch is detected");
            assertEquals(100, l.replay().size());
            assertEquals(24, l.probe().size());
            assertFalse(Double.isNaN(l.retentionAccuracy()));
        }
        byte[] checkpoint;
        byte[] state;
        try (L0Trainer t = L0Trainer.create(MODEL)) {
            ContinualLearner l = new ContinualLearner(t, ALL_ON);
            for (Batch b : data.subList(0, 16)) {
                l.learn(b);
            }
            checkpoint = t.checkpoint();
            state = l.writeState();
            for (Batch b : data.subList(16, 20)) {
                l.learn(b); // trained past the checkpoint: the restored run must not see this
            }
        }
        try (L0Trainer t = L0Trainer.restore(MODEL, checkpoint)) {
            ContinualLearner l = new ContinualLearner(t, ALL_ON);
            l.restoreState(state);
            for (Batch b : data.subList(16, 30)) {
                l.learn(b);
            }
            assertArrayEquals(params, t.parameters(), "parameters after restore-and-continue");
            assertArrayEquals(learnerState, l.writeState(), "buffer, probe, detector, metrics and random stream");
            assertEquals(detections, l.driftCount());
        }
    }

    @Test
    void testProbeHoldsOutAndReplayMixesAtTheRatio() {
        List<Batch> data = stream(12);
        try (L0Trainer t = L0Trainer.create(MODEL)) {
            ContinualLearner l = new ContinualLearner(t, ALL_ON.withDetector(DriftDetector.Kind.NONE, DriftResponse.NONE));
            // the probe (24 images) takes at most a quarter of each batch: every batch still trains
            ContinualLearner.Outcome first = l.learn(data.get(0));
            assertTrue(first.stepped());
            assertEquals(4, first.heldOut());
            assertEquals(1, t.step());
            long held = 4;
            for (Batch b : data.subList(1, 12)) {
                int buffered = l.replay().size();
                long steps = t.step();
                ContinualLearner.Outcome o = l.learn(b);
                held += o.heldOut();
                int fresh = 16 - o.heldOut();
                assertEquals(Math.min(fresh, buffered), o.replayed(), "ratio 0.5: as many replayed as new records, if the buffer has them");
                assertEquals(fresh + o.replayed(), o.trained());
                assertTrue(o.heldOut() <= 4, "held " + o.heldOut());
                assertTrue(o.stepped());
                assertEquals(steps + 1, t.step());
            }
            assertEquals(24, l.probe().size());
            assertTrue(held > 24, "the reservoir keeps taking records after it is full");
            assertEquals(held, l.heldOut());
            assertEquals(12 * 16, l.records());
            assertEquals(Math.min(100, 12 * 16 - held), l.replay().size(), "every trained new record was offered to the buffer");
        }
    }

    @Test
    void testRefreshRetentionScoresTheCurrentModel() throws Exception {
        List<Batch> data = stream(6);
        byte[] other;
        try (L0Trainer t = L0Trainer.create(ModelConfig.builder().setNetwork("lenet5").setGates(GateKind.DEP_FORWARD)
                .optLambda(1e-4).optSeed(11).optDevice(DeviceChoice.CPU).build())) {
            other = t.parameters();
        }
        // probe scored every 3 steps: after 6 steps the figure is the current model's and is reused
        ContinualConfig cfg = ALL_ON.withDetector(DriftDetector.Kind.NONE, DriftResponse.NONE);
        try (L0Trainer t = L0Trainer.create(MODEL)) {
            ContinualLearner l = new ContinualLearner(t, cfg);
            for (Batch b : data) {
                l.learn(b);
            }
            double atStep = l.retentionAccuracy();
            assertEquals(l.scoreProbe(), atStep, "the learn step's figure is the current model's");
            long revision = t.revision();
            l.refreshRetention();
            assertEquals(atStep, l.retentionAccuracy());
            assertEquals(revision, t.revision(), "scoring does not change the model");
            // a merge loads other parameters without a step: the next refresh must score them
            t.loadParameters(other);
            assertTrue(t.revision() > revision);
            double loaded = l.scoreProbe();
            assertTrue(loaded != atStep, "precondition: the two models score the probe differently");
            l.refreshRetention();
            assertEquals(loaded, l.retentionAccuracy(), "refreshed on the loaded model, not the cached figure");
        }
    }

    @Test
    void testBadConfigNamesTheKey() {
        ContinualConfig d = ContinualConfig.defaults();
        assertKey("replay-ratio", () -> d.withReplay(10, 1.0, ReplayPolicy.RESERVOIR));
        assertKey("replay-ratio", () -> d.withReplay(10, -0.1, ReplayPolicy.RESERVOIR));
        assertKey("replay-capacity", () -> d.withReplay(-1, 0.5, ReplayPolicy.RESERVOIR));
        assertKey("replay-policy", () -> ReplayPolicy.parse("fifo", "replay-policy"));
        assertKey("drift-detector", () -> DriftDetector.Kind.parse("ddm", "drift-detector"));
        assertKey("drift-response", () -> DriftResponse.parse("reset", "drift-response"));
        assertKey("probe-capacity", () -> d.withProbe(-5));
    }

    private static void assertKey(String key, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(key), e.getMessage());
    }

    @Test
    void testWindowedAndPerClassAccuracy() {
        PrequentialMetrics m = new PrequentialMetrics(4, 3, 0.5);
        m.record(0, true);
        m.record(1, false);
        m.record(0, true);
        m.record(2, true);
        assertEquals(0.75, m.windowed());
        assertEquals(1.0, m.classWindowed(0));
        assertEquals(0.0, m.classWindowed(1));
        m.record(1, false); // pushes out the first record (class 0, right)
        assertEquals(0.5, m.windowed());
        assertEquals(1.0, m.classWindowed(0));
        assertEquals(0.0, m.classWindowed(1));
        m.record(2, false);
        m.record(2, false);
        m.record(2, false); // window: 1 wrong, 2 wrong ×3
        assertTrue(Double.isNaN(m.classWindowed(0)), "class 0 has left the window");
        assertEquals(0.0, m.windowed());
        // fading, α = 0.5: Σ α^age·right ÷ Σ α^age over the 8 records (right, wrong, right, right, wrong ×4)
        assertEquals(0.1015625 / 1.9921875, m.fading(), 1e-12);
        assertEquals(3 / 8.0, m.cumulative());
        assertTrue(Arrays.stream(new int[] {0, 1, 2}).allMatch(c -> c < m.numClasses()));
    }
}
