package l0stream.pipeline.rollout;

import l0stream.connectors.rollout.LabelEvent;
import l0stream.connectors.rollout.PredictionEvent;

/**
 * What is known of one request id while its label may still come: its answers (stable, and a
 * shadow's) and its label. Flink keeps one per request id in keyed state (a POJO: public fields,
 * no-argument constructor) and drops it after twice the label window; the rules are here, away
 * from Flink, so they are tested on their own.
 *
 * <p>A label joins the answers given at most {@code window} before it. A label later than that is
 * <em>expired</em>; a second label for a request is a <em>duplicate</em>; a label whose request no
 * answer ever arrived for (or whose answers were dropped already) is <em>unknown</em> when its state
 * is dropped. None of them count as evidence.
 */
public final class RequestJoin {

    /** What a label did. */
    public enum LabelOutcome { JOINED, WAITING, DUPLICATE, EXPIRED }

    public PredictionEvent first;
    public PredictionEvent second;
    public LabelEvent label;
    public boolean joined;
    public boolean expired;

    public RequestJoin() {}

    /** @return the label's outcome; when JOINED, {@link #joinedLabel()} is the evidence */
    public LabelOutcome onLabel(LabelEvent l, long windowMs) {
        if (label != null) {
            return LabelOutcome.DUPLICATE;
        }
        label = l;
        if (first == null) {
            return LabelOutcome.WAITING;
        }
        if (l.timeMs() - first.timeMs() > windowMs) {
            expired = true;
            return LabelOutcome.EXPIRED;
        }
        joined = true;
        return LabelOutcome.JOINED;
    }

    /**
     * An answer for this request; returns the evidence it completes, or null. An answer that comes
     * after its label already joined (a shadow answer logged, or read, late) is evidence on its own,
     * paired with the answer the label joined ({@link JoinedLabel#secondCounted()}).
     */
    public JoinedLabel onPrediction(PredictionEvent p, long windowMs) {
        if (first == null) {
            first = p;
        } else if (second == null) {
            second = p;
        } else {
            return null; // a request has at most a stable and a shadow answer; more are replays
        }
        if (label == null || expired) {
            return null;
        }
        if (Math.abs(label.timeMs() - p.timeMs()) > windowMs) {
            expired = !joined;
            return null;
        }
        if (joined) {
            return new JoinedLabel(label.requestId(), p.modelId(), label.label(), label.timeMs(), p, first, true);
        }
        joined = true;
        return joinedLabel();
    }

    /** The evidence of a joined label: the label with every answer known now. */
    public JoinedLabel joinedLabel() {
        return new JoinedLabel(label.requestId(), first.modelId(), label.label(), label.timeMs(), first, second);
    }

    /** When the state is dropped: true if it held a label that never met an answer. */
    public boolean unknownLabel() {
        return label != null && first == null;
    }
}
