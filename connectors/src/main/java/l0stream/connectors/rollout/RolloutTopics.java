package l0stream.connectors.rollout;

import l0stream.connectors.kafka.Topics;

import org.apache.kafka.clients.admin.Admin;

import java.time.Duration;
import java.util.Map;

/**
 * The topics of a closed-loop rollout, named after the snapshot topic they belong to, so a serving
 * replica and the evaluator need only that one name to agree.
 *
 * @param snapshots   the snapshot topic (manifests and chunks)
 * @param predictions every answer a replica gave, {@link PredictionEvent} JSON keyed by request id
 * @param labels      delayed labels, {@link LabelEvent}: JSON, or the key as request id and a
 *                    {@code label} header as on the image topic
 * @param labelsDlq   malformed label records, unchanged, with {@code error} headers
 * @param rollout     compacted, keyed by model id: every {@link RolloutDecision}, written only by the evaluator
 * @param commands    admin commands ({@link RolloutCommand}) from {@code POST /v1/rollout}, keyed by model id
 */
public record RolloutTopics(String snapshots, String predictions, String labels, String labelsDlq, String rollout,
                            String commands) {

    public static RolloutTopics of(String snapshotTopic) {
        if (snapshotTopic == null || snapshotTopic.isBlank()) {
            throw new IllegalArgumentException("Invalid value " + snapshotTopic + " for --snapshots: must name the snapshot topic");
        }
        return new RolloutTopics(snapshotTopic, snapshotTopic + ".predictions", snapshotTopic + ".labels",
                snapshotTopic + ".labels.dlq", snapshotTopic + ".rollout", snapshotTopic + ".rollout-commands");
    }

    /**
     * Creates the rollout's topics where missing (existing ones are left as they are) and waits for
     * their leaders. The rollout topic is compacted: the last decision per model id is the state.
     */
    public void ensure(Admin admin, int partitions, Duration timeout) {
        Topics.ensure(admin, predictions, partitions, Map.of(), timeout);
        Topics.ensure(admin, labels, partitions, Map.of(), timeout);
        Topics.ensure(admin, labelsDlq, 1, Map.of(), timeout);
        Topics.ensure(admin, rollout, 1, Map.of("cleanup.policy", "compact"), timeout);
        Topics.ensure(admin, commands, 1, Map.of(), timeout);
    }
}
