package l0stream.model.continual;

/**
 * SplitMix64: a tiny seeded generator whose whole state is one {@code long}, so that it can be
 * written into the checkpointed learner state and a restored learner draws exactly the numbers an
 * uninterrupted one would ({@link java.util.Random} and {@link java.util.SplittableRandom} hide
 * their state).
 */
public final class StreamRandom {
    private long state;

    public StreamRandom(long seed) {
        this.state = seed;
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

    /** Uniform in [0, 1). */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }
}
