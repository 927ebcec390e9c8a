package l0stream.connectors.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

/** The rollout records on the wire: snake_case JSON, both label forms, and reasons for what is refused. */
class RolloutRecordsTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void testRecordsRoundTripAsSnakeCaseJson() {
        PredictionEvent p = new PredictionEvent("r1", "m", "shadow", 4, 7, 812, 1700000000000L, "replica-a");
        String json = new String(p.toJson(), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"request_id\":\"r1\"") && json.contains("\"latency_micros\":812"), json);
        assertEquals(p, PredictionEvent.fromJson(p.toJson()));

        RolloutDecision d = new RolloutDecision("m", 3, RolloutDecision.Kind.PROMOTE, RolloutDecision.BY_POLICY, "why", 2, 0, false,
                new RolloutDecision.Evidence(100, 120, 70, 114, 0, 0, 0, 0.999, 0.001, 0.01, 400, 410, 0, 1, 900, 950, 2e6, 1e6),
                null, 5);
        String dj = new String(d.toJson(), StandardCharsets.UTF_8);
        assertTrue(dj.contains("\"kind\":\"promote\"") && dj.contains("\"stable_version\":2") && !dj.contains("command_id"), dj);
        assertEquals(d, RolloutDecision.fromJson(d.toJson()));
        assertEquals(0.95, d.evidence().accuracyCandidate(), 1e-12);

        RolloutCommand c = new RolloutCommand("m", RolloutCommand.Action.ROLLBACK, "c1", 9, "bad canary");
        assertTrue(new String(c.toJson(), StandardCharsets.UTF_8).contains("\"action\":\"rollback\""));
        assertEquals(c, RolloutCommand.fromJson(c.toJson()));
    }

    @Test
    void testLabelsInBothFormsAndTheirErrors() {
        LabelEvent json = LabelEvent.parse(null, utf8("{\"request_id\": \"r9\", \"label\": 4}"), new RecordHeaders(), 123);
        assertEquals(new LabelEvent("r9", 4, 123), json);
        RecordHeaders h = new RecordHeaders();
        h.add("label", utf8("6"));
        assertEquals(new LabelEvent("r8", 6, 77), LabelEvent.parse(utf8("r8"), null, h, 77));

        assertEquals("value is not JSON and there is no label header",
                assertThrows(IllegalArgumentException.class, () -> LabelEvent.parse(utf8("k"), utf8("{oops"), null, 0)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LabelEvent.parse(null, utf8("{\"request_id\": \"r\", \"label\": \"three\"}"), null, 0)).getMessage()
                .contains("expected {\"request_id\""));
        RecordHeaders bad = new RecordHeaders();
        bad.add("label", utf8("x"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LabelEvent.parse(utf8("r"), null, bad, 0)).getMessage()
                .contains("not an integer"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LabelEvent.parse(null, null, h, 0)).getMessage()
                .contains("key must be the request id"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LabelEvent.parse(null, utf8("{\"request_id\": \"r\", \"label\": -1}"), null, 0)).getMessage()
                .contains("label"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PredictionEvent.fromJson(utf8("{\"request_id\": \"r\"}")))
                .getMessage().contains("model_id"));
    }

    @Test
    void testTopicNamesFollowTheSnapshotTopic() {
        RolloutTopics t = RolloutTopics.of("snapshots");
        assertEquals("snapshots.predictions", t.predictions());
        assertEquals("snapshots.labels", t.labels());
        assertEquals("snapshots.labels.dlq", t.labelsDlq());
        assertEquals("snapshots.rollout", t.rollout());
        assertEquals("snapshots.rollout-commands", t.commands());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RolloutTopics.of(" ")).getMessage().contains("--snapshots"));
    }
}
