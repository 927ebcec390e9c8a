package l0stream.connectors.rollout;

import java.util.Locale;

/**
 * One decision of the rollout of a model: the value of a record on the compacted rollout topic,
 * keyed by model id. Each record carries the whole state after the decision (stable, candidate,
 * pause), so the latest record per key is all a replica needs to route requests, and a
 * restarted replica resumes from it. Written only by the evaluator, exactly once per decision.
 * How a replica splits traffic between stable and candidate (canary or shadow) is the replica's
 * own setting; the evaluator judges whatever evidence comes back.
 *
 * @param modelId          the model
 * @param seq              1, 2, 3, … per model: the decision's place in the rollout's history
 * @param kind             what was decided
 * @param by               {@code policy} (the decision rule) or {@code admin} (a {@link RolloutCommand})
 * @param reason           why, as a sentence
 * @param stableVersion    the version that answers requests after this decision
 * @param candidateVersion the version under evaluation after this decision, 0 if none
 * @param paused           no automatic decisions and no candidate traffic while true
 * @param evidence         what the decision rule saw (null for decisions that did not judge a candidate)
 * @param commandId        the admin command that caused it, or null
 * @param timeMs           when it was decided, epoch milliseconds
 */
public record RolloutDecision(String modelId, long seq, Kind kind, String by, String reason, long stableVersion,
                              long candidateVersion, boolean paused, Evidence evidence,
                              String commandId, long timeMs) {

    public enum Kind {
        /** The first verified snapshot became stable. */
        STABLE,
        /** A newer verified snapshot became the candidate. */
        CANDIDATE,
        /** The candidate became stable. */
        PROMOTE,
        /** The candidate was dropped; stable stays. */
        ROLLBACK,
        /** Undecided within the limit: the candidate was dropped, stable kept. */
        KEEP,
        PAUSE,
        RESUME;

        @com.fasterxml.jackson.annotation.JsonValue
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        @com.fasterxml.jackson.annotation.JsonCreator
        public static Kind parse(String s) {
            for (Kind k : values()) {
                if (k.id().equals(s)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("Invalid value " + s + " for kind");
        }
    }

    /**
     * The figures a decision about a candidate rests on, counted since it became candidate.
     *
     * @param labelsStable     joined labels of stable answers
     * @param labelsCandidate  joined labels of candidate (canary or shadow) answers
     * @param correctStable    of those, correct
     * @param correctCandidate of those, correct
     * @param pairs            shadow mode: labels that joined both a stable and a shadow answer
     * @param onlyCandidateRight pairs where only the candidate was right
     * @param onlyStableRight  pairs where only stable was right
     * @param pPromote         posterior P(acc_candidate ≥ acc_stable − ε)
     * @param pRollback        posterior P(acc_candidate &lt; acc_stable − δ)
     * @param epsilon          ε used (&gt; 0 only when the candidate has fewer FLOPs)
     * @param requestsStable   answers logged by stable
     * @param requestsCandidate answers logged by the candidate
     * @param errorsStable     of those, failures
     * @param errorsCandidate  of those, failures
     * @param p99MicrosStable  99th percentile latency of stable answers
     * @param p99MicrosCandidate 99th percentile latency of candidate answers
     * @param flopsStable      FLOPs of the stable model (manifest)
     * @param flopsCandidate   FLOPs of the candidate (manifest)
     */
    public record Evidence(long labelsStable, long labelsCandidate, long correctStable, long correctCandidate, long pairs,
                           long onlyCandidateRight, long onlyStableRight, double pPromote, double pRollback, double epsilon,
                           long requestsStable, long requestsCandidate, long errorsStable, long errorsCandidate,
                           long p99MicrosStable, long p99MicrosCandidate, double flopsStable, double flopsCandidate) {

        public double accuracyStable() {
            return labelsStable == 0 ? Double.NaN : (double) correctStable / labelsStable;
        }

        public double accuracyCandidate() {
            return labelsCandidate == 0 ? Double.NaN : (double) correctCandidate / labelsCandidate;
        }
    }

    public static final String BY_POLICY = "policy";
    public static final String BY_ADMIN = "admin";

    public RolloutDecision {
        PredictionEvent.require(modelId != null && !modelId.isEmpty(), "model_id", modelId, "must be non-empty");
        PredictionEvent.require(seq >= 1, "seq", seq, "must be >= 1");
        PredictionEvent.require(kind != null, "kind", null, "must be set");
        PredictionEvent.require(stableVersion >= 1, "stable_version", stableVersion, "must be >= 1");
        PredictionEvent.require(candidateVersion >= 0, "candidate_version", candidateVersion, "must be >= 0");
    }

    /** True while a candidate is being judged. */
    public boolean hasCandidate() {
        return candidateVersion > 0;
    }

    public byte[] toJson() {
        return RolloutJson.write(this);
    }

    public static RolloutDecision fromJson(byte[] json) {
        return RolloutJson.read(json, RolloutDecision.class, "rollout decision");
    }
}
