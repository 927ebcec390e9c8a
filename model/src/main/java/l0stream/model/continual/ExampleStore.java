package l0stream.model.continual;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * A fixed number of slots, each one example: its pixels as 8-bit values (C×H×W, value = pixel ×
 * 255) and its label. 8 bits, not floats, because the job's decoder makes every pixel k/255: the
 * byte round-trips exactly and the store costs one byte per pixel (784 B per Fashion-MNIST image)
 * in memory and in every checkpoint.
 */
final class ExampleStore {
    private final int capacity;
    private final int imageValues;
    private final byte[] pixels;
    private final int[] labels;
    private int size;

    ExampleStore(int capacity, int imageValues) {
        this.capacity = capacity;
        this.imageValues = imageValues;
        this.pixels = new byte[Math.multiplyExact(capacity, imageValues)];
        this.labels = new int[capacity];
    }

    int capacity() {
        return capacity;
    }

    int size() {
        return size;
    }

    int imageValues() {
        return imageValues;
    }

    int label(int slot) {
        return labels[slot];
    }

    /** Appends; the caller checks {@code size() < capacity()}. */
    int add(byte[] px, int label) {
        put(size, px, label);
        return size++;
    }

    void put(int slot, byte[] px, int label) {
        System.arraycopy(px, 0, pixels, slot * imageValues, imageValues);
        labels[slot] = label;
    }

    /** Writes slot's pixels as floats in [0, 1] into {@code out} at {@code offset}: exactly what the decoder made. */
    void copyFloats(int slot, float[] out, int offset) {
        int base = slot * imageValues;
        for (int i = 0; i < imageValues; i++) {
            out[offset + i] = (pixels[base + i] & 0xff) * (1f / 255f);
        }
    }

    byte[] pixels(int slot) {
        byte[] px = new byte[imageValues];
        System.arraycopy(pixels, slot * imageValues, px, 0, imageValues);
        return px;
    }

    /** Pixels in [0, 1] → 8-bit values (exact for the k/255 values the decoder produces). */
    static byte[] quantize(float[] x, int offset, int n) {
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
            float v = x[offset + i];
            out[i] = (byte) Math.round((v < 0 ? 0 : v > 1 ? 1 : v) * 255f);
        }
        return out;
    }

    void write(DataOutput out) throws IOException {
        out.writeInt(size);
        for (int s = 0; s < size; s++) {
            out.writeShort(labels[s]);
        }
        out.write(pixels, 0, size * imageValues);
    }

    /** Reads what {@link #write} wrote; keeps the first {@code capacity} examples if there were more. */
    void read(DataInput in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            throw new IOException("Invalid example count " + n + " in learner state");
        }
        int[] l = new int[n];
        for (int s = 0; s < n; s++) {
            l[s] = in.readUnsignedShort();
        }
        size = Math.min(n, capacity);
        System.arraycopy(l, 0, labels, 0, size);
        in.readFully(pixels, 0, size * imageValues);
        in.skipBytes((n - size) * imageValues);
    }
}
