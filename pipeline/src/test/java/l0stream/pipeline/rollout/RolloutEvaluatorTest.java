package l0stream.pipeline.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.connectors.rollout.PredictionEvent;
import l0stream.connectors.rollout.RolloutCommand;
import l0stream.connectors.rollout.RolloutDecision;
import l0stream.connectors.rollout.RolloutDecision.Kind;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The decision rule on simulated evidence: who becomes stable and candidate, promotion of a better
 * candidate and roll-back of a worse one (canary and shadow), ε only for a cheaper candidate, the
 * guardrails, admin commands, waiting versions, the limits, and a resume from the last decision.
 */
class RolloutEvaluatorTest {

    private static final RolloutPolicy POLICY = RolloutPolicy.defaults();
    private static final double DENSE = 2.3e6;

    private final EvaluatorState s = new EvaluatorState();
    private final RolloutEvaluator e = new RolloutEvaluator("m", POLICY);
    private final List<RolloutDecision> log = new ArrayList<>();
    private long now = 1_000_000;
    private int requests;

    private void snapshot(long v, double flops) {
        log.addAll(e.onSnapshot(s, v, flops, now));
    }

    /** One canary label: a request answered by {@code version}, right with probability {@code acc}. */
    private void canaryLabel(SplittableRandom rnd, long version, double acc) {
        String id = "r" + requests++;
        boolean right = rnd.nextDouble() < acc;
        PredictionEvent p = new PredictionEvent(id, "m", "x", version, 1, 1000, now, "a");
        e.onPrediction(s, p);
        log.addAll(e.onJoinedLabel(s, new JoinedLabel(id, "m", right ? 1 : 2, now, p, null), now));
    }

    /** One shadow label; the two models disagree on 10 % of requests, split by their accuracy gap. */
    private void shadowLabel(SplittableRandom rnd, double accStable, double accCandidate) {
        String id = "r" + requests++;
        boolean stableRight = rnd.nextDouble() < accStable;
        boolean candidateRight = stableRight;
        double flip = rnd.nextDouble();
        // P(only candidate right) − P(only stable right) = accCandidate − accStable, disagreements ~10 %
        double d = accCandidate - accStable;
        if (stableRight && flip < 0.05 - Math.min(0, d) / 2 - Math.max(0, d) / 2 + Math.max(0, -d)) {
            candidateRight = false;
        } else if (!stableRight && flip < 0.6 + Math.max(0, d) * 3) {
            candidateRight = true;
        }
        PredictionEvent a = new PredictionEvent(id, "m", "stable", s.stable, stableRight ? 1 : 2, 1000, now, "a");
        PredictionEvent b = new PredictionEvent(id, "m", "shadow", s.candidate, candidateRight ? 1 : 3, 1000, now, "a");
        e.onPrediction(s, a);
        e.onPrediction(s, b);
        log.addAll(e.onJoinedLabel(s, new JoinedLabel(id, "m", 1, now, a, b), now));
    }

    private RolloutDecision last() {
        return log.get(log.size() - 1);
    }

    private void startRollout(double candidateFlops) {
        snapshot(1, DENSE);
        snapshot(2, candidateFlops);
        assertEquals(List.of(Kind.STABLE, Kind.CANDIDATE), log.stream().map(RolloutDecision::kind).toList());
        assertEquals(1, last().stableVersion());
        assertEquals(2, last().candidateVersion());
    }

    /** Feeds canary labels (half each) until a decision about the candidate or the cap. */
    private int canaryUntilDecided(long seed, double accStable, double accCandidate) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int before = log.size();
        int n = 0;
        while (log.size() == before && n < 20_000) {
            canaryLabel(rnd, 1, accStable);
            canaryLabel(rnd, 2, accCandidate);
            n += 2;
        }
        return n;
    }

    @Test
    void testCanaryPromotesABetterCandidate() {
        startRollout(DENSE);
        int labels = canaryUntilDecided(1, 0.80, 0.90);
        RolloutDecision d = last();
        assertEquals(Kind.PROMOTE, d.kind(), d.reason());
        assertEquals(2, d.stableVersion());
        assertEquals(0, d.candidateVersion());
        assertEquals(RolloutDecision.BY_POLICY, d.by());
        assertTrue(d.evidence().pPromote() >= POLICY.threshold());
        assertEquals(0.0, d.evidence().epsilon(), "not cheaper: no margin");
        assertTrue(labels >= 2 * POLICY.minLabels(), "no decision before the minimum: " + labels);
        assertEquals(3, d.seq());
    }

    @Test
    void testCanaryRollsBackAWorseCandidate() {
        startRollout(DENSE);
        canaryUntilDecided(2, 0.90, 0.80);
        RolloutDecision d = last();
        assertEquals(Kind.ROLLBACK, d.kind(), d.reason());
        assertEquals(1, d.stableVersion());
        assertEquals(0, d.candidateVersion());
        assertTrue(d.evidence().pRollback() >= POLICY.threshold());
    }

    @Test
    void testACheaperCandidateAsGoodAsStableWinsAndAnEqualOneDoesNot() {
        startRollout(0.6 * DENSE);
        canaryUntilDecided(3, 0.85, 0.85);
        assertEquals(Kind.PROMOTE, last().kind(), last().reason());
        assertEquals(POLICY.epsilon(), last().evidence().epsilon());

        RolloutEvaluatorTest other = new RolloutEvaluatorTest();
        other.startRollout(DENSE);
        other.canaryUntilDecided(3, 0.85, 0.85);
        assertEquals(Kind.KEEP, other.last().kind(), "as good but not cheaper: undecided at the label limit; " + other.last().reason());
        assertEquals(1, other.last().stableVersion());
        assertTrue(other.last().evidence().labelsCandidate() >= POLICY.maxLabels());
    }

    @Test
    void testShadowPairsDecideAndNeedFewerLabels() {
        startRollout(DENSE);
        SplittableRandom rnd = new SplittableRandom(4);
        int n = 0;
        while (log.size() == 2 && n < 20_000) {
            shadowLabel(rnd, 0.85, 0.87);
            n++;
        }
        RolloutDecision d = last();
        assertEquals(Kind.PROMOTE, d.kind(), d.reason());
        assertTrue(d.evidence().pairs() >= POLICY.minLabels());
        assertTrue(d.reason().contains("shadow pairs"), d.reason());
        assertTrue(n <= 2000, "a 2-point better shadow candidate decided within 2,000 labels, took " + n);
    }

    /** A shadow pair with the given correctness of each answer. */
    private void pair(boolean stableRight, boolean candidateRight) {
        String id = "r" + requests++;
        PredictionEvent a = new PredictionEvent(id, "m", "stable", s.stable, stableRight ? 1 : 2, 1000, now, "a");
        PredictionEvent b = new PredictionEvent(id, "m", "shadow", s.candidate, candidateRight ? 1 : 3, 1000, now, "a");
        e.onPrediction(s, a);
        e.onPrediction(s, b);
        log.addAll(e.onJoinedLabel(s, new JoinedLabel(id, "m", 1, now, a, b), now));
    }

    @Test
    void testLateShadowAnswerStillMakesAPairAndCountsEachAnswerOnce() {
        startRollout(DENSE);
        String id = "late";
        PredictionEvent a = new PredictionEvent(id, "m", "stable", s.stable, 2, 1000, now, "a");
        PredictionEvent b = new PredictionEvent(id, "m", "shadow", s.candidate, 1, 1000, now, "a");
        e.onPrediction(s, a);
        // the label joined the stable answer alone, then the shadow answer came (RequestJoin)
        log.addAll(e.onJoinedLabel(s, new JoinedLabel(id, "m", 1, now, a, null), now));
        assertEquals(1, s.labelsStable);
        assertEquals(0, s.pairs);
        e.onPrediction(s, b);
        log.addAll(e.onJoinedLabel(s, new JoinedLabel(id, "m", 1, now, b, a, true), now));
        assertEquals(1, s.labelsStable, "the stable answer is not counted twice");
        assertEquals(0, s.correctStable);
        assertEquals(1, s.labelsCandidate);
        assertEquals(1, s.correctCandidate);
        assertEquals(1, s.pairs, "the two answers are one pair");
        assertEquals(1, s.onlyCandidateRight);
        assertEquals(0, s.onlyStableRight);
    }

    @Test
    void testShadowDecisionsWaitForEnoughDisagreements() {
        startRollout(DENSE);
        for (int i = 0; i < 400; i++) {
            pair(true, true);
            if (i % 10 == 0 && i < 590) {
                pair(false, true); // the candidate right where stable is wrong: 40 disagreements over 440 pairs
            }
        }
        assertEquals(2, log.size(), "40 disagreements, all for the candidate, are not yet enough (" + POLICY.minDisagreements() + ")");
        for (int i = 0; i < POLICY.minDisagreements() - 40; i++) {
            pair(false, true);
        }
        assertEquals(Kind.PROMOTE, last().kind(), last().reason());
    }

    @Test
    void testModelsThatNeverDisagreeAreDecidedByTheirCost() {
        startRollout(0.5 * DENSE);
        for (int i = 0; i < 3000 && log.size() == 2; i++) {
            pair(i % 5 != 0, i % 5 != 0);
        }
        assertEquals(Kind.PROMOTE, last().kind(), "identical answers and cheaper: as good within epsilon; " + last().reason());

        RolloutEvaluatorTest other = new RolloutEvaluatorTest();
        other.startRollout(DENSE);
        for (int i = 0; i < POLICY.maxLabels() + 10 && other.log.size() == 2; i++) {
            other.pair(i % 5 != 0, i % 5 != 0);
        }
        assertEquals(Kind.KEEP, other.last().kind(), "identical and not cheaper: nothing to gain; " + other.last().reason());
    }

    @Test
    void testShadowLatencyIsNotTheCandidatesLatency() {
        startRollout(DENSE);
        for (int i = 0; i < 2 * RolloutEvaluator.MIN_LATENCY_ANSWERS; i++) {
            e.onPrediction(s, new PredictionEvent("s" + i, "m", "stable", 1, 1, 1000, now, "a"));
            e.onPrediction(s, new PredictionEvent("s" + i, "m", "shadow", 2, 1, 90_000, now, "a"));
        }
        log.addAll(e.onJoinedLabel(s, new JoinedLabel("x", "m", 1, now, null, null), now));
        assertEquals(2, log.size(), "a slow shadow thread is no user's latency");
    }

    @Test
    void testErrorRateAndLatencyGuardrailsRollBack() {
        startRollout(DENSE);
        for (int i = 0; i < POLICY.minLabels(); i++) {
            e.onPrediction(s, new PredictionEvent("s" + i, "m", "stable", 1, 1, 1000, now, "a"));
            e.onPrediction(s, new PredictionEvent("c" + i, "m", "candidate", 2, i % 10 == 0 ? -1 : 1, 1000, now, "a"));
        }
        log.addAll(e.onJoinedLabel(s, new JoinedLabel("x", "m", 1, now, null, null), now));
        assertEquals(Kind.ROLLBACK, last().kind());
        assertTrue(last().reason().contains("error rate"), last().reason());

        RolloutEvaluatorTest other = new RolloutEvaluatorTest();
        other.startRollout(DENSE);
        int n = RolloutEvaluator.MIN_LATENCY_ANSWERS;
        for (int i = 0; i < n - 1; i++) {
            other.e.onPrediction(other.s, new PredictionEvent("s" + i, "m", "stable", 1, 1, 1000, now, "a"));
            other.e.onPrediction(other.s, new PredictionEvent("c" + i, "m", "candidate", 2, 1, i < n / 50 ? 50_000 : 1000, now, "a"));
        }
        other.log.addAll(other.e.onJoinedLabel(other.s, new JoinedLabel("x", "m", 1, now, null, null), now));
        assertEquals(2, other.log.size(), "no latency verdict from fewer than " + n + " answers");
        other.e.onPrediction(other.s, new PredictionEvent("s", "m", "stable", 1, 1, 1000, now, "a"));
        other.e.onPrediction(other.s, new PredictionEvent("c", "m", "candidate", 2, 1, 1000, now, "a"));
        other.log.addAll(other.e.onJoinedLabel(other.s, new JoinedLabel("x", "m", 1, now, null, null), now));
        assertEquals(Kind.ROLLBACK, other.last().kind());
        assertTrue(other.last().reason().contains("p99 latency"), other.last().reason());
    }

    @Test
    void testAdminCommands() {
        snapshot(1, DENSE);
        log.addAll(e.onCommand(s, new RolloutCommand("m", RolloutCommand.Action.PROMOTE, "c0", now, null), now));
        assertEquals(1, log.size(), "promote without a candidate changes nothing");
        snapshot(2, DENSE);
        log.addAll(e.onCommand(s, new RolloutCommand("m", RolloutCommand.Action.PAUSE, "c1", now, "incident 7"), now));
        assertEquals(Kind.PAUSE, last().kind());
        assertTrue(last().paused());
        assertEquals("c1", last().commandId());
        int before = log.size();
        canaryUntilDecided(5, 0.5, 0.99);
        assertEquals(before, log.size() - 0, "paused: no automatic decision");
        snapshot(3, DENSE);
        assertEquals(before, log.size(), "paused: a newer snapshot waits");
        log.addAll(e.onCommand(s, new RolloutCommand("m", RolloutCommand.Action.RESUME, "c2", now, null), now));
        assertEquals(Kind.RESUME, last().kind());
        log.addAll(e.onCommand(s, new RolloutCommand("m", RolloutCommand.Action.ROLLBACK, "c3", now, null), now));
        RolloutDecision rb = log.get(log.size() - 2);
        assertEquals(Kind.ROLLBACK, rb.kind());
        assertEquals(RolloutDecision.BY_ADMIN, rb.by());
        assertEquals(Kind.CANDIDATE, last().kind(), "the waiting v3 enters after the roll-back");
        assertEquals(3, last().candidateVersion());
        log.addAll(e.onCommand(s, new RolloutCommand("m", RolloutCommand.Action.PROMOTE, "c4", now, null), now));
        assertEquals(Kind.PROMOTE, last().kind());
        assertEquals(3, last().stableVersion());
        for (int i = 0; i < log.size(); i++) {
            assertEquals(i + 1, log.get(i).seq(), "seq counts every decision");
        }
    }

    @Test
    void testNewestWaitingVersionIsTheNextCandidate() {
        startRollout(DENSE);
        snapshot(3, DENSE);
        snapshot(4, DENSE);
        snapshot(3, DENSE); // a redelivery changes nothing
        assertEquals(2, log.size());
        canaryUntilDecided(6, 0.80, 0.90);
        RolloutDecision next = last();
        assertEquals(Kind.CANDIDATE, next.kind());
        assertEquals(4, next.candidateVersion());
        assertEquals(2, next.stableVersion());
        assertTrue(next.reason().contains("1 older waiting version skipped"), next.reason());
    }

    @Test
    void testTimeLimitKeepsStable() {
        startRollout(DENSE);
        log.addAll(e.onTime(s, now + POLICY.maxDuration().toMillis() - 1));
        assertEquals(2, log.size());
        log.addAll(e.onTime(s, now + POLICY.maxDuration().toMillis()));
        assertEquals(Kind.KEEP, last().kind());
        assertEquals(1, last().stableVersion());
    }

    @Test
    void testResumeContinuesTheHistory() {
        startRollout(DENSE);
        EvaluatorState resumed = RolloutEvaluator.resumeFrom(last(), now);
        assertEquals(2, resumed.seq);
        assertEquals(2, resumed.candidate);
        List<RolloutDecision> again = e.onSnapshot(resumed, 2, DENSE, now);
        assertTrue(again.isEmpty(), "replayed snapshots do not make new decisions");
        List<RolloutDecision> next = e.onSnapshot(resumed, 3, DENSE, now);
        assertTrue(next.isEmpty(), "v3 waits for v2's decision");
        assertEquals(3, resumed.next);
    }

    @Test
    void testBadPolicyNamesTheKey() {
        IllegalArgumentException x = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new RolloutPolicy(100, 60, 0.99, 0.01, 0, 50, Duration.ofHours(1), 0.02, 1.5, Duration.ofMinutes(5)));
        assertTrue(x.getMessage().contains("--max-labels"), x.getMessage());
        x = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new RolloutPolicy(100, 60, 1.0, 0.01, 0, 500, Duration.ofHours(1), 0.02, 1.5, Duration.ofMinutes(5)));
        assertTrue(x.getMessage().contains("--threshold"), x.getMessage());
    }
}
