package l0stream.model.continual;

import l0stream.model.gate.GateNoise;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Experience replay: a bounded buffer of past training records (8-bit pixels + label), filled by
 * {@link ReplayPolicy}, from which each micro-batch draws extra examples. Every random choice comes
 * from the caller's {@link GateNoise}, so the buffer's content is a pure function of the stream
 * and the seed, and survives a checkpoint exactly.
 */
public final class ReplayBuffer {
    private final ReplayPolicy policy;
    private final int numClasses;
    private final ExampleStore store;
    /** Records offered so far (reservoir), and per class (class-balanced). */
    private long seen;
    private final long[] seenPerClass;
    private final int[] count;

    public ReplayBuffer(int capacity, ReplayPolicy policy, int numClasses, int imageValues) {
        this.policy = policy;
        this.numClasses = numClasses;
        this.store = new ExampleStore(capacity, imageValues);
        this.seenPerClass = new long[numClasses];
        this.count = new int[numClasses];
    }

    public int capacity() {
        return store.capacity();
    }

    public int size() {
        return store.size();
    }

    public ReplayPolicy policy() {
        return policy;
    }

    /** Images of class {@code c} in the buffer. */
    public int count(int c) {
        return c >= 0 && c < numClasses ? count[c] : 0;
    }

    /** Records of class {@code c} offered so far. */
    public long seen(int c) {
        return seenPerClass[c];
    }

    public int label(int slot) {
        return store.label(slot);
    }

    public byte[] pixels(int slot) {
        return store.pixels(slot);
    }

    /** Offers one trained record; the policy decides whether it is kept and what it replaces. */
    public void offer(byte[] px, int label, GateNoise rnd) {
        if (label < 0 || label >= numClasses) {
            throw new IllegalArgumentException("label " + label + " outside [0, " + numClasses + ")");
        }
        if (store.capacity() == 0) {
            return;
        }
        seen++;
        seenPerClass[label]++;
        if (store.size() < store.capacity()) {
            store.add(px, label);
            count[label]++;
            return;
        }
        if (policy == ReplayPolicy.RESERVOIR) {
            long j = rnd.nextLong(seen);
            if (j < store.capacity()) {
                replace((int) j, px, label);
            }
            return;
        }
        int largest = largestClass(rnd);
        if (count[label] < count[largest]) {
            replace(nthOfClass(largest, rnd.nextInt(count[largest])), px, label);
        } else {
            // the record's class is (one of) the largest: reservoir sampling within the class
            long j = rnd.nextLong(seenPerClass[label]);
            if (j < count[label]) {
                replace(nthOfClass(label, (int) j), px, label);
            }
        }
    }

    /** The class with the most images; ties broken at random so no class is always the one to shrink. */
    private int largestClass(GateNoise rnd) {
        int max = 0;
        int ties = 0;
        int pick = -1;
        for (int c = 0; c < numClasses; c++) {
            if (count[c] > max) {
                max = count[c];
                ties = 1;
                pick = c;
            } else if (count[c] == max && max > 0) {
                ties++;
                if (rnd.nextInt(ties) == 0) {
                    pick = c;
                }
            }
        }
        return pick;
    }

    private int nthOfClass(int c, int n) {
        for (int s = 0; s < store.size(); s++) {
            if (store.label(s) == c && n-- == 0) {
                return s;
            }
        }
        throw new IllegalStateException("class " + c + " has fewer than " + (n + 1) + " images");
    }

    private void replace(int slot, byte[] px, int label) {
        count[store.label(slot)]--;
        store.put(slot, px, label);
        count[label]++;
    }

    /**
     * Draws {@code k} distinct slots uniformly (k ≤ size; Floyd's algorithm, so O(k) random numbers),
     * in a deterministic order.
     */
    public int[] sample(int k, GateNoise rnd) {
        int n = store.size();
        if (k > n) {
            throw new IllegalArgumentException("cannot draw " + k + " of " + n + " replay images");
        }
        java.util.LinkedHashSet<Integer> chosen = new java.util.LinkedHashSet<>();
        for (int j = n - k; j < n; j++) {
            int t = rnd.nextInt(j + 1);
            if (!chosen.add(t)) {
                chosen.add(j);
            }
        }
        int[] out = new int[k];
        int i = 0;
        for (int s : chosen) {
            out[i++] = s;
        }
        return out;
    }

    void copyFloats(int slot, float[] out, int offset) {
        store.copyFloats(slot, out, offset);
    }

    void write(DataOutput out) throws IOException {
        out.writeLong(seen);
        out.writeInt(numClasses);
        for (long s : seenPerClass) {
            out.writeLong(s);
        }
        store.write(out);
    }

    void read(DataInput in) throws IOException {
        seen = in.readLong();
        int classes = in.readInt();
        if (classes != numClasses) {
            throw new IOException("Replay buffer in the state has " + classes + " classes, the network " + numClasses);
        }
        for (int c = 0; c < numClasses; c++) {
            seenPerClass[c] = in.readLong();
        }
        store.read(in);
        java.util.Arrays.fill(count, 0);
        for (int s = 0; s < store.size(); s++) {
            count[store.label(s)]++;
        }
    }
}
