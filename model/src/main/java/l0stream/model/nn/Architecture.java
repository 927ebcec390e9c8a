package l0stream.model.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The shape of a gated CNN: input (C, H, W) and an ordered list of weight layers, the last of
 * which is the (ungated) classifier. Immutable; {@link #withWidths} gives the compact variant.
 */
public record Architecture(String name, int inputChannels, int inputHeight, int inputWidth,
                           List<LayerSpec> layers) {

    /** VGG16 configuration "D"; 0 marks a max-pool after the preceding conv. */
    public static final int[] VGG16_D = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0,
        512, 512, 512, 0, 512, 512, 512, 0};

    public Architecture {
        layers = List.copyOf(layers);
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("Invalid value [] for layers: at least the classifier is needed");
        }
        if (layers.get(layers.size() - 1).gated()) {
            throw new IllegalArgumentException("Invalid value gated for the classifier layer: it must not be gated");
        }
        boolean seenDense = false;
        for (LayerSpec l : layers) {
            if (l instanceof LayerSpec.Conv && seenDense) {
                throw new IllegalArgumentException("Invalid layer order for " + name + ": conv after dense");
            }
            seenDense |= l instanceof LayerSpec.Dense;
        }
        int[] hw = {inputHeight, inputWidth};
        for (LayerSpec l : layers) {
            if (l instanceof LayerSpec.Conv c) {
                hw = convOut(hw, c);
                if (hw[0] < 1 || hw[1] < 1) {
                    throw new IllegalArgumentException("Invalid architecture " + name
                            + ": the feature map vanishes at a " + c);
                }
            }
        }
    }

    /** LeNet-5-Caffe for 28×28×1: conv 20, conv 50 (5×5, each + maxpool), fc 500, fc 10. */
    public static Architecture lenet5Caffe() {
        return new Architecture("lenet5", 1, 28, 28, List.of(
                new LayerSpec.Conv(20, 5, 0, false, true, true),
                new LayerSpec.Conv(50, 5, 0, false, true, true),
                new LayerSpec.Dense(500, true, true),
                new LayerSpec.Dense(10, false, false)));
    }

    /** VGG16 ("D") for 32×32×3, BatchNorm after every conv, one linear classifier as in Dep-L0. */
    public static Architecture vgg16() {
        return vgg("vgg16", VGG16_D, 1.0, 10);
    }

    /** VGG16's layout at 1/8 of its widths: the same depth, small enough for CPU tests. */
    public static Architecture vggNarrow() {
        return vgg("vgg-narrow", VGG16_D, 0.125, 10);
    }

    /**
     * A VGG-style net: 3×3 convs (padding 1) + BatchNorm + gate + ReLU, 0 in {@code config} marks
     * a 2×2 max-pool, widths scaled by {@code widthMultiplier}, then one linear classifier.
     */
    public static Architecture vgg(String name, int[] config, double widthMultiplier, int classes) {
        if (!(widthMultiplier > 0)) {
            throw new IllegalArgumentException("Invalid value " + widthMultiplier + " for widthMultiplier: must be > 0");
        }
        List<LayerSpec> layers = new ArrayList<>();
        for (int i = 0; i < config.length; i++) {
            if (config[i] == 0) {
                continue;
            }
            boolean pool = i + 1 < config.length && config[i + 1] == 0;
            int w = Math.max(1, (int) Math.round(config[i] * widthMultiplier));
            layers.add(new LayerSpec.Conv(w, 3, 1, true, pool, true));
        }
        layers.add(new LayerSpec.Dense(classes, false, false));
        return new Architecture(name, 3, 32, 32, layers);
    }

    /** Resolves {@code lenet5 | vgg16 | vgg-narrow}. */
    public static Architecture named(String network, String field) {
        if (network != null) {
            switch (network.trim()) {
                case "lenet5":
                case "lenet":
                    return lenet5Caffe();
                case "vgg16":
                    return vgg16();
                case "vgg-narrow":
                    return vggNarrow();
                default:
                    break;
            }
        }
        throw new IllegalArgumentException("Invalid value " + network + " for " + field
                + ": expected one of lenet5, vgg16, vgg-narrow");
    }

    public int numClasses() {
        return layers.get(layers.size() - 1).width();
    }

    public int inputSize() {
        return inputChannels * inputHeight * inputWidth;
    }

    /** Indices (into {@link #layers}) of the gated layers, in order. */
    public int[] gatedLayers() {
        return java.util.stream.IntStream.range(0, layers.size())
                .filter(i -> layers.get(i).gated()).toArray();
    }

    /** Widths of the gated layers, in order. */
    public int[] gatedWidths() {
        return Arrays.stream(gatedLayers()).map(i -> layers.get(i).width()).toArray();
    }

    /** The same network with each layer's width replaced (same length as {@link #layers}). */
    public Architecture withWidths(int[] widths) {
        if (widths.length != layers.size()) {
            throw new IllegalArgumentException("Invalid widths " + Arrays.toString(widths)
                    + ": expected " + layers.size() + " entries");
        }
        List<LayerSpec> out = new ArrayList<>();
        for (int i = 0; i < widths.length; i++) {
            out.add(layers.get(i).withWidth(widths[i]));
        }
        return new Architecture(name, inputChannels, inputHeight, inputWidth, out);
    }

    public int[] widths() {
        return layers.stream().mapToInt(LayerSpec::width).toArray();
    }

    /**
     * Fan-in multiplier of each layer's input: the spatial size of the flattened feature map for
     * the first dense layer (after a conv, or on the input image itself), 1 otherwise. Used for the penalty and for costs.
     */
    public int[] inputSpatial() {
        int[] out = new int[layers.size()];
        int[] hw = {inputHeight, inputWidth};
        boolean prevSpatial = true; // the input image is a feature map too: a dense layer on it sees C·H·W
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec l = layers.get(i);
            out[i] = (l instanceof LayerSpec.Dense && prevSpatial) ? hw[0] * hw[1] : 1;
            if (l instanceof LayerSpec.Conv c) {
                hw = convOut(hw, c);
            }
            prevSpatial = l instanceof LayerSpec.Conv;
        }
        return out;
    }

    /** Output spatial size (H·W) of each conv before its pool; 1 for dense layers. */
    public int[] outputPositions() {
        int[] out = new int[layers.size()];
        int[] hw = {inputHeight, inputWidth};
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) instanceof LayerSpec.Conv c) {
                int h = hw[0] + 2 * c.padding() - c.kernel() + 1;
                int w = hw[1] + 2 * c.padding() - c.kernel() + 1;
                out[i] = h * w;
                hw = convOut(hw, c);
            } else {
                out[i] = 1;
            }
        }
        return out;
    }

    private static int[] convOut(int[] hw, LayerSpec.Conv c) {
        int h = hw[0] + 2 * c.padding() - c.kernel() + 1;
        int w = hw[1] + 2 * c.padding() - c.kernel() + 1;
        return c.pool() ? new int[] {h / 2, w / 2} : new int[] {h, w};
    }
}
