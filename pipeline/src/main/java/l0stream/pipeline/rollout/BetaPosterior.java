package l0stream.pipeline.rollout;

/**
 * A Beta(α, β) posterior of an accuracy: with a uniform prior, Beta(1 + correct, 1 + wrong). The
 * comparisons the rollout decision rule needs are computed here, deterministically (no sampling),
 * so a decision replayed after a failure is the same decision.
 */
record BetaPosterior(double alpha, double beta) {

    BetaPosterior {
        if (!(alpha > 0) || !(beta > 0)) {
            throw new IllegalArgumentException("Beta parameters must be > 0, got " + alpha + ", " + beta);
        }
    }

    /** The posterior of a proportion after {@code successes} of {@code trials}, uniform prior. */
    static BetaPosterior of(long successes, long trials) {
        return new BetaPosterior(1 + successes, 1 + (trials - successes));
    }

    double mean() {
        return alpha / (alpha + beta);
    }

    double sd() {
        double s = alpha + beta;
        return Math.sqrt(alpha * beta / (s * s * (s + 1)));
    }

    /** P(X ≤ x): the regularised incomplete beta function I_x(α, β). */
    double cdf(double x) {
        if (x <= 0) {
            return 0;
        }
        if (x >= 1) {
            return 1;
        }
        // Numerical Recipes §6.4: the continued fraction converges fast for x < (α+1)/(α+β+2);
        // use the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) on the other side.
        double front = Math.exp(alpha * Math.log(x) + beta * Math.log1p(-x) - logBeta(alpha, beta));
        if (x < (alpha + 1) / (alpha + beta + 2)) {
            return front * continuedFraction(x, alpha, beta) / alpha;
        }
        return 1 - front * continuedFraction(1 - x, beta, alpha) / beta;
    }

    double density(double x) {
        if (x <= 0 || x >= 1) {
            return 0;
        }
        return Math.exp((alpha - 1) * Math.log(x) + (beta - 1) * Math.log1p(-x) - logBeta(alpha, beta));
    }

    /**
     * P(X ≥ Y − margin) for independent X ~ this and Y ~ {@code y}: ∫ f_Y(y)·(1 − F_X(y − margin)) dy,
     * by Simpson's rule over Y's mass (its mean ± 9 standard deviations, within [0, 1]).
     */
    double probAtLeast(BetaPosterior y, double margin) {
        double lo = Math.max(0, y.mean() - 9 * y.sd());
        double hi = Math.min(1, y.mean() + 9 * y.sd());
        int n = 600; // even; ≥ 30 points per standard deviation of Y
        double h = (hi - lo) / n;
        double sum = 0;
        double mass = 0;
        for (int i = 0; i <= n; i++) {
            double t = lo + i * h;
            double w = i == 0 || i == n ? 1 : (i % 2 == 1 ? 4 : 2);
            double f = y.density(t);
            sum += w * f * (1 - cdf(t - margin));
            mass += w * f;
        }
        // divide by the integrated mass so the truncation and the grid do not bias the probability
        return mass > 0 ? Math.min(1, Math.max(0, sum / mass)) : 0.5;
    }

    private static double continuedFraction(double x, double a, double b) {
        final double tiny = 1e-300;
        double qab = a + b;
        double qap = a + 1;
        double qam = a - 1;
        double c = 1;
        double d = 1 - qab * x / qap;
        if (Math.abs(d) < tiny) {
            d = tiny;
        }
        d = 1 / d;
        double h = d;
        for (int m = 1; m <= 10_000; m++) {
            int m2 = 2 * m;
            double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1 + aa * d;
            d = Math.abs(d) < tiny ? tiny : d;
            c = 1 + aa / c;
            c = Math.abs(c) < tiny ? tiny : c;
            d = 1 / d;
            h *= d * c;
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1 + aa * d;
            d = Math.abs(d) < tiny ? tiny : d;
            c = 1 + aa / c;
            c = Math.abs(c) < tiny ? tiny : c;
            d = 1 / d;
            double del = d * c;
            h *= del;
            if (Math.abs(del - 1) < 1e-15) {
                break;
            }
        }
        return h;
    }

    /** Φ(z), the standard normal cdf (Abramowitz &amp; Stegun 7.1.26, error &lt; 1.5e-7): for screening only. */
    static double normalCdf(double z) {
        double x = Math.abs(z) / Math.sqrt(2);
        double t = 1 / (1 + 0.3275911 * x);
        double erf = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
                * Math.exp(-x * x);
        return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
    }

    static double logBeta(double a, double b) {
        return logGamma(a) + logGamma(b) - logGamma(a + b);
    }

    /** ln Γ(x) for x &gt; 0, Lanczos (g = 7, n = 9), relative error ~1e-15. */
    static double logGamma(double x) {
        if (x < 0.5) {
            return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
        }
        x -= 1;
        double a = LANCZOS[0];
        double t = x + 7.5;
        for (int i = 1; i < 9; i++) {
            a += LANCZOS[i] / (x + i);
        }
        return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
    }

    private static final double[] LANCZOS = {
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
        1.5056327351493116e-7};
}
