package l0stream.pipeline.experiment;

import java.util.List;

/**
 * What one run over the stream measured.
 *
 * @param prequentialAccuracy test-then-train accuracy over the whole stream
 * @param testAccuracy        accuracy of the final model (deterministic gates) on the held-out test split
 * @param flopsReduction      1 − FLOPs(compact) / FLOPs(dense) of the network pruned at the end
 * @param openChannels        open channels per gated layer at the end, against {@code widths}
 * @param trace               progress along the stream (every {@code traceEvery} records)
 */
public record RunResult(ExperimentArm arm, long seed, long records, double prequentialAccuracy, double testAccuracy,
                        double flopsReduction, double paramsReduction, int[] openChannels, int[] widths, double seconds,
                        List<TracePoint> trace) {

    /** Where the run stood after {@code records}: accuracy over the last window, open channels per gated layer. */
    public record TracePoint(long records, double windowAccuracy, int[] openChannels) {}
}
