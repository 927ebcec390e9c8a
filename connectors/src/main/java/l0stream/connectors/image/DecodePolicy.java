package l0stream.connectors.image;

import java.util.Locale;

/**
 * How incoming images become the model's input (C×H×W, pixels/255).
 *
 * <ul>
 *   <li>{@code size}: {@code resize} (default) scales any other size bilinearly to H×W;
 *       {@code exact} dead-letters it as {@code wrong-size}.
 *   <li>{@code channels}: {@code convert} (default) turns RGB into luminance
 *       (0.299 R + 0.587 G + 0.114 B) when C = 1 and replicates gray when C = 3; alpha is always
 *       dropped; {@code exact} dead-letters a mismatch as {@code wrong-channels}.
 *   <li>{@code maxBytes}: larger values are {@code oversize} (default 1 MiB);
 *       {@code maxPixels}: larger declared images are {@code oversize} before decoding
 *       (default 4096×4096), so a small crafted file cannot exhaust memory.
 *   <li>{@code classes}: labels must lie in [0, classes).
 * </ul>
 */
public record DecodePolicy(int channels, int height, int width, int classes, SizePolicy size,
                           ChannelPolicy channelPolicy, int maxBytes, long maxPixels) implements java.io.Serializable {

    public enum SizePolicy { RESIZE, EXACT }

    public enum ChannelPolicy { CONVERT, EXACT }

    public DecodePolicy {
        check(channels == 1 || channels == 3, channels, "channels", "must be 1 or 3");
        check(height >= 1 && height <= 4096, height, "height", "must be in [1, 4096]");
        check(width >= 1 && width <= 4096, width, "width", "must be in [1, 4096]");
        check(classes >= 1, classes, "classes", "must be >= 1");
        check(maxBytes >= 1, maxBytes, "max-bytes", "must be >= 1");
        check(maxPixels >= 1, maxPixels, "max-pixels", "must be >= 1");
        if (size == null || channelPolicy == null) {
            throw new IllegalArgumentException("Invalid value null for size/channel policy");
        }
    }

    /** Fashion-MNIST: 1×28×28, 10 classes, resize and convert. */
    public static DecodePolicy fashionMnist() {
        return new DecodePolicy(1, 28, 28, 10, SizePolicy.RESIZE, ChannelPolicy.CONVERT, 1 << 20, 4096L * 4096);
    }

    /** CIFAR-like: 3×32×32, 10 classes, resize and convert. */
    public static DecodePolicy rgb32() {
        return new DecodePolicy(3, 32, 32, 10, SizePolicy.RESIZE, ChannelPolicy.CONVERT, 1 << 20, 4096L * 4096);
    }

    public DecodePolicy withSize(SizePolicy s) {
        return new DecodePolicy(channels, height, width, classes, s, channelPolicy, maxBytes, maxPixels);
    }

    public DecodePolicy withChannelPolicy(ChannelPolicy c) {
        return new DecodePolicy(channels, height, width, classes, size, c, maxBytes, maxPixels);
    }

    public DecodePolicy withMaxBytes(int m) {
        return new DecodePolicy(channels, height, width, classes, size, channelPolicy, m, maxPixels);
    }

    public static SizePolicy parseSize(String v, String field) {
        try {
            return SizePolicy.valueOf(v.trim().toUpperCase(Locale.ROOT));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Invalid value " + v + " for " + field + ": expected resize or exact", e);
        }
    }

    private static void check(boolean ok, Object v, String field, String rule) {
        if (!ok) {
            throw new IllegalArgumentException("Invalid value " + v + " for " + field + ": " + rule);
        }
    }
}
