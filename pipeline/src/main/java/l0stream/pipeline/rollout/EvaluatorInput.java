package l0stream.pipeline.rollout;

import l0stream.connectors.rollout.PredictionEvent;
import l0stream.connectors.rollout.RolloutCommand;

/**
 * One input of a model's evaluator, exactly one of: a verified snapshot (version and its FLOPs),
 * an answer a replica logged, a joined label, an admin command. One record type so that the four
 * streams can be unioned and keyed by model id.
 */
public record EvaluatorInput(String modelId, long snapshotVersion, double snapshotFlops, PredictionEvent prediction,
                             JoinedLabel joined, RolloutCommand command) {

    static EvaluatorInput snapshot(String modelId, long version, double flops) {
        return new EvaluatorInput(modelId, version, flops, null, null, null);
    }

    static EvaluatorInput of(PredictionEvent p) {
        return new EvaluatorInput(p.modelId(), 0, 0, p, null, null);
    }

    static EvaluatorInput of(JoinedLabel j) {
        return new EvaluatorInput(j.modelId(), 0, 0, null, j, null);
    }

    static EvaluatorInput of(RolloutCommand c) {
        return new EvaluatorInput(c.modelId(), 0, 0, null, null, c);
    }
}
