package l0stream.pipeline;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The latest training figures, published by the trainer for the {@code demo} command's live
 * progress line. Only meaningful when the job runs embedded (MiniCluster in this JVM); on a
 * cluster, watch the Flink web UI or the Prometheus metrics instead.
 */
public record TrainingProgress(long step, long trainedRecords, int pendingRecords, double imagesPerSecond,
                               double prequentialAccuracy,
                               int[] openChannels, long snapshotVersion, double loss, long firstRecordNanos,
                               long lastStepNanos) {

    private static final AtomicReference<TrainingProgress> LATEST = new AtomicReference<>();

    public static void publish(TrainingProgress p) {
        LATEST.set(p);
    }

    public static TrainingProgress latest() {
        return LATEST.get();
    }
}
