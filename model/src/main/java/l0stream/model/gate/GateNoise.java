package l0stream.model.gate;

/**
 * The seed stream behind hard-concrete sampling and initialisation, and the continual learner's
 * replay and probe sampling: SplitMix64, whose whole state is one {@code long}, so that a training
 * checkpoint can capture it exactly and a restored run draws the same numbers as an uninterrupted
 * one ({@link java.util.Random} hides its state). Not thread-safe.
 */
public final class GateNoise {

    private long state;

    public GateNoise(long state) {
        this.state = state;
    }

    public long state() {
        return state;
    }

    public void restore(long state) {
        this.state = state;
    }

    public long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, bound), without modulo bias. */
    public long nextLong(long bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be > 0, got " + bound);
        }
        long limit = Long.MAX_VALUE - Long.MAX_VALUE % bound;
        long r;
        do {
            r = nextLong() >>> 1;
        } while (r >= limit);
        return r % bound;
    }

    public int nextInt(int bound) {
        return (int) nextLong(bound);
    }

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Standard normal (Box–Muller; the second value is discarded to keep the state simple). */
    public double nextGaussian() {
        double u1 = Math.max(nextDouble(), Double.MIN_NORMAL);
        double u2 = nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
