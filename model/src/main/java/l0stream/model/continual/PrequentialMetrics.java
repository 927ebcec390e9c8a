package l0stream.model.continual;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * Test-then-train accuracy three ways, because a running mean over the whole stream hides a drift
 * for a long time: over the last W records (windowed), with a fading factor α (each older record
 * counts α times less), and per class within the same window (NaN for a class absent from it).
 */
public final class PrequentialMetrics {
    private final int window;
    private final int numClasses;
    private final double alpha;
    /** Ring of the last W records: label, and bit 7 set when scored right. */
    private final byte[] ring;
    private int pos;
    private int filled;
    private int windowCorrect;
    private final int[] classScored;
    private final int[] classCorrect;
    private double fadedCorrect;
    private double fadedCount;
    private long correct;
    private long scored;

    public PrequentialMetrics(int window, int numClasses, double alpha) {
        if (numClasses > 127) {
            throw new IllegalArgumentException("at most 127 classes, got " + numClasses);
        }
        this.window = window;
        this.numClasses = numClasses;
        this.alpha = alpha;
        this.ring = new byte[window];
        this.classScored = new int[numClasses];
        this.classCorrect = new int[numClasses];
    }

    public void record(int label, boolean right) {
        pushWindow(label, right);
        if (right) {
            correct++;
        }
        scored++;
        fadedCorrect = alpha * fadedCorrect + (right ? 1 : 0);
        fadedCount = alpha * fadedCount + 1;
    }

    /** Appends one record to the window, evicting the oldest once it holds W. */
    private void pushWindow(int label, boolean right) {
        if (filled == window) {
            int old = ring[pos];
            int oldLabel = old & 0x7f;
            classScored[oldLabel]--;
            if ((old & 0x80) != 0) {
                classCorrect[oldLabel]--;
                windowCorrect--;
            }
        } else {
            filled++;
        }
        ring[pos] = (byte) (label | (right ? 0x80 : 0));
        pos = (pos + 1) % window;
        classScored[label]++;
        if (right) {
            classCorrect[label]++;
            windowCorrect++;
        }
    }

    public double windowed() {
        return filled == 0 ? Double.NaN : windowCorrect / (double) filled;
    }

    public double fading() {
        return fadedCount == 0 ? Double.NaN : fadedCorrect / fadedCount;
    }

    /** Accuracy on the records of class {@code c} among the last W; NaN if there are none. */
    public double classWindowed(int c) {
        return classScored[c] == 0 ? Double.NaN : classCorrect[c] / (double) classScored[c];
    }

    public double cumulative() {
        return scored == 0 ? Double.NaN : correct / (double) scored;
    }

    public long scored() {
        return scored;
    }

    public int numClasses() {
        return numClasses;
    }

    /** The window oldest first (so the bytes do not depend on where the ring starts), then the totals. */
    void write(DataOutput out) throws IOException {
        out.writeInt(filled);
        int start = filled == window ? pos : 0;
        for (int i = 0; i < filled; i++) {
            out.writeByte(ring[(start + i) % window]);
        }
        out.writeDouble(fadedCorrect);
        out.writeDouble(fadedCount);
        out.writeLong(correct);
        out.writeLong(scored);
    }

    /** Reads what {@link #write} wrote; a smaller window keeps the newest records. */
    void read(DataInput in) throws IOException {
        java.util.Arrays.fill(classScored, 0);
        java.util.Arrays.fill(classCorrect, 0);
        windowCorrect = 0;
        filled = 0;
        pos = 0;
        int f = in.readInt();
        for (int i = 0; i < f; i++) {
            int v = in.readUnsignedByte();
            int label = v & 0x7f;
            if (label >= numClasses) {
                throw new IOException("Invalid class " + label + " in learner state");
            }
            pushWindow(label, (v & 0x80) != 0);
        }
        fadedCorrect = in.readDouble();
        fadedCount = in.readDouble();
        correct = in.readLong();
        scored = in.readLong();
    }
}
