package l0stream.pipeline.rollout;

/**
 * Latencies in log buckets, four per octave from 1 µs (≤ 19 % relative error), so that a p99 can
 * be kept in evaluator state for a whole rollout at a fixed size.
 */
final class LatencyHistogram {

    static final int BUCKETS = 112; // 2^(112/4) µs ≈ 268 s

    private LatencyHistogram() {}

    static void add(long[] counts, long micros) {
        counts[bucket(micros)]++;
    }

    static int bucket(long micros) {
        if (micros <= 1) {
            return 0;
        }
        int b = (int) Math.ceil(4 * (Math.log(micros) / Math.log(2)));
        return Math.min(BUCKETS - 1, b);
    }

    /** The upper edge of the bucket holding the q-quantile, µs; 0 for no data. */
    static long quantile(long[] counts, double q) {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        if (total == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int b = 0; b < counts.length; b++) {
            seen += counts[b];
            if (seen >= rank) {
                return Math.round(Math.pow(2, b / 4.0));
            }
        }
        return Math.round(Math.pow(2, (counts.length - 1) / 4.0));
    }
}
