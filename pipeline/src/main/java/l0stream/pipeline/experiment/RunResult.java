package l0stream.pipeline.experiment;

import java.util.List;

/**
 * What one run over the stream measured.
 *
 * @param prequentialAccuracy test-then-train accuracy over the whole stream
 * @param validationAccuracy the same on the validation split held out of the training data (NaN without one)
 * @param testAccuracy        accuracy of the final model (deterministic gates) on the held-out test split,
 *                            under the stream's final task (all classes; permuted labels; rotated images)
 * @param oldTaskAccuracy     the same on the task before the switch (classes 0–4; original labels; upright
 *                            images); NaN for a stationary stream
 * @param flopsReduction      1 − FLOPs(compact) / FLOPs(dense) of the network pruned at the end
 * @param openChannels        open channels per gated layer at the end, against {@code widths}
 * @param detections          records at which the learner detected a drift
 * @param retentionAccuracy   the forgetting probe's last score (NaN without a probe)
 * @param trace               progress along the stream (every {@code traceEvery} records)
 */
public record RunResult(ExperimentArm arm, long seed, long records, double prequentialAccuracy, double validationAccuracy, double testAccuracy,
                        double oldTaskAccuracy, double flopsReduction, double paramsReduction, int[] openChannels, int[] widths,
                        double seconds, List<Long> detections, double retentionAccuracy, List<TracePoint> trace) {

    /**
     * Where the run stood after {@code records}: accuracy over the last trace interval, the probe's last
     * score, open channels per gated layer.
     */
    public record TracePoint(long records, double windowAccuracy, double retentionAccuracy, int[] openChannels) {}
}
