package l0stream.pipeline.rollout;

import l0stream.connectors.rollout.PredictionEvent;
import l0stream.connectors.rollout.RolloutCommand;
import l0stream.connectors.rollout.RolloutDecision;
import l0stream.connectors.rollout.RolloutDecision.Evidence;
import l0stream.connectors.rollout.RolloutDecision.Kind;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The rollout decision rule of one model, as plain transitions of an {@link EvaluatorState}: the
 * Flink operator feeds it verified snapshots, logged answers, joined labels, admin commands and
 * the clock, and writes what it returns to the rollout topic. Deterministic given its inputs.
 *
 * <ul>
 *   <li>The first verified snapshot becomes stable. A newer one becomes the candidate when none is
 *       being judged; one that arrives while a candidate is judged waits, and only the newest waiting
 *       one becomes the next candidate (the ones between are skipped, and counted in the reason).
 *   <li>Evidence is counted by version, not by the variant a replica called it: an answer of the
 *       stable version is stable's, whatever route it took.
 *   <li>Shadow pairs (one label, both answers) are compared as pairs — only the requests on which the
 *       two disagree carry information, so a pair is worth far more than two unpaired labels; without
 *       enough pairs, the unpaired Beta posteriors of the two accuracies are compared.
 * </ul>
 * See {@link RolloutPolicy} for the rule itself.
 */
public final class RolloutEvaluator {

    /**
     * A p99 from fewer answers is a maximum, not a percentile: one slow first call of a freshly
     * loaded model (or one stall of a loaded machine) would roll a good candidate back.
     */
    static final int MIN_LATENCY_ANSWERS = 1000;

    private final String modelId;
    private final RolloutPolicy policy;

    public RolloutEvaluator(String modelId, RolloutPolicy policy) {
        this.modelId = modelId;
        this.policy = policy;
    }

    /** State resumed from the last decision on the rollout topic (evidence starts again from zero). */
    public static EvaluatorState resumeFrom(RolloutDecision last, long now) {
        EvaluatorState s = new EvaluatorState();
        s.seq = last.seq();
        s.stable = last.stableVersion();
        s.candidate = last.candidateVersion();
        s.paused = last.paused();
        s.resetEvidence(now);
        return s;
    }

    public List<RolloutDecision> onSnapshot(EvaluatorState s, long version, double flops, long now) {
        List<RolloutDecision> out = new ArrayList<>();
        if (version == s.stable) {
            s.stableFlops = flops; // seen again after a resume: learn its FLOPs
        } else if (version == s.candidate) {
            s.candidateFlops = flops;
        }
        if (version <= Math.max(s.stable, Math.max(s.candidate, s.next))) {
            return out;
        }
        if (s.stable == 0) {
            s.stable = version;
            s.stableFlops = flops;
            s.resetEvidence(now);
            out.add(decision(s, Kind.STABLE, RolloutDecision.BY_POLICY, "v" + version + " is the first verified snapshot",
                    null, null, now));
            return out;
        }
        if (s.next > 0) {
            s.skipped++;
        }
        s.next = version;
        s.nextFlops = flops;
        admitNext(s, now, out);
        return out;
    }

    public void onPrediction(EvaluatorState s, PredictionEvent p) {
        if (p.version() == s.stable) {
            s.requestsStable++;
            if (!p.ok()) {
                s.errorsStable++;
            }
            LatencyHistogram.add(s.latencyStable, p.latencyMicros());
        } else if (p.version() == s.candidate) {
            s.requestsCandidate++;
            if (!p.ok()) {
                s.errorsCandidate++;
            }
            if (!PredictionEvent.SHADOW.equals(p.variant())) {
                // a shadow runs on a background thread no user waits for: its time is not the candidate's latency
                LatencyHistogram.add(s.latencyCandidate, p.latencyMicros());
            }
        }
    }

    public List<RolloutDecision> onJoinedLabel(EvaluatorState s, JoinedLabel j, long now) {
        Boolean stableRight = null;
        Boolean candidateRight = null;
        PredictionEvent[] answers = {j.first(), j.second()};
        for (int i = 0; i < answers.length; i++) {
            PredictionEvent p = answers[i];
            if (p == null || !p.ok()) {
                continue;
            }
            boolean right = p.predicted() == j.label();
            // a late shadow answer's partner was counted when the label joined it: only pair it now
            boolean count = !(i == 1 && j.secondCounted());
            if (p.version() == s.stable && stableRight == null) {
                stableRight = right;
                if (count) {
                    s.labelsStable++;
                    s.correctStable += right ? 1 : 0;
                }
            } else if (p.version() == s.candidate && candidateRight == null) {
                candidateRight = right;
                if (count) {
                    s.labelsCandidate++;
                    s.correctCandidate += right ? 1 : 0;
                }
            }
        }
        if (stableRight != null && candidateRight != null) {
            s.pairs++;
            if (candidateRight && !stableRight) {
                s.onlyCandidateRight++;
            } else if (stableRight && !candidateRight) {
                s.onlyStableRight++;
            }
        }
        return judge(s, now);
    }

    public List<RolloutDecision> onCommand(EvaluatorState s, RolloutCommand c, long now) {
        List<RolloutDecision> out = new ArrayList<>();
        if (s.stable == 0) {
            return out; // nothing to act on yet: commands before any snapshot change nothing
        }
        String who = c.note() == null ? "" : " (" + c.note() + ")";
        switch (c.action()) {
            case PROMOTE -> {
                if (s.candidate > 0) {
                    Evidence e = evidence(s, epsilon(s));
                    long v = s.candidate;
                    promote(s);
                    out.add(decision(s, Kind.PROMOTE, RolloutDecision.BY_ADMIN, "v" + v + " promoted by an admin" + who, e, c.commandId(), now));
                    s.resetEvidence(now);
                    admitNext(s, now, out);
                }
            }
            case ROLLBACK -> {
                if (s.candidate > 0) {
                    Evidence e = evidence(s, epsilon(s));
                    long v = s.candidate;
                    drop(s);
                    out.add(decision(s, Kind.ROLLBACK, RolloutDecision.BY_ADMIN, "v" + v + " rolled back by an admin" + who, e, c.commandId(), now));
                    s.resetEvidence(now);
                    admitNext(s, now, out);
                }
            }
            case PAUSE -> {
                if (!s.paused) {
                    s.paused = true;
                    out.add(decision(s, Kind.PAUSE, RolloutDecision.BY_ADMIN, "paused by an admin" + who, null, c.commandId(), now));
                }
            }
            case RESUME -> {
                if (s.paused) {
                    s.paused = false;
                    out.add(decision(s, Kind.RESUME, RolloutDecision.BY_ADMIN, "resumed by an admin" + who, null, c.commandId(), now));
                    admitNext(s, now, out);
                }
            }
        }
        return out;
    }

    /** The time limit: a candidate still undecided after {@code maxDuration} is dropped. */
    public List<RolloutDecision> onTime(EvaluatorState s, long now) {
        List<RolloutDecision> out = new ArrayList<>();
        if (s.candidate > 0 && !s.paused && now - s.candidateSinceMs >= policy.maxDuration().toMillis()) {
            Evidence e = evidence(s, epsilon(s));
            long v = s.candidate;
            drop(s);
            out.add(decision(s, Kind.KEEP, RolloutDecision.BY_POLICY, "v" + v + " undecided after "
                    + policy.maxDuration().toMinutes() + " min; stable v" + s.stable + " kept", e, null, now));
            s.resetEvidence(now);
            admitNext(s, now, out);
        }
        return out;
    }

    private List<RolloutDecision> judge(EvaluatorState s, long now) {
        List<RolloutDecision> out = new ArrayList<>();
        if (s.candidate == 0 || s.paused) {
            return out;
        }
        double eps = epsilon(s);
        long v = s.candidate;
        int min = policy.minLabels();
        String guard = guardrail(s);
        Evidence e = null;
        Kind kind = null;
        String why = null;
        if (guard != null) {
            e = evidence(s, eps);
            kind = Kind.ROLLBACK;
            why = "v" + v + " rolled back: " + guard;
        } else if (enoughEvidence(s, eps) && (s.labelsCandidate >= policy.maxLabels() || nearThreshold(s, eps))) {
            e = evidence(s, eps);
            String basis = s.pairs >= min
                    ? String.format(Locale.ROOT, "%d shadow pairs (%d only candidate right, %d only stable right)", s.pairs,
                            s.onlyCandidateRight, s.onlyStableRight)
                    : String.format(Locale.ROOT, "%d/%d labels (accuracy %.3f vs %.3f)", s.labelsCandidate, s.labelsStable,
                            e.accuracyCandidate(), e.accuracyStable());
            if (e.pPromote() >= policy.threshold()) {
                kind = Kind.PROMOTE;
                why = String.format(Locale.ROOT, "v%d promoted: P(acc_candidate >= acc_stable - %.3f) = %.4f >= %s after %s",
                        v, eps, e.pPromote(), policy.threshold(), basis);
            } else if (e.pRollback() >= policy.threshold()) {
                kind = Kind.ROLLBACK;
                why = String.format(Locale.ROOT, "v%d rolled back: P(acc_candidate < acc_stable - %.3f) = %.4f >= %s after %s",
                        v, policy.delta(), e.pRollback(), policy.threshold(), basis);
            } else if (s.labelsCandidate >= policy.maxLabels()) {
                kind = Kind.KEEP;
                why = String.format(Locale.ROOT, "v%d undecided after %s (P promote %.3f, P roll back %.3f); stable v%d kept",
                        v, basis, e.pPromote(), e.pRollback(), s.stable);
            }
        } else if (s.labelsCandidate >= policy.maxLabels()) {
            e = evidence(s, eps);
            kind = Kind.KEEP;
            why = String.format(Locale.ROOT, "v%d undecided after %d labels: too few informative ones (%d pairs disagreed); stable v%d kept",
                    v, s.labelsCandidate, s.onlyCandidateRight + s.onlyStableRight, s.stable);
        }
        if (kind == null) {
            return out;
        }
        if (kind == Kind.PROMOTE) {
            promote(s);
        } else {
            drop(s);
        }
        out.add(decision(s, kind, RolloutDecision.BY_POLICY, why, e, null, now));
        s.resetEvidence(now);
        admitNext(s, now, out);
        return out;
    }

    /**
     * Paired (shadow) evidence needs {@code minLabels} pairs of which {@code minDisagreements} where
     * the answers differ — unless the two models disagree so rarely (99 % upper bound of the rate
     * below ε) that their accuracies cannot differ by more; unpaired needs {@code minLabels} each.
     * Deciding on a handful of disagreements is what let an early fluke promote a worse candidate
     * (docs/rollout.md, "Choosing the defaults").
     */
    private boolean enoughEvidence(EvaluatorState s, double eps) {
        int min = policy.minLabels();
        if (s.pairs >= min) {
            // only pairs with one answer right and the other wrong tell which model is better
            long dis = s.onlyCandidateRight + s.onlyStableRight;
            if (dis >= policy.minDisagreements()) {
                return true;
            }
            double r = (dis + 1.0) / (s.pairs + 2.0);
            return eps > 0 && r + 2.33 * Math.sqrt(r * (1 - r) / s.pairs) < eps;
        }
        return s.labelsStable >= min && s.labelsCandidate >= min;
    }

    /**
     * A cheap screen before the exact posterior (which integrates numerically): false when a normal
     * approximation puts both probabilities well below the threshold, so no decision can be due.
     * Exact decisions are unchanged; only labels that cannot decide skip the integration.
     */
    private boolean nearThreshold(EvaluatorState s, double eps) {
        if (s.pairs >= policy.minLabels()) {
            return true; // the paired rule is one incomplete-beta evaluation: no need to screen
        }
        BetaPosterior c = BetaPosterior.of(s.correctCandidate, s.labelsCandidate);
        BetaPosterior st = BetaPosterior.of(s.correctStable, s.labelsStable);
        double sd = Math.hypot(c.sd(), st.sd());
        double promote = BetaPosterior.normalCdf((c.mean() - st.mean() + eps) / sd);
        double rollback = BetaPosterior.normalCdf((st.mean() - policy.delta() - c.mean()) / sd);
        double near = policy.threshold() - 0.05;
        return promote >= near || rollback >= near;
    }

    /** An error-rate or latency regression, as a sentence; null if none. */
    private String guardrail(EvaluatorState s) {
        int min = policy.minLabels();
        if (s.requestsCandidate < min || s.requestsStable < min) {
            return null;
        }
        double errC = (double) s.errorsCandidate / s.requestsCandidate;
        double errS = (double) s.errorsStable / s.requestsStable;
        if (errC - errS > policy.maxErrorIncrease()) {
            return String.format(Locale.ROOT, "error rate %.3f vs stable %.3f (limit +%.3f) over %d/%d answers", errC, errS,
                    policy.maxErrorIncrease(), s.requestsCandidate, s.requestsStable);
        }
        if (total(s.latencyCandidate) < MIN_LATENCY_ANSWERS || total(s.latencyStable) < MIN_LATENCY_ANSWERS) {
            return null;
        }
        long p99C = LatencyHistogram.quantile(s.latencyCandidate, 0.99);
        long p99S = LatencyHistogram.quantile(s.latencyStable, 0.99);
        if (p99S > 0 && p99C > policy.maxP99Ratio() * p99S) {
            return String.format(Locale.ROOT, "p99 latency %d us vs stable %d us (limit x%.2f) over %d/%d answers", p99C, p99S,
                    policy.maxP99Ratio(), s.requestsCandidate, s.requestsStable);
        }
        return null;
    }

    private static long total(long[] histogram) {
        long n = 0;
        for (long c : histogram) {
            n += c;
        }
        return n;
    }

    /** ε &gt; 0 only for a cheaper candidate: a sparser model that is as good should win. */
    private double epsilon(EvaluatorState s) {
        return s.candidateFlops > 0 && s.stableFlops > 0 && s.candidateFlops < s.stableFlops ? policy.epsilon() : 0;
    }

    /** The evidence on the current candidate as the rule would weigh it now. */
    Evidence evidence(EvaluatorState s) {
        return evidence(s, epsilon(s));
    }

    Evidence evidence(EvaluatorState s, double eps) {
        double pPromote;
        double pRollback;
        if (s.pairs >= policy.minLabels()) {
            // acc_c − acc_s = r·(2q − 1), r the rate of disagreement, q = P(candidate right | they disagree)
            BetaPosterior q = BetaPosterior.of(s.onlyCandidateRight, s.onlyCandidateRight + s.onlyStableRight);
            double r = (s.onlyCandidateRight + s.onlyStableRight + 1.0) / (s.pairs + 2.0);
            pPromote = 1 - q.cdf(0.5 - eps / (2 * r));
            pRollback = q.cdf(0.5 - policy.delta() / (2 * r));
        } else {
            BetaPosterior c = BetaPosterior.of(s.correctCandidate, s.labelsCandidate);
            BetaPosterior st = BetaPosterior.of(s.correctStable, s.labelsStable);
            pPromote = c.probAtLeast(st, eps);
            pRollback = 1 - c.probAtLeast(st, policy.delta());
        }
        return new Evidence(s.labelsStable, s.labelsCandidate, s.correctStable, s.correctCandidate, s.pairs,
                s.onlyCandidateRight, s.onlyStableRight, pPromote, pRollback, eps, s.requestsStable, s.requestsCandidate,
                s.errorsStable, s.errorsCandidate, LatencyHistogram.quantile(s.latencyStable, 0.99),
                LatencyHistogram.quantile(s.latencyCandidate, 0.99), s.stableFlops, s.candidateFlops);
    }

    private static void promote(EvaluatorState s) {
        s.stable = s.candidate;
        s.stableFlops = s.candidateFlops;
        s.candidate = 0;
        s.candidateFlops = 0;
    }

    private static void drop(EvaluatorState s) {
        s.candidate = 0;
        s.candidateFlops = 0;
    }

    /** The newest waiting version becomes the candidate, if none is judged and not paused. */
    private void admitNext(EvaluatorState s, long now, List<RolloutDecision> out) {
        if (s.candidate != 0 || s.paused || s.next <= s.stable) {
            if (s.next <= s.stable) {
                s.next = 0;
            }
            return;
        }
        s.candidate = s.next;
        s.candidateFlops = s.nextFlops;
        String skipped = s.skipped > 0 ? " (" + s.skipped + " older waiting version" + (s.skipped == 1 ? "" : "s") + " skipped)" : "";
        s.next = 0;
        s.nextFlops = 0;
        s.skipped = 0;
        s.resetEvidence(now);
        out.add(decision(s, Kind.CANDIDATE, RolloutDecision.BY_POLICY, "v" + s.candidate + " is the candidate against stable v"
                + s.stable + skipped, null, null, now));
    }

    private RolloutDecision decision(EvaluatorState s, Kind kind, String by, String reason, Evidence e, String commandId, long now) {
        s.seq++;
        return new RolloutDecision(modelId, s.seq, kind, by, reason, s.stable, s.candidate, s.paused, e, commandId, now);
    }
}
