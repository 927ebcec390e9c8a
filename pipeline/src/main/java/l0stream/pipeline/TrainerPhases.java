package l0stream.pipeline;

import java.util.ArrayList;
import java.util.List;

/**
 * What the trainer's task thread did and when, for {@code bench pipeline} on an embedded cluster
 * (like {@link CheckpointStats}, kept in this JVM): learning steps, snapshot cuts and the
 * synchronous part of checkpoints, each with its wall-clock span. The rest of a window is record
 * passing, decoding and waiting for input. Off unless {@link #reset} turned it on: a span per step
 * is a bounded benchmark job's worth of memory, not a long-running job's.
 */
public final class TrainerPhases {

    /** What the trainer thread was doing. */
    public enum Phase { LEARN, CUT, CHECKPOINT }

    /** One span of the trainer thread; {@code trainedRecords} as of its end. */
    public record Span(Phase phase, long startNanos, long endNanos, long trainedRecords) {}

    private static final List<Span> SPANS = new ArrayList<>();
    private static volatile boolean on;

    private TrainerPhases() {}

    static void record(Phase phase, long startNanos, long trainedRecords) {
        if (on) {
            synchronized (TrainerPhases.class) {
                SPANS.add(new Span(phase, startNanos, System.nanoTime(), trainedRecords));
            }
        }
    }

    public static synchronized List<Span> spans() {
        return new ArrayList<>(SPANS);
    }

    /** Clears what was recorded and records from now on in this JVM. */
    public static synchronized void reset() {
        SPANS.clear();
        on = true;
    }
}
