package l0stream.pipeline.rollout;

/**
 * The rollout of one model as the evaluator keeps it in Flink keyed state (a POJO: public fields,
 * no-argument constructor). Counters are since the current candidate entered.
 */
public final class EvaluatorState {

    /** Decisions written so far (the last one's seq). */
    public long seq;
    public long stable;
    public double stableFlops;
    public long candidate;
    public double candidateFlops;
    public long candidateSinceMs;
    public boolean paused;
    /** The newest verified version waiting to become candidate, 0 if none. */
    public long next;
    public double nextFlops;
    /** Versions passed over while a candidate was judged (for the record's reason). */
    public long skipped;

    public long labelsStable;
    public long labelsCandidate;
    public long correctStable;
    public long correctCandidate;
    public long pairs;
    public long onlyCandidateRight;
    public long onlyStableRight;
    public long requestsStable;
    public long requestsCandidate;
    public long errorsStable;
    public long errorsCandidate;
    public long[] latencyStable = new long[LatencyHistogram.BUCKETS];
    public long[] latencyCandidate = new long[LatencyHistogram.BUCKETS];

    public EvaluatorState() {}

    /** Zeroes the evidence when a new candidate enters (or none is left). */
    void resetEvidence(long now) {
        candidateSinceMs = now;
        labelsStable = labelsCandidate = correctStable = correctCandidate = 0;
        pairs = onlyCandidateRight = onlyStableRight = 0;
        requestsStable = requestsCandidate = errorsStable = errorsCandidate = 0;
        latencyStable = new long[LatencyHistogram.BUCKETS];
        latencyCandidate = new long[LatencyHistogram.BUCKETS];
    }
}
