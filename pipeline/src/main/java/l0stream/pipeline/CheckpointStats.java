package l0stream.pipeline;

import java.util.ArrayList;
import java.util.List;

/**
 * Durations of completed checkpoints as the trainer saw them (its barrier → checkpoint complete),
 * kept in this JVM for {@code bench pipeline} on an embedded cluster. On a cluster, the same
 * figure is the trainer's {@code checkpoint_barrier_to_complete_ms} gauge.
 */
public final class CheckpointStats {

    private static final List<Double> DURATIONS = new ArrayList<>();

    private CheckpointStats() {}

    static synchronized void record(double ms) {
        DURATIONS.add(ms);
    }

    public static synchronized List<Double> durationsMs() {
        return new ArrayList<>(DURATIONS);
    }

    public static synchronized void reset() {
        DURATIONS.clear();
    }
}
