package l0stream.pipeline.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The study's rules, on rows made by hand: the learning-rate schedule, the gate-rate choice on
 * validation, matched accuracy, the Pareto frontier and Welch's interval (checked against values
 * computed independently).
 */
class StudyProtocolTest {

    private static StudyRow row(String part, String method, double lambda, String init, double lr, long seed, double val, double test,
                                double flops) {
        return new StudyRow(part, method, lambda, init, lr, seed, 1000, "cosine", 0.8, val, test, flops, flops, "1 2 3", "20 50 500", 1);
    }

    @Test
    void testCosineScheduleRunsFromBaseToNearlyZero() {
        LearningRateSchedule c = LearningRateSchedule.COSINE;
        assertEquals(0.05, c.rate(0.05, 0, 1000), 1e-12);
        assertEquals(0.025, c.rate(0.05, 500, 1000), 1e-12);
        assertEquals(0.05 * 1e-3, c.rate(0.05, 1000, 1000), 1e-12, "floored, never 0");
        assertTrue(c.rate(0.05, 250, 1000) > c.rate(0.05, 251, 1000), "decreasing");
        assertEquals(0.05, LearningRateSchedule.CONSTANT.rate(0.05, 999, 1000));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.parse("step", "--schedule"));
        assertTrue(e.getMessage().contains("--schedule"), e.getMessage());
    }

    /** Accuracy decides what is admissible, pruning what is best: the never-pruning rate is not chosen for being accurate. */
    @Test
    void testChoiceIsTheMostPruningAdmissibleConfig() {
        List<StudyRow> tune = new ArrayList<>();
        tune.add(row("tune", "dense", 0, "-", 0, 1, 0.880, 0.87, 0));
        // reference 1e-3: the most accurate, prunes nothing
        tune.add(row("tune", "L0-HC", 1e-5, "reference", 1e-3, 1, 0.884, 0.87, 0));
        tune.add(row("tune", "L0-HC", 1e-4, "reference", 1e-3, 1, 0.883, 0.87, 0));
        // reference 1e-2: prunes 40 % within 0.5 points, 80 % outside
        tune.add(row("tune", "L0-HC", 1e-5, "reference", 1e-2, 1, 0.876, 0.87, 0.40));
        tune.add(row("tune", "L0-HC", 1e-4, "reference", 1e-2, 1, 0.860, 0.85, 0.80));
        // louizos 1e-2: prunes 30 % within
        tune.add(row("tune", "L0-HC", 1e-5, "louizos", 1e-2, 1, 0.879, 0.87, 0.30));
        // a Dep-L0 method with nothing admissible: falls back to the most accurate config
        tune.add(row("tune", "Dep-L0 forward", 1e-4, "reference", 1e-3, 1, 0.850, 0.85, 0.5));
        tune.add(row("tune", "Dep-L0 forward", 1e-4, "reference", 1e-2, 1, 0.820, 0.82, 0.9));
        Map<String, StudyReport.Choice> c = StudyReport.choose(tune, 0.005);
        assertEquals("reference", c.get("L0-HC").gateInit());
        assertEquals(1e-2, c.get("L0-HC").gateLr());
        assertEquals(0.40, c.get("L0-HC").validationFlopsReduction(), 1e-12);
        assertEquals(1e-3, c.get("Dep-L0 forward").gateLr());
        assertTrue(c.get("Dep-L0 forward").why().startsWith("no config within"), c.get("Dep-L0 forward").why());
        assertTrue(!c.containsKey("Dep-L0 backward"), "no runs, no choice");
        assertThrows(IllegalStateException.class, () -> StudyReport.choose(tune.subList(1, tune.size()), 0.005), "no dense run");
    }

    @Test
    void testMatchedAccuracyAndFrontier() {
        List<StudyRow> rows = new ArrayList<>();
        for (long s = 1; s <= 3; s++) {
            rows.add(row("sweep", "dense", 0, "-", 0, s, 0.9, 0.890 + 0.001 * s, 0)); // mean 0.892
            rows.add(row("sweep", "L0-HC", 1e-5, "reference", 1e-2, s, 0.9, 0.889, 0.10 + 0.01 * s)); // 0.889 ≥ 0.887: 12 %
            rows.add(row("sweep", "L0-HC", 1e-4, "reference", 1e-2, s, 0.9, 0.880, 0.50)); // below the band
            rows.add(row("sweep", "L0-HC", 3e-5, "reference", 1e-2, s, 0.9, 0.885, 0.05)); // dominated by 1e-5
        }
        List<StudyReport.Point> pts = StudyReport.points(rows, "sweep");
        StudyReport.Point dense = pts.get(0);
        assertEquals(0.892, dense.test().mean(), 1e-12);
        assertEquals(0.001, dense.test().sd(), 1e-12);
        List<StudyReport.Point> hc = pts.subList(1, 4);
        StudyReport.Point m = StudyReport.matched(hc, dense, 0.005);
        assertEquals(1e-5, m.lambda());
        assertEquals(0.12, m.flops().mean(), 1e-12);
        List<StudyReport.Point> f = StudyReport.frontier(hc);
        assertEquals(List.of(1e-5, 1e-4), f.stream().map(StudyReport.Point::lambda).toList(), "3e-5 is dominated");
        // nothing within the band: dense itself (0 % pruned) is the match
        assertSame(dense, StudyReport.matched(pts.subList(2, 3), dense, 0.005));
    }

    @Test
    void testWelchIntervalMatchesAnIndependentComputation() {
        // x̄ − ȳ = −3, se = √(1/3 + 1/3), df = 4, t(0.975, 4) = 2.7764451: [−5.2669, −0.7331]
        StudyReport.Interval iv = StudyReport.welch(new double[] {1, 2, 3}, new double[] {4, 5, 6}, 0.95);
        assertEquals(-3, iv.difference(), 1e-12);
        assertEquals(4, iv.df(), 1e-9);
        assertEquals(-3 - 2.7764451 * Math.sqrt(2.0 / 3), iv.low(), 1e-6);
        assertEquals(-3 + 2.7764451 * Math.sqrt(2.0 / 3), iv.high(), 1e-6);
        // unequal variances: Welch–Satterthwaite df = (va + vb)² / (va²/(n−1) + vb²/(m−1)) with va = 1/3, vb = 4/3
        StudyReport.Interval u = StudyReport.welch(new double[] {1, 2, 3}, new double[] {0, 2, 4}, 0.95);
        double va = 1.0 / 3, vb = 4.0 / 3;
        assertEquals((va + vb) * (va + vb) / (va * va / 2 + vb * vb / 2), u.df(), 1e-9);
        assertTrue(Double.isNaN(StudyReport.welch(new double[] {1}, new double[] {2, 3}, 0.95).low()), "one seed: no interval");
    }

    @Test
    void testRowRoundTripsThroughItsCsvLine() {
        StudyRow r = row("sweep", "Dep-L0 backward", 3e-5, "reference", 3e-3, 2, 0.8812, 0.8799, 0.8123);
        StudyRow back = StudyRow.parse(r.csv());
        assertEquals(r.key(), back.key());
        assertEquals(r.test(), back.test(), 1e-4);
        assertEquals(StudyRow.HEADER.split(",").length, r.csv().split(",").length);
    }
}
