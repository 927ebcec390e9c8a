package l0stream.pipeline.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.connectors.rollout.LabelEvent;
import l0stream.connectors.rollout.PredictionEvent;
import l0stream.pipeline.rollout.RequestJoin.LabelOutcome;

import org.junit.jupiter.api.Test;

/** The join rules of one request: joined, waiting, duplicate, expired, unknown, shadow answers. */
class RequestJoinTest {

    private static final long WINDOW = 60_000;

    private static PredictionEvent answer(String variant, long version, int predicted, long t) {
        return new PredictionEvent("r1", "m", variant, version, predicted, 900, t, "replica-a");
    }

    @Test
    void testLabelAfterAnswerJoins() {
        RequestJoin j = new RequestJoin();
        assertNull(j.onPrediction(answer("stable", 1, 3, 1000), WINDOW));
        assertEquals(LabelOutcome.JOINED, j.onLabel(new LabelEvent("r1", 3, 5000), WINDOW));
        JoinedLabel e = j.joinedLabel();
        assertEquals(3, e.label());
        assertEquals(1, e.first().version());
        assertNull(e.second());
        assertFalse(j.unknownLabel());
    }

    @Test
    void testShadowPairJoinsAsOneLabel() {
        RequestJoin j = new RequestJoin();
        j.onPrediction(answer("stable", 1, 3, 1000), WINDOW);
        j.onPrediction(answer("shadow", 2, 4, 1010), WINDOW);
        assertEquals(LabelOutcome.JOINED, j.onLabel(new LabelEvent("r1", 4, 2000), WINDOW));
        assertEquals(2, j.joinedLabel().second().version());
    }

    @Test
    void testLateShadowAnswerIsEvidenceOnItsOwnPairedWithTheCountedOne() {
        RequestJoin j = new RequestJoin();
        j.onPrediction(answer("stable", 1, 3, 1000), WINDOW);
        assertEquals(LabelOutcome.JOINED, j.onLabel(new LabelEvent("r1", 3, 1500), WINDOW));
        assertNull(j.joinedLabel().second(), "the label joined the stable answer alone");
        assertFalse(j.joinedLabel().secondCounted());
        JoinedLabel late = j.onPrediction(answer("shadow", 2, 3, 1600), WINDOW);
        assertNotNull(late);
        assertEquals(2, late.first().version(), "the late answer, to count");
        assertEquals(1, late.second().version(), "the stable answer, counted already, to pair with");
        assertTrue(late.secondCounted());
    }

    @Test
    void testLabelBeforeAnswerWaitsThenJoins() {
        RequestJoin j = new RequestJoin();
        assertEquals(LabelOutcome.WAITING, j.onLabel(new LabelEvent("r1", 3, 1000), WINDOW));
        assertTrue(j.unknownLabel(), "until an answer comes, the label is unknown");
        assertNotNull(j.onPrediction(answer("stable", 1, 3, 1100), WINDOW));
        assertFalse(j.unknownLabel());
    }

    @Test
    void testDuplicateLabelIsNotEvidence() {
        RequestJoin j = new RequestJoin();
        j.onPrediction(answer("stable", 1, 3, 1000), WINDOW);
        assertEquals(LabelOutcome.JOINED, j.onLabel(new LabelEvent("r1", 3, 2000), WINDOW));
        assertEquals(LabelOutcome.DUPLICATE, j.onLabel(new LabelEvent("r1", 5, 2100), WINDOW));
        assertEquals(3, j.joinedLabel().label(), "the first label stands");
    }

    @Test
    void testLabelAfterTheWindowExpires() {
        RequestJoin j = new RequestJoin();
        j.onPrediction(answer("stable", 1, 3, 1000), WINDOW);
        assertEquals(LabelOutcome.EXPIRED, j.onLabel(new LabelEvent("r1", 3, 1000 + WINDOW + 1), WINDOW));
        assertNull(j.onPrediction(answer("shadow", 2, 3, 1100), WINDOW), "nothing joins an expired label");
    }

    @Test
    void testLabelWithoutAnyAnswerIsUnknown() {
        RequestJoin j = new RequestJoin();
        j.onLabel(new LabelEvent("r1", 3, 1000), WINDOW);
        assertTrue(j.unknownLabel());
        RequestJoin k = new RequestJoin();
        k.onPrediction(answer("stable", 1, 3, 1000), WINDOW);
        assertFalse(k.unknownLabel(), "an answer without a label is just unlabelled");
    }
}
