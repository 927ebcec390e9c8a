package l0stream.pipeline.rollout;

import java.time.Duration;

/**
 * The decision rule's settings, validated at start-up; errors name the command-line key.
 *
 * <p>Rule (see docs/rollout.md): once the candidate and stable each have {@code minLabels} joined
 * labels (or, in shadow mode, {@code minLabels} labels that joined both answers, of which
 * {@code minDisagreements} where the two answers differ — only those carry information), promote when
 * P(acc_candidate ≥ acc_stable − ε) ≥ {@code threshold}, where ε = {@code epsilon} if the
 * candidate has fewer FLOPs than stable and 0 otherwise; roll back when P(acc_candidate &lt;
 * acc_stable − δ) ≥ {@code threshold}, or at once when the candidate's error rate exceeds
 * stable's by more than {@code maxErrorIncrease} or its p99 latency exceeds stable's ×
 * {@code maxP99Ratio} (over at least {@code minLabels} answers each, 1,000 for the latency; shadow
 * answers are not user-facing and do not count for it). Undecided after
 * {@code maxLabels} candidate labels or {@code maxDuration}: keep stable.
 */
public record RolloutPolicy(int minLabels, int minDisagreements, double threshold, double epsilon, double delta, int maxLabels,
                            Duration maxDuration, double maxErrorIncrease, double maxP99Ratio, Duration labelWindow)
        implements java.io.Serializable {

    public static RolloutPolicy defaults() {
        return new RolloutPolicy(200, 60, 0.99, 0.01, 0.0, 5000, Duration.ofHours(6), 0.02, 1.5, Duration.ofMinutes(30));
    }

    public RolloutPolicy {
        require(minLabels >= 1, "--min-labels", minLabels, "must be >= 1");
        require(minDisagreements >= 0, "--min-disagreements", minDisagreements, "must be >= 0");
        require(threshold > 0.5 && threshold < 1, "--threshold", threshold, "must be in (0.5, 1)");
        require(epsilon >= 0 && epsilon < 0.5, "--epsilon", epsilon, "must be in [0, 0.5)");
        require(delta >= 0 && delta < 0.5, "--delta", delta, "must be in [0, 0.5)");
        require(maxLabels >= minLabels, "--max-labels", maxLabels, "must be >= --min-labels (" + minLabels + ")");
        require(maxDuration != null && !maxDuration.isNegative() && !maxDuration.isZero(), "--max-minutes", maxDuration, "must be > 0");
        require(maxErrorIncrease >= 0 && maxErrorIncrease <= 1, "--max-error-increase", maxErrorIncrease, "must be in [0, 1]");
        require(maxP99Ratio >= 1, "--max-p99-ratio", maxP99Ratio, "must be >= 1");
        require(labelWindow != null && labelWindow.toMillis() >= 1000, "--label-window-seconds", labelWindow, "must be >= 1 s");
    }

    private static void require(boolean ok, String key, Object v, String rule) {
        if (!ok) {
            throw new IllegalArgumentException("Invalid value " + v + " for " + key + ": " + rule);
        }
    }
}
