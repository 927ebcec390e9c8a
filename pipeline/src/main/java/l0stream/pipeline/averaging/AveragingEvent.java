package l0stream.pipeline.averaging;

import org.apache.flink.runtime.operators.coordination.OperatorEvent;

/**
 * The envelope Flink's RPC carries between a trainer subtask and its coordinator. Flink
 * serializes {@link OperatorEvent}s itself; ours holds only bytes in our own format
 * ({@link AveragingMessage}), so nothing of ours depends on Java serialization. Its size is bounded
 * by Flink's RPC frame ({@code pekko.framesize}, 10 MiB by default): the job refuses networks
 * whose parameters do not fit (see {@code PipelineConfig}).
 */
public final class AveragingEvent implements OperatorEvent {
    private static final long serialVersionUID = 1L;

    private final byte[] payload;

    public AveragingEvent(AveragingMessage message) {
        this(AveragingMessage.encode(message));
    }

    private AveragingEvent(byte[] payload) {
        this.payload = payload;
    }

    /** An event carrying an already encoded {@link AveragingMessage}. */
    public static AveragingEvent of(byte[] encoded) {
        return new AveragingEvent(encoded);
    }

    public AveragingMessage message() {
        return AveragingMessage.decode(payload);
    }

    public int size() {
        return payload.length;
    }
}
