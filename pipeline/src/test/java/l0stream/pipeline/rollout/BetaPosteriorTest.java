package l0stream.pipeline.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

/**
 * The decision rule's probabilities: the incomplete beta function against closed forms, and
 * P(X ≥ Y − m) against a Monte Carlo estimate drawn independently (Beta draws as ratios of gammas
 * from sums of exponentials, integer parameters only).
 */
class BetaPosteriorTest {

    @Test
    void testCdfMatchesClosedForms() {
        // Beta(1, 1) is uniform; Beta(a, 1) has cdf x^a; Beta(1, b) has cdf 1 − (1 − x)^b
        for (double x : new double[] {0.01, 0.2, 0.5, 0.77, 0.99}) {
            assertEquals(x, new BetaPosterior(1, 1).cdf(x), 1e-12);
            assertEquals(Math.pow(x, 7), new BetaPosterior(7, 1).cdf(x), 1e-12);
            assertEquals(1 - Math.pow(1 - x, 5), new BetaPosterior(1, 5).cdf(x), 1e-12);
        }
        // symmetric: I_0.5(a, a) = 0.5, also for large a where only the continued fraction is accurate
        assertEquals(0.5, new BetaPosterior(2000, 2000).cdf(0.5), 1e-10);
        // Binomial identity: I_x(k, n−k+1) = P(Bin(n, x) ≥ k); n = 10, k = 3, x = 0.25
        double pAtLeast3 = 1 - (Math.pow(0.75, 10) + 10 * 0.25 * Math.pow(0.75, 9) + 45 * 0.0625 * Math.pow(0.75, 8));
        assertEquals(pAtLeast3, new BetaPosterior(3, 8).cdf(0.25), 1e-12);
        assertEquals(0, BetaPosterior.logGamma(1), 1e-13);
        assertEquals(Math.log(120), BetaPosterior.logGamma(6), 1e-12);
    }

    @Test
    void testProbAtLeastMatchesMonteCarlo() {
        SplittableRandom rnd = new SplittableRandom(7);
        long[][] cases = {{870, 1000, 850, 1000}, {170, 200, 175, 200}, {95, 100, 40, 60}, {1740, 2000, 1780, 2000}};
        for (long[] c : cases) {
            BetaPosterior x = BetaPosterior.of(c[0], c[1]);
            BetaPosterior y = BetaPosterior.of(c[2], c[3]);
            for (double margin : new double[] {0, 0.01, 0.03}) {
                int n = 200_000;
                int hits = 0;
                for (int i = 0; i < n; i++) {
                    if (draw(rnd, x) >= draw(rnd, y) - margin) {
                        hits++;
                    }
                }
                double mc = (double) hits / n;
                double p = x.probAtLeast(y, margin);
                // 4.5 standard errors of the Monte Carlo estimate
                double tol = 4.5 * Math.sqrt(mc * (1 - mc) / n) + 1e-4;
                assertEquals(mc, p, tol, "case " + java.util.Arrays.toString(c) + " margin " + margin);
            }
        }
    }

    @Test
    void testProbabilitiesMoveTheRightWay() {
        BetaPosterior better = BetaPosterior.of(900, 1000);
        BetaPosterior worse = BetaPosterior.of(860, 1000);
        assertTrue(better.probAtLeast(worse, 0) > 0.99);
        assertTrue(worse.probAtLeast(better, 0) < 0.01);
        double forgiven = worse.probAtLeast(better, 0.05);
        assertTrue(forgiven > 0.7 && forgiven < 0.8, "a 5-point margin mostly forgives a 4-point deficit (z = 0.69): " + forgiven);
        assertEquals(0.5, BetaPosterior.of(500, 1000).probAtLeast(BetaPosterior.of(500, 1000), 0), 1e-3);
    }

    /** Beta(a, b) with integer a, b as Ga/(Ga+Gb), each gamma a sum of exponentials. */
    private static double draw(SplittableRandom rnd, BetaPosterior p) {
        double ga = gamma(rnd, (int) p.alpha());
        double gb = gamma(rnd, (int) p.beta());
        return ga / (ga + gb);
    }

    private static double gamma(SplittableRandom rnd, int k) {
        if (k > 50) {
            // Wilson–Hilferty: accurate to far below the Monte Carlo noise at these shapes
            double z = rnd.nextGaussian();
            double c = 1.0 / (9 * k);
            double v = 1 - c + z * Math.sqrt(c);
            return k * v * v * v;
        }
        double s = 0;
        for (int i = 0; i < k; i++) {
            s -= Math.log(1 - rnd.nextDouble());
        }
        return s;
    }
}
