package l0stream.model.continual;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * ADWIN (Bifet &amp; Gavaldà, 2007; the ADWIN2 variant of MOA and River): a window of recent
 * observations kept as an exponential histogram (at most {@value #MAX_BUCKETS} buckets of each size
 * 2^i, so memory and time are O(log W)), cut whenever two sub-windows have means that differ by more
 * than ε_cut = √(2·m·σ²·ln(2·ln W ÷ δ)) + ⅔·m·ln(2·ln W ÷ δ), m = 1/(n₀ − c + 1) + 1/(n₁ − c + 1),
 * checked every {@code clock} observations. The window shrinks on every cut; only a cut whose newer
 * part has the <em>higher</em> error is reported as a drift.
 *
 * <p>δ bounds the false-positive rate of each check (0.002 is the authors' and River's default).
 */
public final class Adwin implements DriftDetector {
    public static final int DEFAULT_CLOCK = 32;
    public static final int DEFAULT_MIN_SUBWINDOW = 5;
    static final int MAX_BUCKETS = 5;

    private final double delta;
    private final int clock;
    private final int minSubwindow;
    /** rows.get(i): buckets of 2^i observations, oldest first; each {total, variance}. */
    private final List<List<double[]>> rows = new ArrayList<>();
    private long width;
    private double total;
    private double variance;
    private long ticks;

    public Adwin(double delta, int clock, int minSubwindow) {
        this.delta = delta;
        this.clock = clock;
        this.minSubwindow = minSubwindow;
    }

    /** Observations in the current window. */
    public long width() {
        return width;
    }

    public double mean() {
        return width == 0 ? 0 : total / width;
    }

    @Override
    public boolean add(double x) {
        insert(x);
        ticks++;
        return ticks % clock == 0 && width > minSubwindow && detect();
    }

    private void insert(double x) {
        width++;
        if (width > 1) {
            variance += (width - 1) * (x - total / (width - 1)) * (x - total / (width - 1)) / width;
        }
        total += x;
        row(0).add(new double[] {x, 0});
        compress();
    }

    private List<double[]> row(int i) {
        while (rows.size() <= i) {
            rows.add(new ArrayList<>());
        }
        return rows.get(i);
    }

    private void compress() {
        for (int i = 0; i < rows.size(); i++) {
            List<double[]> r = rows.get(i);
            if (r.size() <= MAX_BUCKETS) {
                break;
            }
            double n = Math.pow(2, i);
            double[] a = r.remove(0);
            double[] b = r.remove(0);
            double ua = a[0] / n;
            double ub = b[0] / n;
            row(i + 1).add(new double[] {a[0] + b[0], a[1] + b[1] + n * n * (ua - ub) * (ua - ub) / (2 * n)});
        }
    }

    /** Scans the cut points from the oldest bucket on; drops the oldest bucket while a cut holds. */
    private boolean detect() {
        boolean increase = false;
        boolean cut = true;
        while (cut && width > minSubwindow) {
            cut = false;
            long n0 = 0;
            long n1 = width;
            double u0 = 0;
            double u1 = total;
            scan:
            for (int i = rows.size() - 1; i >= 0; i--) {
                long size = 1L << i;
                for (double[] bucket : rows.get(i)) {
                    n0 += size;
                    n1 -= size;
                    u0 += bucket[0];
                    u1 -= bucket[0];
                    if (n1 <= 0) {
                        break scan;
                    }
                    if (n0 > minSubwindow + 1 && n1 > minSubwindow + 1 && exceeds(n0, n1, u0 / n0 - u1 / n1)) {
                        increase |= u1 / n1 > u0 / n0;
                        cut = true;
                        dropOldest();
                        break scan;
                    }
                }
            }
        }
        return increase;
    }

    private boolean exceeds(long n0, long n1, double diff) {
        double dd = Math.log(2 * Math.log(width) / delta);
        double v = variance / width;
        double m = 1.0 / (n0 - minSubwindow + 1) + 1.0 / (n1 - minSubwindow + 1);
        double eps = Math.sqrt(2 * m * v * dd) + 2.0 / 3.0 * dd * m;
        return Math.abs(diff) > eps;
    }

    private void dropOldest() {
        int i = rows.size() - 1;
        List<double[]> r = rows.get(i);
        double[] bucket = r.remove(0);
        double n = 1L << i;
        width -= (long) n;
        total -= bucket[0];
        double u = bucket[0] / n;
        variance -= bucket[1] + (width == 0 ? 0 : n * width * (u - total / width) * (u - total / width) / (n + width));
        variance = Math.max(0, variance);
        if (r.isEmpty()) {
            rows.remove(i);
        }
    }

    @Override
    public void write(DataOutput out) throws IOException {
        out.writeLong(width);
        out.writeDouble(total);
        out.writeDouble(variance);
        out.writeLong(ticks);
        out.writeInt(rows.size());
        for (List<double[]> r : rows) {
            out.writeInt(r.size());
            for (double[] b : r) {
                out.writeDouble(b[0]);
                out.writeDouble(b[1]);
            }
        }
    }

    @Override
    public void read(DataInput in) throws IOException {
        width = in.readLong();
        total = in.readDouble();
        variance = in.readDouble();
        ticks = in.readLong();
        rows.clear();
        int nRows = in.readInt();
        for (int i = 0; i < nRows; i++) {
            int nb = in.readInt();
            List<double[]> r = row(i);
            for (int k = 0; k < nb; k++) {
                r.add(new double[] {in.readDouble(), in.readDouble()});
            }
        }
    }
}
