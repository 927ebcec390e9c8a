package l0stream.pipeline;

import l0stream.connectors.image.DecodedRecord;

import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The job tests' injected failure: throws once, after the first completed checkpoint and at least
 * {@code after} records, in one subtask (or any). The flags are JVM-wide, since a restarted task
 * gets a new instance; {@link #reset()} before each job that uses it.
 */
public final class FailOnceAfterCheckpoint extends RichMapFunction<DecodedRecord, DecodedRecord> implements CheckpointListener {
    private static final long serialVersionUID = 1L;
    public static final AtomicBoolean FAILED = new AtomicBoolean();
    static final AtomicBoolean CHECKPOINTED = new AtomicBoolean();
    static final AtomicLong SEEN = new AtomicLong();
    private final long after;
    private final int subtask;

    /** @param subtask the subtask that fails, or -1 for whichever first sees enough records */
    public FailOnceAfterCheckpoint(long after, int subtask) {
        this.after = after;
        this.subtask = subtask;
    }

    public static void reset() {
        FAILED.set(false);
        CHECKPOINTED.set(false);
        SEEN.set(0);
    }

    @Override
    public DecodedRecord map(DecodedRecord r) {
        if ((subtask < 0 || getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == subtask)
                && SEEN.incrementAndGet() >= after && CHECKPOINTED.get() && FAILED.compareAndSet(false, true)) {
            throw new IllegalStateException("injected failure (test)");
        }
        return r;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        CHECKPOINTED.set(true);
    }
}
