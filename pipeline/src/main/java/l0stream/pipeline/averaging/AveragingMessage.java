package l0stream.pipeline.averaging;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What data-parallel trainers and their averaging coordinator say to each other, in our own
 * versioned binary format (no Java serialization of our objects):
 *
 * <pre>
 * u8 format version (1), u8 kind (1 shard, 2 merged, 3 leave), then the record's fields in order:
 * i32 as int, i64 as long, offsets as i32 n + n × (UTF topic-partition, i64 next offset),
 * parameters as i32 length + bytes ({@link l0stream.model.train.ModelParameters}).
 * </pre>
 */
public sealed interface AveragingMessage {

    int FORMAT_VERSION = 1;

    /** Training progress of one trainer (cumulative since the job started) or of the merged model. */
    record Tally(long steps, long records, long correct, long scored, Map<String, Long> offsets) {
        public static final Tally ZERO = new Tally(0, 0, 0, 0, Map.of());

        public Tally plus(Tally o) {
            Map<String, Long> off = new LinkedHashMap<>(offsets);
            off.putAll(o.offsets);
            return new Tally(steps + o.steps, records + o.records, correct + o.correct, scored + o.scored, off);
        }
    }

    /**
     * A trainer's parameters at the end of its round {@code round} (rounds count from 1).
     *
     * @param roundRecords records it trained since it last applied a merge: its weight in the mean
     * @param tally        its cumulative progress
     * @param snapshotTally the merged tally at the last snapshot it cut (subtask 0's final shard only,
     *                      so the final snapshot's accuracy covers the same interval as the others)
     */
    record Shard(int subtask, long round, long roundRecords, Tally tally, Tally snapshotTally, byte[] parameters)
            implements AveragingMessage {}

    /** The weighted mean of round {@code round}'s shards, with the summed tally of all trainers. */
    record Merged(long round, Tally tally, byte[] parameters) implements AveragingMessage {}

    /** Trainer {@code subtask} reached the end of its input: later rounds do not wait for it. */
    record Leave(int subtask) implements AveragingMessage {}

    static byte[] encode(AveragingMessage m) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(FORMAT_VERSION);
            if (m instanceof Shard s) {
                out.writeByte(1);
                out.writeInt(s.subtask());
                out.writeLong(s.round());
                out.writeLong(s.roundRecords());
                writeTally(out, s.tally());
                writeTally(out, s.snapshotTally());
                writeBytes(out, s.parameters());
            } else if (m instanceof Merged g) {
                out.writeByte(2);
                out.writeLong(g.round());
                writeTally(out, g.tally());
                writeBytes(out, g.parameters());
            } else if (m instanceof Leave l) {
                out.writeByte(3);
                out.writeInt(l.subtask());
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static AveragingMessage decode(byte[] data) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            int version = in.readUnsignedByte();
            if (version != FORMAT_VERSION) {
                throw new IOException("averaging message has format version " + version + ", this job reads "
                        + FORMAT_VERSION);
            }
            int kind = in.readUnsignedByte();
            return switch (kind) {
                case 1 -> new Shard(in.readInt(), in.readLong(), in.readLong(), readTally(in), readTally(in), readBytes(in));
                case 2 -> new Merged(in.readLong(), readTally(in), readBytes(in));
                case 3 -> new Leave(in.readInt());
                default -> throw new IOException("unknown averaging message kind " + kind);
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void writeTally(DataOutputStream out, Tally t) throws IOException {
        out.writeLong(t.steps());
        out.writeLong(t.records());
        out.writeLong(t.correct());
        out.writeLong(t.scored());
        out.writeInt(t.offsets().size());
        for (Map.Entry<String, Long> e : t.offsets().entrySet()) {
            out.writeUTF(e.getKey());
            out.writeLong(e.getValue());
        }
    }

    static Tally readTally(DataInputStream in) throws IOException {
        long steps = in.readLong(), records = in.readLong(), correct = in.readLong(), scored = in.readLong();
        int n = in.readInt();
        Map<String, Long> off = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            off.put(in.readUTF(), in.readLong());
        }
        return new Tally(steps, records, correct, scored, off);
    }

    static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    static byte[] readBytes(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return b;
    }
}
