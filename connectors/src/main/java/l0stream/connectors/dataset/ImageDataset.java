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

    /** A dataset split in two: what is kept for the stream and what is held out from it. */
    public record Split(ImageDataset kept, ImageDataset heldOut) {}

    /**
     * Holds {@code n} images out, drawn by a seeded shuffle; both parts keep the original order. The
     * held-out part is named {@code <name>-validation}: a validation split carved from the training
     * data, so that choices (learning rates) are never made on the test split.
     */
    public Split holdOut(int n, long seed) {
        if (n < 1 || n >= count) {
            throw new IllegalArgumentException("cannot hold out " + n + " of " + count + " images of " + name);
        }
        boolean[] out = new boolean[count];
        int[] order = shuffledOrder(new java.util.Random(seed));
        for (int i = 0; i < n; i++) {
            out[order[i]] = true;
        }
        return new Split(subset(name, out, false), subset(name + "-validation", out, true));
    }

    private ImageDataset subset(String subsetName, boolean[] mask, boolean keep) {
        int size = imageBytes();
        int m = 0;
        for (boolean b : mask) {
            m += b == keep ? 1 : 0;
        }
        byte[] px = new byte[m * size];
        int[] y = new int[m];
        int k = 0;
        for (int i = 0; i < count; i++) {
            if (mask[i] == keep) {
                System.arraycopy(pixels, i * size, px, k * size, size);
                y[k++] = labels[i];
            }
        }
        return new ImageDataset(subsetName, m, height, width, channels, px, y);
    }

    /** A copy of image {@code i}'s pixels. */
    public byte[] image(int i) {
        byte[] out = new byte[imageBytes()];
        System.arraycopy(pixels, i * imageBytes(), out, 0, out.length);
        return out;
    }
}
