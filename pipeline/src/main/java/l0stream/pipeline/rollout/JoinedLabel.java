package l0stream.pipeline.rollout;

import l0stream.connectors.rollout.PredictionEvent;

/**
 * A label joined to the answers given for its request: one answer normally, two when a shadow
 * candidate answered the same request as stable ({@code second} is null otherwise).
 *
 * <p>A shadow answer can reach the join after its request's label joined the stable answer alone:
 * the evaluator reads answers and labels from two topics, with no order between them. That late
 * answer comes as its own joined label with {@code secondCounted} set: {@code first} is the late
 * answer, to count, and {@code second} the answer the label already joined, which was counted then
 * and is here only so that the two still make a pair.
 */
public record JoinedLabel(String requestId, String modelId, int label, long timeMs, PredictionEvent first,
                          PredictionEvent second, boolean secondCounted) {

    /** A label joined to the answers known when it came (none counted before). */
    public JoinedLabel(String requestId, String modelId, int label, long timeMs, PredictionEvent first,
                       PredictionEvent second) {
        this(requestId, modelId, label, timeMs, first, second, false);
    }
}
