package l0stream.connectors.dataset;

/**
 * Images held in memory as 8-bit pixels, H×W×C interleaved per image, with labels. Immutable
 * by convention (the arrays are not exposed for writing).
 */
public record ImageDataset(String name, int count, int height, int width, int channels, byte[] pixels, int[] labels) {

    public ImageDataset {
        if ((long) count * height * width * channels != pixels.length || labels.length != count) {
            throw new IllegalArgumentException("Invalid dataset " + name + ": " + pixels.length + " pixel bytes and "
                    + labels.length + " labels for " + count + " images of " + height + "x" + width + "x" + channels);
        }
    }

    public int imageBytes() {
        return height * width * channels;
    }

    /** The indices 0..count−1 in a random order (Fisher–Yates, drawing from {@code rnd}). */
    public int[] shuffledOrder(java.util.Random rnd) {
        int[] order = new int[count];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        for (int i = order.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** A copy of image {@code i}'s pixels. */
    public byte[] image(int i) {
        byte[] out = new byte[imageBytes()];
        System.arraycopy(pixels, i * imageBytes(), out, 0, out.length);
        return out;
    }
}
