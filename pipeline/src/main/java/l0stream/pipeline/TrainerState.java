package l0stream.pipeline;

import l0stream.connectors.image.LabeledImage;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The continual trainer's checkpointed operator state, as one versioned byte array (no Java
 * serialization): counters, source offsets, the partly filled micro-batch, and the model's
 * {@link l0stream.model.train.TrainingCheckpoint} (weights, gates, optimiser state, step, RNG).
 *
 * <pre>
 * u8 format version (3; versions 1 and 2 are read too: 1 without averaging, 1 and 2 without a learner)
 * i64 snapshotVersion, trainedRecords, correct, scored, intervalCorrect, intervalScored, lastSnapshotStep
 * (version 2) i64 round, roundRecords, stepAtLastShard, i32 length + bytes of the outstanding shard (0: none),
 *             i64 × 4 snapshotTally (steps, records, correct, scored)
 * (version 3) i32 length + bytes of the continual learner's state (0: none; see ContinualLearner#writeState)
 * i32 n, then n × (UTF topic-partition, i64 next offset)
 * i32 m, then m pending images × (i32 label, i64 ts, bool hasId [UTF id], i32 c, h, w, f32[c·h·w])
 * i32 length, then the model checkpoint bytes
 * </pre>
 */
public final class TrainerState {

    public static final int FORMAT_VERSION = 3;

    long snapshotVersion;
    long trainedRecords;
    long correct;
    long scored;
    long intervalCorrect;
    long intervalScored;
    long lastSnapshotStep;
    /** Data-parallel only: merges applied so far. */
    long round;
    /** Data-parallel only: records trained since the last shard was sent (this trainer's weight in the next merge). */
    long roundRecords;
    /** Data-parallel only: the local step at which the last shard was sent. */
    long stepAtLastShard;
    /** Data-parallel only: the shard of round {@code round + 1} (encoded), sent and not merged yet; null if none. */
    byte[] outstandingShard;
    /** Data-parallel, subtask 0: the merged tally at the last snapshot (steps, records, correct, scored). */
    final long[] snapshotTally = new long[4];
    final Map<String, Long> nextOffsets = new LinkedHashMap<>();
    final List<LabeledImage> pending = new ArrayList<>();
    /** The continual learner's state (replay buffer, probe, detector, metrics, random stream); null: fresh learner. */
    byte[] learner;
    byte[] model;

    byte[] encode() {
        try {
            // Sized up front: the model and learner parts are megabytes, and a stream that grows by
            // doubling copied them several times on the task thread at every checkpoint.
            long pixels = 0;
            for (LabeledImage img : pending) {
                pixels += img.pixels().length;
            }
            long estimate = 1024 + (outstandingShard == null ? 0 : outstandingShard.length)
                    + (learner == null ? 0 : learner.length) + model.length + 64L * nextOffsets.size()
                    + 64L * pending.size() + 4 * pixels;
            ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) Math.min(estimate, Integer.MAX_VALUE - 8));
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(FORMAT_VERSION);
            for (long v : new long[] {snapshotVersion, trainedRecords, correct, scored, intervalCorrect, intervalScored, lastSnapshotStep}) {
                out.writeLong(v);
            }
            out.writeLong(round);
            out.writeLong(roundRecords);
            out.writeLong(stepAtLastShard);
            out.writeInt(outstandingShard == null ? 0 : outstandingShard.length);
            if (outstandingShard != null) {
                out.write(outstandingShard);
            }
            for (long v : snapshotTally) {
                out.writeLong(v);
            }
            out.writeInt(learner == null ? 0 : learner.length);
            if (learner != null) {
                out.write(learner);
            }
            out.writeInt(nextOffsets.size());
            for (Map.Entry<String, Long> e : nextOffsets.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeLong(e.getValue());
            }
            out.writeInt(pending.size());
            for (LabeledImage img : pending) {
                out.writeInt(img.label());
                out.writeLong(img.timestampMs());
                out.writeBoolean(img.id() != null);
                if (img.id() != null) {
                    out.writeUTF(img.id());
                }
                out.writeInt(img.channels());
                out.writeInt(img.height());
                out.writeInt(img.width());
                for (float f : img.pixels()) {
                    out.writeFloat(f);
                }
            }
            out.writeInt(model.length);
            out.write(model);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static TrainerState decode(byte[] data) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
        int version = in.readUnsignedByte();
        if (version < 1 || version > FORMAT_VERSION) {
            throw new IOException("Trainer state has format version " + version + ", this job reads version "
                    + FORMAT_VERSION + " (state written by a newer l0stream?)");
        }
        TrainerState s = new TrainerState();
        s.snapshotVersion = in.readLong();
        s.trainedRecords = in.readLong();
        s.correct = in.readLong();
        s.scored = in.readLong();
        s.intervalCorrect = in.readLong();
        s.intervalScored = in.readLong();
        s.lastSnapshotStep = in.readLong();
        if (version >= 2) {
            s.round = in.readLong();
            s.roundRecords = in.readLong();
            s.stepAtLastShard = in.readLong();
            int n2 = in.readInt();
            if (n2 > 0) {
                s.outstandingShard = new byte[n2];
                in.readFully(s.outstandingShard);
            }
            for (int i = 0; i < s.snapshotTally.length; i++) {
                s.snapshotTally[i] = in.readLong();
            }
        }
        if (version >= 3) {
            int n3 = in.readInt();
            if (n3 > 0) {
                s.learner = new byte[n3];
                in.readFully(s.learner);
            }
        }
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            s.nextOffsets.put(in.readUTF(), in.readLong());
        }
        int m = in.readInt();
        for (int i = 0; i < m; i++) {
            int label = in.readInt();
            long ts = in.readLong();
            String id = in.readBoolean() ? in.readUTF() : null;
            int c = in.readInt(), h = in.readInt(), w = in.readInt();
            float[] px = new float[c * h * w];
            for (int k = 0; k < px.length; k++) {
                px[k] = in.readFloat();
            }
            s.pending.add(new LabeledImage(id, label, ts, c, h, w, px));
        }
        s.model = new byte[in.readInt()];
        in.readFully(s.model);
        return s;
    }
}
