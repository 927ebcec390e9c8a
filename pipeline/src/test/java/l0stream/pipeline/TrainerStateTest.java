package l0stream.pipeline;

import l0stream.connectors.image.LabeledImage;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerStateTest {

    /**
     * Version 2 (before the continual learner), written field by field as the previous release did:
     * a job restored from such a checkpoint keeps its counters, offsets, pending batch and model, and
     * starts a fresh learner.
     */
    @Test
    void testBackwardCompatibility() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeByte(2);
        for (long v : new long[] {7, 640, 500, 600, 40, 64, 100}) {
            out.writeLong(v);
        }
        out.writeLong(3); // round
        out.writeLong(12); // roundRecords
        out.writeLong(90); // stepAtLastShard
        out.writeInt(2);
        out.write(new byte[] {9, 8}); // outstanding shard
        for (long v : new long[] {80, 5120, 4000, 5000}) {
            out.writeLong(v);
        }
        out.writeInt(1);
        out.writeUTF("images-0");
        out.writeLong(641);
        out.writeInt(1);
        out.writeInt(4); // label
        out.writeLong(1234L);
        out.writeBoolean(true);
        out.writeUTF("id-1");
        out.writeInt(1);
        out.writeInt(1);
        out.writeInt(2);
        out.writeFloat(0.5f);
        out.writeFloat(1f);
        out.writeInt(3);
        out.write(new byte[] {1, 2, 3}); // model checkpoint bytes
        TrainerState s = TrainerState.decode(bytes.toByteArray());
        assertEquals(7, s.snapshotVersion);
        assertEquals(640, s.trainedRecords);
        assertEquals(100, s.lastSnapshotStep);
        assertEquals(3, s.round);
        assertArrayEquals(new byte[] {9, 8}, s.outstandingShard);
        assertArrayEquals(new long[] {80, 5120, 4000, 5000}, s.snapshotTally);
        assertEquals(641L, s.nextOffsets.get("images-0"));
        assertEquals(new LabeledImage("id-1", 4, 1234L, 1, 1, 2, new float[] {0.5f, 1f}), s.pending.get(0));
        assertArrayEquals(new byte[] {1, 2, 3}, s.model);
        assertNull(s.learner, "a version-2 state has no learner: the trainer starts a fresh one");
    }

    @Test
    void testCurrentFormatRoundTripsTheLearnerState() throws IOException {
        TrainerState s = new TrainerState();
        s.snapshotVersion = 4;
        s.learner = new byte[] {1, 2, 3, 4, 5};
        s.model = new byte[] {6};
        s.nextOffsets.put("images-1", 10L);
        byte[] enc = s.encode();
        assertEquals(TrainerState.FORMAT_VERSION, enc[0]);
        TrainerState d = TrainerState.decode(enc);
        assertArrayEquals(s.learner, d.learner);
        assertArrayEquals(s.model, d.model);
        assertEquals(4, d.snapshotVersion);
        assertEquals(10L, d.nextOffsets.get("images-1"));
        byte[] newer = enc.clone();
        newer[0] = (byte) (TrainerState.FORMAT_VERSION + 1);
        IOException e = assertThrows(IOException.class, () -> TrainerState.decode(newer));
        assertTrue(e.getMessage().contains("newer"), e.getMessage());
    }
}
