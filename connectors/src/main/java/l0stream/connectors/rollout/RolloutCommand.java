package l0stream.connectors.rollout;

import java.util.Locale;

/**
 * A person's override, sent by {@code POST /v1/rollout} to the commands topic (key = model id) and
 * turned into a {@link RolloutDecision} by the evaluator, the only writer of the rollout topic.
 *
 * @param modelId   the model it applies to
 * @param action    what to do
 * @param commandId unique id, echoed in the decision it causes
 * @param timeMs    when it was given
 * @param note      free text for the record (may be null)
 */
public record RolloutCommand(String modelId, Action action, String commandId, long timeMs, String note) {

    public enum Action {
        /** The candidate becomes stable now. */
        PROMOTE,
        /** The candidate is dropped; stable stays. */
        ROLLBACK,
        /** No automatic decision and no candidate traffic until resumed. */
        PAUSE,
        RESUME;

        @com.fasterxml.jackson.annotation.JsonValue
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        @com.fasterxml.jackson.annotation.JsonCreator
        public static Action parse(String s) {
            for (Action a : values()) {
                if (a.id().equals(s)) {
                    return a;
                }
            }
            throw new IllegalArgumentException("Invalid value " + s + " for action: expected promote, rollback, pause or resume");
        }
    }

    public RolloutCommand {
        PredictionEvent.require(modelId != null && !modelId.isEmpty(), "model_id", modelId, "must be non-empty");
        PredictionEvent.require(action != null, "action", null, "must be promote, rollback, pause or resume");
        PredictionEvent.require(commandId != null && !commandId.isEmpty(), "command_id", commandId, "must be non-empty");
    }

    public byte[] toJson() {
        return RolloutJson.write(this);
    }

    public static RolloutCommand fromJson(byte[] json) {
        return RolloutJson.read(json, RolloutCommand.class, "rollout command");
    }
}
