package l0stream.model.nn;

import java.util.List;

/**
 * FLOPs and parameter counts of an architecture for given (possibly expected, fractional) layer
 * widths.
 *
 * <p>FLOPs count the multiply-accumulates of conv and linear layers (the convention of the L0
 * papers); BatchNorm, ReLU and pooling are not counted, and a bias add is not a FLOP. Parameters
 * are weights, biases and BatchNorm's γ and β (running statistics are buffers, not parameters).
 */
public record NetworkCost(double flops, double params) {

    /** Cost of {@code arch} at its own widths. */
    public static NetworkCost of(Architecture arch) {
        return of(arch, java.util.Arrays.stream(arch.widths()).asDoubleStream().toArray());
    }

    /** Cost of {@code arch} when layer i has {@code widths[i]} output channels/units. */
    public static NetworkCost of(Architecture arch, double[] widths) {
        List<LayerSpec> layers = arch.layers();
        int[] spatialIn = arch.inputSpatial();
        int[] positions = arch.outputPositions();
        double in = arch.inputChannels();
        double flops = 0;
        double params = 0;
        for (int i = 0; i < layers.size(); i++) {
            double out = widths[i];
            LayerSpec l = layers.get(i);
            if (l instanceof LayerSpec.Conv c) {
                double weights = (double) c.kernel() * c.kernel() * in * out;
                flops += weights * positions[i];
                params += weights + (c.bias() ? out : 0) + (c.batchNorm() ? 2 * out : 0);
            } else {
                double fanIn = in * spatialIn[i];
                flops += fanIn * out;
                params += fanIn * out + out;
            }
            in = out;
        }
        return new NetworkCost(flops, params);
    }
}
