package l0stream.model.continual;

import l0stream.model.gate.GateNoise;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * The forgetting monitor's probe: a uniform reservoir sample of the whole stream so far, set aside
 * and never trained on. Scoring the current model on it says how well the model still knows the
 * past (retention accuracy), not just the recent records that prequential accuracy sees.
 *
 * <p>A record the probe takes is held out for good, even when a later record displaces it; the
 * probe takes the first {@code capacity} records, then record n with probability capacity ÷ n, so
 * over a stream of N records about capacity × (1 + ln(N ÷ capacity)) records are never trained on.
 */
public final class HeldOutProbe {
    private final ExampleStore store;
    private long seen;

    public HeldOutProbe(int capacity, int imageValues) {
        this.store = new ExampleStore(capacity, imageValues);
    }

    public int size() {
        return store.size();
    }

    public int capacity() {
        return store.capacity();
    }

    /** @return true if the probe took the record (the caller must then not train on it) */
    public boolean offer(byte[] px, int label, GateNoise rnd) {
        if (store.capacity() == 0) {
            return false;
        }
        seen++;
        if (store.size() < store.capacity()) {
            store.add(px, label);
            return true;
        }
        long j = rnd.nextLong(seen);
        if (j < store.capacity()) {
            store.put((int) j, px, label);
            return true;
        }
        return false;
    }

    int label(int slot) {
        return store.label(slot);
    }

    void copyFloats(int slot, float[] out, int offset) {
        store.copyFloats(slot, out, offset);
    }

    void write(DataOutput out) throws IOException {
        out.writeLong(seen);
        store.write(out);
    }

    void read(DataInput in) throws IOException {
        seen = in.readLong();
        store.read(in);
    }
}
