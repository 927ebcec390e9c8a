package l0stream.model.nn;

/**
 * One weight layer of a gated CNN. Convolutions are stride 1 with square kernels; an optional
 * 2×2 max-pool follows. A dense layer flattens a convolutional input (NCHW, channel-major).
 */
public sealed interface LayerSpec permits LayerSpec.Conv, LayerSpec.Dense {

    /** Output channels (conv) or units (dense). */
    int width();

    /** Whether the layer's output channels/units carry a hard-concrete gate. */
    boolean gated();

    LayerSpec withWidth(int width);

    /**
     * conv(k×k, padding) → [BatchNorm] → [gate] → ReLU → [maxpool 2×2]. A conv with BatchNorm has
     * no bias (BN's β plays that role).
     */
    record Conv(int width, int kernel, int padding, boolean batchNorm, boolean pool, boolean gated)
            implements LayerSpec {
        public Conv {
            check(width, "width");
            check(kernel, "kernel");
            if (padding < 0) {
                throw new IllegalArgumentException("Invalid value " + padding + " for padding: must be >= 0");
            }
        }

        public boolean bias() {
            return !batchNorm;
        }

        @Override
        public Conv withWidth(int w) {
            return new Conv(w, kernel, padding, batchNorm, pool, gated);
        }
    }

    /** linear → [gate] → [ReLU]. */
    record Dense(int width, boolean gated, boolean relu) implements LayerSpec {
        public Dense {
            check(width, "width");
        }

        @Override
        public Dense withWidth(int w) {
            return new Dense(w, gated, relu);
        }
    }

    private static void check(int v, String field) {
        if (v < 1) {
            throw new IllegalArgumentException("Invalid value " + v + " for " + field + ": must be >= 1");
        }
    }
}
