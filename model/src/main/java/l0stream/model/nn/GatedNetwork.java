package l0stream.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.pytorch.jni.JniUtils;

import l0stream.model.gate.GateKind;
import l0stream.model.gate.GateNoise;
import l0stream.model.gate.GateParameters;
import l0stream.model.gate.HardConcreteGate;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A CNN whose gated layers multiply each output channel/unit by a hard-concrete gate, placed after
 * BatchNorm (if any) and before ReLU, as in Dep-L0.
 *
 * <p>The multiplication is carried out after the ReLU and the max-pool of the layer, on a feature
 * map four times smaller. That computes the same function — z ≥ 0 per channel, so
 * ReLU(z·x) = z·ReLU(x) and maxpool(z·x) = z·maxpool(x) — and the same gradients for every
 * parameter: the two placements differ only in ∂/∂z where z is exactly 0, and there the clamp of
 * the hard-concrete sample passes no gradient on to log α. It cut the step time of gated LeNet by
 * about a tenth on a 2-core CPU.
 *
 * <p>The network is written functionally (named parameter tensors and DJL's functional ops) rather
 * than as nested blocks so that parameter names are stable ({@code layer<i>.weight},
 * {@code layer<i>.bias}, {@code layer<i>.bn.gamma|beta|running_mean|running_var}), optimiser
 * groups are routed by identity, and pruning can slice tensors exactly. The network owns a
 * sub-manager of the one it is created in; every array a method returns is owned by the
 * {@code scope} manager passed in. Not thread-safe.
 *
 * <p>Shapes: input (N, C, H, W) float32; logits (N, classes).
 */
public final class GatedNetwork implements AutoCloseable {

    public static final float BN_EPSILON = 1e-5f;
    /** DJL's convention: running = momentum·running + (1−momentum)·batch (PyTorch's 0.1). */
    static final float BN_MOMENTUM = 0.9f;

    private final Architecture architecture;
    private final GateKind gateKind;
    private final NDManager manager;
    private final Map<String, NDArray> weights = new LinkedHashMap<>();
    private final Map<String, NDArray> buffers = new LinkedHashMap<>();
    private final GateParameters gates;
    /** Where each gated layer's channels start in the concatenated gates, plus the total at the end. */
    private final long[] gateOffsets;
    /** The inner boundaries of {@link #gateOffsets}: where the concatenated gates split into layers. */
    private final long[] gateSplits;
    /** The penalty's constant parts; null without gates. */
    private final PenaltyTerms penaltyTerms;
    /** The hard-concrete's scalars, created once (a step used to allocate them anew); null without gates. */
    private final HardConcreteGate.Constants gateConstants;

    /**
     * Per gated layer l: whether its input is gated layer l−1 ({@code chained}), else its fixed input
     * width ({@code fixedIn}: the previous layer's width, or the image's channels for the first
     * layer), and {@code factors} k²·spatial.
     */
    private record PenaltyTerms(boolean[] chained, double[] fixedIn, double[] factors) {}

    /**
     * Result of a forward pass, owned by the caller's scope: logits and the log α of every gated
     * layer concatenated (null without gates), which {@link #penalty(NDManager, Forward, double)}
     * reuses.
     */
    public record Forward(NDArray logits, NDArray gateLogAlpha, long[] gateSplits) {
        /** log α per gated layer (views of {@link #gateLogAlpha}), in layer order; empty without gates. */
        public List<NDArray> logAlphas() {
            return gateLogAlpha == null ? List.of() : gateLogAlpha.split(gateSplits);
        }
    }

    /** The expected-L0 penalty: the term to add to the loss (a scalar owned by a step's scope) and its value. */
    public record Penalty(NDArray term, double value) {}

    /**
     * Builds the network with PyTorch's default initialisation (conv and linear weights and biases
     * uniform in ±1/√fan_in, BN γ=1, β=0) drawn from {@code init}.
     */
    public GatedNetwork(NDManager parent, Architecture architecture, GateKind gateKind, GateNoise init) {
        this(parent, architecture, gateKind, l0stream.model.gate.GateInit.REFERENCE, init);
    }

    /** @param start how the gate parameters start ({@link l0stream.model.gate.GateInit}) */
    public GatedNetwork(NDManager parent, Architecture architecture, GateKind gateKind,
                        l0stream.model.gate.GateInit start, GateNoise init) {
        this.architecture = architecture;
        this.gateKind = gateKind;
        this.manager = parent.newSubManager();
        manager.setName("gated-network");
        int in = architecture.inputChannels();
        int[] spatial = architecture.inputSpatial();
        List<LayerSpec> layers = architecture.layers();
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec l = layers.get(i);
            String p = "layer" + i + ".";
            if (l instanceof LayerSpec.Conv c) {
                int fanIn = in * c.kernel() * c.kernel();
                weights.put(p + "weight", uniform(new Shape(c.width(), in, c.kernel(), c.kernel()), fanIn, init));
                if (c.bias()) {
                    weights.put(p + "bias", uniform(new Shape(c.width()), fanIn, init));
                }
                if (c.batchNorm()) {
                    weights.put(p + "bn.gamma", trainable(manager.ones(new Shape(c.width()))));
                    weights.put(p + "bn.beta", trainable(manager.zeros(new Shape(c.width()))));
                    buffers.put(p + "bn.running_mean", manager.zeros(new Shape(c.width())));
                    buffers.put(p + "bn.running_var", manager.ones(new Shape(c.width())));
                }
            } else {
                int fanIn = in * spatial[i];
                weights.put(p + "weight", uniform(new Shape(l.width(), fanIn), fanIn, init));
                weights.put(p + "bias", uniform(new Shape(l.width()), fanIn, init));
            }
            in = l.width();
        }
        this.gates = gateKind.gated()
                ? GateParameters.create(gateKind, start, manager, architecture.gatedWidths(), init)
                : null;
        int[] gatedWidths = architecture.gatedWidths();
        this.gateOffsets = new long[gatedWidths.length + 1];
        for (int g = 0; g < gatedWidths.length; g++) {
            gateOffsets[g + 1] = gateOffsets[g] + gatedWidths[g];
        }
        this.gateSplits = java.util.Arrays.copyOfRange(gateOffsets, 1, Math.max(1, gateOffsets.length - 1));
        this.penaltyTerms = gates == null ? null : penaltyTerms(architecture, gatedWidths.length);
        this.gateConstants = gates == null ? null : HardConcreteGate.Constants.in(manager);
    }

    private static PenaltyTerms penaltyTerms(Architecture architecture, int nGated) {
        boolean[] chained = new boolean[nGated];
        double[] fixedIn = new double[nGated];
        double[] factors = new double[nGated];
        int[] spatial = architecture.inputSpatial();
        List<LayerSpec> layers = architecture.layers();
        int g = 0;
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec l = layers.get(i);
            if (!l.gated()) {
                continue;
            }
            chained[g] = i > 0 && layers.get(i - 1).gated();
            if (!chained[g]) {
                fixedIn[g] = i == 0 ? architecture.inputChannels() : layers.get(i - 1).width();
            }
            int k = l instanceof LayerSpec.Conv c ? c.kernel() : 1;
            factors[g] = (double) k * k * spatial[i];
            g++;
        }
        return new PenaltyTerms(chained, fixedIn, factors);
    }

    public Architecture architecture() {
        return architecture;
    }

    public GateKind gateKind() {
        return gateKind;
    }

    /** Weights trained by SGD (conv/linear weights and biases, BN γ and β), by name. */
    public Map<String, NDArray> weights() {
        return Collections.unmodifiableMap(weights);
    }

    /** Gate parameters trained by Adam, by name (empty without gates). */
    public Map<String, NDArray> gateParameters() {
        return gates == null ? Map.of() : gates.parameters();
    }

    /** The tensor the gate parameters are views of (see {@link GateParameters#storage()}); null if none. */
    public NDArray gateStorage() {
        return gates == null ? null : gates.storage();
    }

    /**
     * Writes {@code values} into {@code target} in place. Loading a state tensor must keep its
     * storage: gate parameters are views of one shared tensor, and replacing a view's data (DJL's
     * {@code set(Buffer)}) would cut it off from what the optimiser updates.
     */
    public static void assign(NDArray target, float[] values) {
        if (values.length != target.getShape().size()) {
            throw new IllegalArgumentException("Invalid values: " + values.length + " for shape " + target.getShape());
        }
        // autograd refuses in-place writes to parameters while it records, and recording is on by
        // default on a thread that has not yet closed a gradient collector (a task thread restoring)
        boolean recording = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager tmp = target.getManager().newSubManager()) {
            target.set(new NDIndex(":"), tmp.create(values, target.getShape()));
        } finally {
            JniUtils.setGradMode(recording);
        }
    }

    /** Non-trainable state (BN running statistics), by name. */
    public Map<String, NDArray> buffers() {
        return Collections.unmodifiableMap(buffers);
    }

    /** Every tensor of the model's state, by unique name: what a checkpoint must hold. */
    public Map<String, NDArray> state() {
        Map<String, NDArray> all = new LinkedHashMap<>(weights);
        all.putAll(buffers);
        gateParameters().forEach((k, v) -> all.put("gates." + k, v));
        return all;
    }

    /** The manager that owns the parameters. */
    public NDManager manager() {
        return manager;
    }

    /**
     * Forward pass. In training mode each (example, channel) gets a fresh hard-concrete sample
     * drawn from {@code noise} and BatchNorm uses and updates batch statistics; otherwise the
     * deterministic test-time gates and running statistics are used and {@code noise} may be null.
     */
    public Forward forward(NDManager scope, NDArray x, boolean training, GateNoise noise) {
        long n = x.getShape().get(0);
        List<LayerSpec> layers = architecture.layers();
        NDArray h = x;
        // Every gated layer's gates in one go: log α concatenated, one noise draw, one hard-concrete
        // sample (or test-time gate) over all channels, split per layer. Element-wise, so exactly the
        // per-layer math, in a fifth of the native calls (forward and backward): with gates as small
        // as LeNet's the calls, not the arithmetic, are what a gated step costs over a dense one.
        NDList z = null;
        NDArray all = null;
        if (gates != null) {
            all = gates.concatenatedLogAlpha(scope);
            z = (training
                    ? HardConcreteGate.sample(gateConstants, all, HardConcreteGate.logisticNoise(scope, n, gateOffsets[gateOffsets.length - 1], noise.nextLong()))
                    : HardConcreteGate.deterministic(gateConstants, all).reshape(1, -1))
                    .split(gateSplits, 1);
        }
        int g = 0;
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec l = layers.get(i);
            String p = "layer" + i + ".";
            if (l instanceof LayerSpec.Conv c) {
                h = Conv2d.conv2d(h, weights.get(p + "weight"), weights.get(p + "bias"),
                        new Shape(1, 1), new Shape(c.padding(), c.padding()), new Shape(1, 1), 1)
                        .singletonOrThrow();
                if (c.batchNorm()) {
                    h = BatchNorm.batchNorm(h, buffers.get(p + "bn.running_mean"),
                            buffers.get(p + "bn.running_var"), weights.get(p + "bn.gamma"),
                            weights.get(p + "bn.beta"), 1, BN_MOMENTUM, BN_EPSILON, training)
                            .singletonOrThrow();
                }
            } else {
                if (h.getShape().dimension() > 2) {
                    h = h.reshape(n, -1);
                }
                h = Linear.linear(h, weights.get(p + "weight"), weights.get(p + "bias")).singletonOrThrow();
            }
            boolean relu = !(l instanceof LayerSpec.Dense d) || d.relu();
            if (relu) {
                h = Activation.relu(h);
            }
            if (l instanceof LayerSpec.Conv c && c.pool()) {
                h = Pool.maxPool2d(h, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);
            }
            if (l.gated() && z != null) {
                NDArray zl = z.get(g++); // (n, width) in training, (1, width) at test time
                // Applied after ReLU and pooling: see the class comment for why that is exact.
                h = h.mul(l instanceof LayerSpec.Conv ? zl.reshape(zl.getShape().get(0), l.width(), 1, 1) : zl);
            }
        }
        return new Forward(h, all, gateSplits);
    }

    /**
     * The expected-L0 penalty weighted by parameter count, as in the reference code: for each
     * gated layer l, λ·k²·E[open_in]·E[open_out] with E[open] = Σ_j P(z_j ≠ 0). E[open_in] is the
     * previous layer's expected open count (its actual width if it is not gated; the image's
     * channel count for the first layer), times the flattened spatial size when a dense layer
     * follows a conv. Ungated layers (the classifier) add nothing. Returns a scalar in scope.
     */
    public NDArray penalty(NDManager scope, List<NDArray> logAlphas, double lambda) {
        return gates == null ? scope.zeros(new Shape()) : penalty(scope, GateParameters.concat(scope, logAlphas), lambda).term();
    }

    /**
     * {@link #penalty(NDManager, List, double)} of a forward pass's log α, with its value (computed
     * here in double, so reading it back from the term would be one native call for nothing).
     */
    public Penalty penalty(NDManager scope, Forward forward, double lambda) {
        return gates == null ? new Penalty(scope.zeros(new Shape()), 0) : penalty(scope, forward.gateLogAlpha(), lambda);
    }

    /**
     * The penalty of every gated layer's log α concatenated ({@code all}, owned by {@code scope}).
     *
     * <p>It is a function of a few hundred numbers, so its value and its gradient are computed here
     * from one read of log α and of P(open): as tensor ops (P(open), per-layer sums, the
     * products) it took about twenty native calls forward and as many backward, more than a tenth of
     * what gates add to a LeNet step. It enters autograd as Σ_j a_j·g_j with g = ∂R/∂a held
     * constant, plus the constant R − Σ_j a_j·g_j: the value is R, the gradient exactly g.
     * With P_l = Σ_{j∈l} p_j, p_j = σ(a_j + shift) and R = Σ_l λ f_l in_l P_l (in_l = P_{l−1} when
     * chained): ∂R/∂P_l = λ f_l in_l + λ f_{l+1} P_{l+1} [l+1 chained], ∂R/∂a_j = ∂R/∂P_l·p_j(1−p_j).
     */
    private Penalty penalty(NDManager scope, NDArray all, double lambda) {
        float[] a = all.toFloatArray();
        // P(open) by PyTorch's float sigmoid, off the graph: p(1−p) near p = 1 is where float loses
        // digits, and taking PyTorch's p keeps the gradient what autograd's sigmoid backward gives.
        float[] p = HardConcreteGate.probabilityNonZero(gateConstants, all.stopGradient()).toFloatArray();
        int nGated = gateOffsets.length - 1;
        double[] open = new double[nGated];
        for (int g = 0; g < nGated; g++) {
            for (int j = (int) gateOffsets[g]; j < gateOffsets[g + 1]; j++) {
                open[g] += p[j];
            }
        }
        double[] f = penaltyTerms.factors();
        boolean[] chained = penaltyTerms.chained();
        double value = 0;
        double[] dOpen = new double[nGated];
        for (int g = 0; g < nGated; g++) {
            double in = chained[g] ? open[g - 1] : penaltyTerms.fixedIn()[g];
            value += lambda * f[g] * in * open[g];
            dOpen[g] += lambda * f[g] * in;
            if (chained[g]) {
                dOpen[g - 1] += lambda * f[g] * open[g];
            }
        }
        float[] grad = new float[a.length];
        double linear = 0;
        for (int g = 0; g < nGated; g++) {
            for (int j = (int) gateOffsets[g]; j < gateOffsets[g + 1]; j++) {
                grad[j] = (float) dOpen[g] * ((1 - p[j]) * p[j]);
                linear += (double) a[j] * grad[j];
            }
        }
        return new Penalty(all.mul(scope.create(grad)).sum().add(scope.create((float) (value - linear))), value);
    }

    /** Deterministic test-time gate values per gated layer (all ones without gates). */
    public float[][] testGates() {
        int[] widths = architecture.gatedWidths();
        float[][] out = new float[widths.length][];
        try (NDManager scope = manager.newSubManager()) {
            List<NDArray> las = gates == null ? null : gates.logAlphas(scope);
            for (int g = 0; g < widths.length; g++) {
                out[g] = las == null ? ones(widths[g])
                        : HardConcreteGate.deterministic(scope, las.get(g)).toFloatArray();
            }
        }
        return out;
    }

    /** E[open] = Σ P(z ≠ 0) per gated layer (the widths themselves without gates). */
    public double[] expectedOpen() {
        int[] widths = architecture.gatedWidths();
        double[] out = new double[widths.length];
        try (NDManager scope = manager.newSubManager()) {
            List<NDArray> las = gates == null ? null : gates.logAlphas(scope);
            for (int g = 0; g < widths.length; g++) {
                out[g] = las == null ? widths[g]
                        : HardConcreteGate.probabilityNonZero(scope, las.get(g)).sum().getFloat();
            }
        }
        return out;
    }

    /** Channels/units whose test-time gate is non-zero, per gated layer. */
    public int[] openChannels() {
        float[][] z = testGates();
        int[] out = new int[z.length];
        for (int g = 0; g < z.length; g++) {
            for (float v : z[g]) {
                out[g] += v > 0 ? 1 : 0;
            }
        }
        return out;
    }

    /** Expected FLOPs and params of the gated network: every layer at its E[open] width. */
    public NetworkCost expectedCost() {
        double[] widths = java.util.Arrays.stream(architecture.widths()).asDoubleStream().toArray();
        double[] open = expectedOpen();
        int[] gated = architecture.gatedLayers();
        for (int g = 0; g < gated.length; g++) {
            widths[gated[g]] = open[g];
        }
        return NetworkCost.of(architecture, widths);
    }

    private NDArray uniform(Shape shape, int fanIn, GateNoise init) {
        double bound = 1.0 / Math.sqrt(fanIn);
        float[] v = new float[(int) shape.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((init.nextDouble() * 2 - 1) * bound);
        }
        return trainable(manager.create(v, shape));
    }

    private static NDArray trainable(NDArray a) {
        a.setRequiresGradient(true);
        return a;
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }

    /** Names of the tensors in {@link #state()} in a stable order (for checkpoint layouts). */
    public List<String> stateNames() {
        return new ArrayList<>(state().keySet());
    }

    @Override
    public void close() {
        manager.close();
    }
}
