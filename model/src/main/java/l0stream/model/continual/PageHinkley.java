package l0stream.model.continual;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Page-Hinkley test for an increase of the mean (as in River and MOA): with x̄ the running mean,
 * m_t = α·m_{t−1} + (x_t − x̄_t − δ), and a detection when m_t − min m &gt; λ after at least
 * {@code minRecords} observations.
 *
 * <p>On an error stream of 0/1 values with standard deviation σ: a jump of the error by Δ is found
 * after about λ ÷ (Δ − δ) records (λ = 50, δ = 0.02: ~60 records for Δ = 0.85, ~180 for Δ = 0.3).
 * Without a change, m is a random walk with drift −δ, and its mean time to cross λ grows like
 * exp(2δλ ÷ σ²): for σ² ≈ 0.13 (a model right 85 % of the time), δ = 0.02 and λ = 50 that is
 * millions of records; at σ² ≈ 0.24 (right 60 % of the time) δ = 0.02 keeps it above a million, which
 * is why the default δ is 0.02 and not River's 0.005 (~10⁵ records).
 */
public final class PageHinkley implements DriftDetector {
    /**
     * No fading (α = 1), unlike River's 1 − 1e-4: a faded sum is pulled back towards 0 from below, so
     * its minimum drifts far under its current value on a long stationary stream, and false alarms
     * follow (three in 180,000 records at an error rate of 0.1 in our tests).
     */
    public static final double DEFAULT_ALPHA = 1;

    private final double delta;
    private final double threshold;
    private final long minRecords;
    private final double alpha;
    private long n;
    private double mean;
    private double sum;
    private double min;

    public PageHinkley(double delta, double threshold, long minRecords, double alpha) {
        this.delta = delta;
        this.threshold = threshold;
        this.minRecords = minRecords;
        this.alpha = alpha;
    }

    @Override
    public boolean add(double x) {
        n++;
        mean += (x - mean) / n;
        sum = alpha * sum + (x - mean - delta);
        min = Math.min(min, sum);
        if (n >= minRecords && sum - min > threshold) {
            reset();
            return true;
        }
        return false;
    }

    private void reset() {
        n = 0;
        mean = 0;
        sum = 0;
        min = 0;
    }

    @Override
    public void write(DataOutput out) throws IOException {
        out.writeLong(n);
        out.writeDouble(mean);
        out.writeDouble(sum);
        out.writeDouble(min);
    }

    @Override
    public void read(DataInput in) throws IOException {
        n = in.readLong();
        mean = in.readDouble();
        sum = in.readDouble();
        min = in.readDouble();
    }
}
