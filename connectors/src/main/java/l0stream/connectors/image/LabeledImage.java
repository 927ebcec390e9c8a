package l0stream.connectors.image;

import java.util.Arrays;

/**
 * One decoded training example: pixels as float32 in [0, 1], channel-major (C×H×W), and its
 * label. Immutable: the pixel array is copied in and out.
 */
public record LabeledImage(String id, int label, long timestampMs, int channels, int height, int width,
                           float[] pixels) {
    public LabeledImage {
        if (channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("Invalid shape " + channels + "x" + height + "x" + width);
        }
        if (pixels.length != channels * height * width) {
            throw new IllegalArgumentException("Invalid pixels: " + pixels.length + " values for shape "
                    + channels + "x" + height + "x" + width);
        }
        pixels = pixels.clone();
    }

    @Override
    public float[] pixels() {
        return pixels.clone();
    }

    /** Copies the pixels into {@code dest} at {@code offset} without an intermediate copy. */
    public void copyPixelsTo(float[] dest, int offset) {
        System.arraycopy(pixels, 0, dest, offset, pixels.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LabeledImage l && l.label == label && l.timestampMs == timestampMs
                && java.util.Objects.equals(l.id, id) && l.channels == channels && l.height == height
                && l.width == width && Arrays.equals(l.pixels, pixels);
    }

    @Override
    public int hashCode() {
        return 31 * java.util.Objects.hash(id, label, timestampMs, channels, height, width) + Arrays.hashCode(pixels);
    }

    @Override
    public String toString() {
        return "LabeledImage[id=" + id + ", label=" + label + ", " + channels + "x" + height + "x" + width + "]";
    }
}
