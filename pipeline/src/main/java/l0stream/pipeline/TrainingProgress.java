package l0stream.pipeline;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The latest training figures, published by the trainers for the {@code demo} command's live
 * progress line. Only meaningful when the job runs embedded (MiniCluster in this JVM); on a
 * cluster, watch the Flink web UI or the Prometheus metrics instead.
 *
 * <p>Data-parallel trainers each publish their own figures; {@link #latest()} adds them up (steps,
 * records, images/s, drift detections), weights accuracy by records, and takes subtask 0's open channels,
 * loss, windowed and retention accuracy.
 * The final merge publishes the version of the last snapshot it cut.
 */
public record TrainingProgress(long step, long trainedRecords, int pendingRecords, double imagesPerSecond,
                               double prequentialAccuracy,
                               int[] openChannels, long snapshotVersion, double loss, long firstRecordNanos,
                               long lastStepNanos, double windowedAccuracy, double retentionAccuracy, long driftDetections) {

    /** Key of the final merge's entry: it trains nothing, it only cuts the last snapshot. */
    static final int FINAL_MERGE = -1;

    private static final Map<Integer, TrainingProgress> BY_SUBTASK = new ConcurrentHashMap<>();
    private static volatile String job = "";

    /**
     * @param jobId   the publishing job: figures of an earlier job in this JVM are dropped
     * @param subtask the trainer subtask, or {@link #FINAL_MERGE}
     */
    public static void publish(String jobId, int subtask, TrainingProgress p) {
        if (!jobId.equals(job)) {
            synchronized (BY_SUBTASK) {
                if (!jobId.equals(job)) {
                    BY_SUBTASK.clear();
                    job = jobId;
                }
            }
        }
        BY_SUBTASK.put(subtask, p);
    }

    /** The figures of every trainer of the current job, added up; null before the first. */
    public static TrainingProgress latest() {
        TrainingProgress first = BY_SUBTASK.get(0);
        if (first == null) {
            return null;
        }
        long step = 0, records = 0, version = 0, firstNanos = Long.MAX_VALUE, lastNanos = 0, drifts = 0;
        int pending = 0;
        double rate = 0, correct = 0;
        for (TrainingProgress p : BY_SUBTASK.values()) {
            step += p.step;
            records += p.trainedRecords;
            pending += p.pendingRecords;
            rate += p.imagesPerSecond;
            correct += p.prequentialAccuracy * p.trainedRecords;
            version = Math.max(version, p.snapshotVersion);
            drifts += p.driftDetections;
            if (p.firstRecordNanos != 0) {
                firstNanos = Math.min(firstNanos, p.firstRecordNanos);
            }
            lastNanos = Math.max(lastNanos, p.lastStepNanos);
        }
        return new TrainingProgress(step, records, pending, rate, records == 0 ? 0 : correct / records,
                first.openChannels, version, first.loss, firstNanos == Long.MAX_VALUE ? 0 : firstNanos, lastNanos,
                first.windowedAccuracy, first.retentionAccuracy, drifts);
    }
}
