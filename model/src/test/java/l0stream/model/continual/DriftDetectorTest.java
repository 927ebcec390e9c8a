package l0stream.model.continual;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The detectors on synthetic error streams (Bernoulli bits) with known change points, at the job's
 * default parameters. The bounds are the ones the README documents.
 */
class DriftDetectorTest {

    private static DriftDetector pageHinkley() {
        return DriftDetector.create(ContinualConfig.defaults().withDetector(DriftDetector.Kind.PAGE_HINKLEY, DriftResponse.NONE));
    }

    private static DriftDetector adwin() {
        return DriftDetector.create(ContinualConfig.defaults().withDetector(DriftDetector.Kind.ADWIN, DriftResponse.NONE));
    }

    /** Detections (record indices) on a stream of error rate p0, then p1 from {@code switchAt}. */
    private static List<Long> run(DriftDetector d, long length, long switchAt, double p0, double p1, long seed) {
        Random r = new Random(seed);
        List<Long> at = new ArrayList<>();
        for (long i = 0; i < length; i++) {
            double p = i < switchAt ? p0 : p1;
            if (d.add(r.nextDouble() < p ? 1 : 0)) {
                at.add(i);
            }
        }
        return at;
    }

    @Test
    void testNoDetectionOnStationaryStreams() {
        for (long seed = 1; seed <= 3; seed++) {
            for (double p : new double[] {0.1, 0.2, 0.4}) {
                assertEquals(List.of(), run(pageHinkley(), 180_000, Long.MAX_VALUE, p, p, seed), "page-hinkley p=" + p);
                assertEquals(List.of(), run(adwin(), 180_000, Long.MAX_VALUE, p, p, seed), "adwin p=" + p);
            }
        }
    }

    @Test
    void testDecreasingErrorIsNoDrift() {
        for (long seed = 1; seed <= 3; seed++) {
            assertEquals(List.of(), run(pageHinkley(), 60_000, 30_000, 0.5, 0.15, seed));
            assertEquals(List.of(), run(adwin(), 60_000, 30_000, 0.5, 0.15, seed));
        }
    }

    /** A jump like a class-incremental switch (0.15 → 0.9): within 100 records (PH) and 300 (ADWIN). */
    @Test
    void testLargeJumpDetectedQuickly() {
        for (long seed = 1; seed <= 5; seed++) {
            assertDetected(run(pageHinkley(), 40_000, 30_000, 0.15, 0.9, seed), 30_000, 100, "page-hinkley");
            assertDetected(run(adwin(), 40_000, 30_000, 0.15, 0.9, seed), 30_000, 300, "adwin");
        }
    }

    /** A smaller jump (0.15 → 0.45, like a rotation): within 500 (PH) and 1,000 records (ADWIN). */
    @Test
    void testModerateJumpDetected() {
        for (long seed = 1; seed <= 5; seed++) {
            assertDetected(run(pageHinkley(), 40_000, 30_000, 0.15, 0.45, seed), 30_000, 500, "page-hinkley");
            assertDetected(run(adwin(), 40_000, 30_000, 0.15, 0.45, seed), 30_000, 1_000, "adwin");
        }
    }

    private static void assertDetected(List<Long> at, long switchAt, long bound, String name) {
        assertFalse(at.isEmpty(), name + ": no detection");
        assertTrue(at.get(0) >= switchAt, name + ": false alarm at " + at.get(0));
        assertTrue(at.get(0) - switchAt <= bound, name + ": detected " + (at.get(0) - switchAt) + " records after the change");
    }

    /** A detector restored from its bytes continues exactly as the original. */
    @Test
    void testStateRoundTrip() throws IOException {
        for (DriftDetector.Kind k : new DriftDetector.Kind[] {DriftDetector.Kind.PAGE_HINKLEY, DriftDetector.Kind.ADWIN}) {
            ContinualConfig c = ContinualConfig.defaults().withDetector(k, DriftResponse.NONE);
            DriftDetector a = DriftDetector.create(c);
            Random r = new Random(9);
            for (int i = 0; i < 20_000; i++) {
                a.add(r.nextDouble() < 0.2 ? 1 : 0);
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            a.write(new DataOutputStream(bytes));
            DriftDetector b = DriftDetector.create(c);
            b.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
            for (int i = 0; i < 20_000; i++) {
                int x = r.nextDouble() < (i < 5_000 ? 0.2 : 0.8) ? 1 : 0;
                assertEquals(a.add(x), b.add(x), k + " at " + i);
            }
        }
    }
}
