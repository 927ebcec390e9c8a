package l0stream.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;

import l0stream.model.artifact.TensorArchive.Tensor;

import java.nio.FloatBuffer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A physically smaller, ungated network: the result of pruning a {@link GatedNetwork}. Holds the
 * architecture (with the surviving widths) and its tensors on the heap, named as in the gated
 * network ({@code layer<i>.weight|bias}, {@code layer<i>.bn.gamma|beta|running_mean|running_var});
 * {@link #toBlock} turns it into an ordinary DJL {@link SequentialBlock}. Immutable.
 */
public final class CompactNetwork {

    private final Architecture architecture;
    private final Map<String, Tensor> tensors;

    public CompactNetwork(Architecture architecture, Map<String, Tensor> tensors) {
        for (LayerSpec l : architecture.layers()) {
            if (l.gated()) {
                throw new IllegalArgumentException("Invalid architecture for a compact network: layer " + l + " is gated");
            }
        }
        this.architecture = architecture;
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        checkTensors();
    }

    public Architecture architecture() {
        return architecture;
    }

    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public NetworkCost cost() {
        return NetworkCost.of(architecture);
    }

    /**
     * Builds the network as a DJL block, initialised in {@code manager} with this network's
     * weights: conv → [BatchNorm] → ReLU → [maxpool] … flatten → linear [→ ReLU] … linear.
     */
    public SequentialBlock toBlock(NDManager manager) {
        SequentialBlock net = new SequentialBlock();
        boolean flattened = false;
        for (LayerSpec l : architecture.layers()) {
            if (l instanceof LayerSpec.Conv c) {
                net.add(Conv2d.builder().setKernelShape(new Shape(c.kernel(), c.kernel()))
                        .optPadding(new Shape(c.padding(), c.padding())).setFilters(c.width())
                        .optBias(c.bias()).build());
                if (c.batchNorm()) {
                    net.add(BatchNorm.builder().optEpsilon(GatedNetwork.BN_EPSILON)
                            .optMomentum(GatedNetwork.BN_MOMENTUM).build());
                }
                net.add(Activation.reluBlock());
                if (c.pool()) {
                    net.add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)));
                }
            } else {
                LayerSpec.Dense d = (LayerSpec.Dense) l;
                if (!flattened) {
                    net.add(Blocks.batchFlattenBlock());
                    flattened = true;
                }
                net.add(Linear.builder().setUnits(d.width()).optBias(true).build());
                if (d.relu()) {
                    net.add(Activation.reluBlock());
                }
            }
        }
        net.initialize(manager, DataType.FLOAT32, new Shape(1, architecture.inputChannels(),
                architecture.inputHeight(), architecture.inputWidth()));
        int layer = -1;
        for (Block child : net.getChildren().values()) {
            String p;
            if (child instanceof Conv2d || child instanceof Linear) {
                layer++;
                p = "layer" + layer + ".";
                copy(child, "weight", p + "weight");
                if (child.getParameters().contains("bias")) {
                    copy(child, "bias", p + "bias");
                }
            } else if (child instanceof BatchNorm) {
                p = "layer" + layer + ".bn.";
                copy(child, "gamma", p + "gamma");
                copy(child, "beta", p + "beta");
                copy(child, "runningMean", p + "running_mean");
                copy(child, "runningVar", p + "running_var");
            }
        }
        return net;
    }

    private void copy(Block block, String parameter, String tensor) {
        Parameter param = block.getParameters().get(parameter);
        Tensor t = tensors.get(tensor);
        NDArray a = param.getArray();
        if (a.getShape().size() != t.data().length) {
            throw new IllegalStateException("Tensor " + tensor + " has " + t.data().length
                    + " values but the block expects shape " + a.getShape());
        }
        a.set(FloatBuffer.wrap(t.data()));
    }

    private void checkTensors() {
        int in = architecture.inputChannels();
        int[] spatial = architecture.inputSpatial();
        for (int i = 0; i < architecture.layers().size(); i++) {
            LayerSpec l = architecture.layers().get(i);
            String p = "layer" + i + ".";
            if (l instanceof LayerSpec.Conv c) {
                expect(p + "weight", (long) c.width() * in * c.kernel() * c.kernel());
                if (c.bias()) {
                    expect(p + "bias", c.width());
                }
                if (c.batchNorm()) {
                    for (String s : new String[] {"gamma", "beta", "running_mean", "running_var"}) {
                        expect(p + "bn." + s, c.width());
                    }
                }
            } else {
                expect(p + "weight", (long) l.width() * in * spatial[i]);
                expect(p + "bias", l.width());
            }
            in = l.width();
        }
    }

    private void expect(String name, long size) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("Invalid compact network: tensor " + name + " is missing");
        }
        if (t.data().length != size) {
            throw new IllegalArgumentException("Invalid compact network: tensor " + name + " has "
                    + t.data().length + " values, the architecture needs " + size);
        }
    }
}
