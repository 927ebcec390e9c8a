package l0stream.pipeline.rollout;

import l0stream.connectors.rollout.PredictionEvent;

/**
 * A label joined to the answers given for its request: one answer normally, two when a shadow
 * candidate answered the same request as stable ({@code second} is null otherwise).
 */
public record JoinedLabel(String requestId, String modelId, int label, long timeMs, PredictionEvent first,
                          PredictionEvent second) {}
