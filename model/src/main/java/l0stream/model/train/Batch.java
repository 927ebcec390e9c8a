package l0stream.model.train;

/**
 * A micro-batch: {@code size} images as float32 NCHW in {@code images} (values as the network
 * expects them, e.g. pixels scaled to [0, 1]) and their class labels.
 */
public record Batch(float[] images, int[] labels) {
    public Batch {
        if (labels.length == 0) {
            throw new IllegalArgumentException("Invalid value 0 for batch size: must be >= 1");
        }
        if (images.length % labels.length != 0) {
            throw new IllegalArgumentException("Invalid batch: " + images.length
                    + " pixel values are not a whole number of images for " + labels.length + " labels");
        }
    }

    public int size() {
        return labels.length;
    }
}
