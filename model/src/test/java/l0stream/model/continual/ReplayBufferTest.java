package l0stream.model.continual;

import l0stream.model.gate.GateNoise;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReplayBufferTest {

    private static byte[] image(long id) {
        byte[] px = new byte[8];
        for (int i = 0; i < 8; i++) {
            px[i] = (byte) (id >>> (8 * i));
        }
        return px;
    }

    private static long id(byte[] px) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v |= (px[i] & 0xffL) << (8 * i);
        }
        return v;
    }

    @Test
    void testCapacityNeverExceeded() {
        for (ReplayPolicy p : ReplayPolicy.values()) {
            ReplayBuffer b = new ReplayBuffer(37, p, 10, 8);
            GateNoise r = new GateNoise(3);
            for (int i = 0; i < 5_000; i++) {
                b.offer(image(i), (int) (r.nextLong(10)), r);
                assertTrue(b.size() <= 37, p + ": size " + b.size());
                int sum = 0;
                for (int c = 0; c < 10; c++) {
                    sum += b.count(c);
                }
                assertEquals(b.size(), sum, p + ": class counts add up to the size");
            }
            assertEquals(37, b.size());
        }
    }

    /**
     * Class-balanced: a class holding fewer images than the largest minus one holds every image of it
     * ever offered; so classes that could fill their share differ by at most one image. Checked after
     * every offer on a skewed stream whose class frequencies also change halfway.
     */
    @Test
    void testClassBalancedWithinOneImagePerClass() {
        ReplayBuffer b = new ReplayBuffer(100, ReplayPolicy.CLASS_BALANCED, 10, 8);
        GateNoise r = new GateNoise(11);
        for (int i = 0; i < 20_000; i++) {
            // first half: class c with weight ∝ c + 1; second half: only classes 5-9 (class-incremental)
            int label = i < 10_000 ? skewed(r) : 5 + r.nextInt(5);
            b.offer(image(i), label, r);
            int max = 0;
            for (int c = 0; c < 10; c++) {
                max = Math.max(max, b.count(c));
            }
            for (int c = 0; c < 10; c++) {
                assertTrue(b.count(c) >= max - 1 || b.count(c) == b.seen(c),
                        "after " + i + ": class " + c + " holds " + b.count(c) + " of " + b.seen(c) + " seen, largest " + max);
            }
        }
        int[] counts = new int[10];
        for (int c = 0; c < 10; c++) {
            counts[c] = b.count(c);
        }
        assertArrayEquals(new int[] {10, 10, 10, 10, 10, 10, 10, 10, 10, 10}, counts, Arrays.toString(counts));
    }

    private static int skewed(GateNoise r) {
        int t = r.nextInt(55);
        int c = 0;
        while (t >= c + 1) {
            t -= c + 1;
            c++;
        }
        return c;
    }

    /**
     * Reservoir: after N offers every record is in the buffer with probability capacity ÷ N. Over
     * 2,000 fixed-seed trials of 200 records into 20 slots, each record's inclusion count is
     * Binomial(2000, 0.1): mean 200, sd 13.4; every record must be within 5 sd (the chance that
     * any of the 200 falls outside is ~1e-4 for a correct sampler), and the first and last 50
     * records must be kept equally often within 3 %.
     */
    @Test
    void testReservoirKeepsEveryRecordWithEqualProbability() {
        int n = 200;
        int cap = 20;
        int trials = 2_000;
        int[] kept = new int[n];
        GateNoise r = new GateNoise(2026);
        for (int t = 0; t < trials; t++) {
            ReplayBuffer b = new ReplayBuffer(cap, ReplayPolicy.RESERVOIR, 10, 8);
            for (int i = 0; i < n; i++) {
                b.offer(image(i), i % 10, r);
            }
            for (int s = 0; s < b.size(); s++) {
                kept[(int) id(b.pixels(s))]++;
            }
        }
        double mean = trials * cap / (double) n;
        double sd = Math.sqrt(trials * (cap / (double) n) * (1 - cap / (double) n));
        long early = 0;
        long late = 0;
        for (int i = 0; i < n; i++) {
            assertTrue(Math.abs(kept[i] - mean) <= 5 * sd, "record " + i + " kept " + kept[i] + " times, expected " + mean);
            if (i < 50) {
                early += kept[i];
            } else if (i >= n - 50) {
                late += kept[i];
            }
        }
        assertEquals(1.0, early / (double) late, 0.03, "early " + early + " vs late " + late);
    }

    @Test
    void testSampleDrawsDistinctSlots() {
        ReplayBuffer b = new ReplayBuffer(50, ReplayPolicy.RESERVOIR, 10, 8);
        GateNoise r = new GateNoise(5);
        for (int i = 0; i < 50; i++) {
            b.offer(image(i), i % 10, r);
        }
        for (int t = 0; t < 200; t++) {
            int[] s = b.sample(40, r);
            assertEquals(40, Arrays.stream(s).distinct().count());
            assertTrue(Arrays.stream(s).allMatch(v -> v >= 0 && v < 50));
        }
    }
}
