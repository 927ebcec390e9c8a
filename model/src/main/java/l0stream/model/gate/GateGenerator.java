package l0stream.model.gate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Dep-L0's gate generator: an MLP that models the dependency between the gates of consecutive
 * layers. Starting from h₀ = ones(d) (d = 64), each gated layer l in chain order gets
 * h_l = log(100)·tanh(W_l h_{l−1} + b_l) and log α_l = h_l, so W_l has shape (C_l, C_{l−1}) with
 * C₀ = d. Forward order chains the layers first to last; backward order chains them last to
 * first (the first linear then maps d → C_last), and log α is returned in layer order either way.
 *
 * <p>Initialisation as in the reference code: W_l uniform in ±1/√fan_in (PyTorch's default for
 * {@code nn.Linear}), b_l ~ N(3, 0.01²). Only the first layer of the chain starts with every gate
 * open (its input is ones(d), so its pre-activations are 3 ± |W·1| ≤ 3 ± 1, log α ≈ 4.5). Later layers
 * see h_{l−1} ≈ ±4.6, so their pre-activations are about N(3, 2.64²) and ~9 % of their gates start
 * closed (log α ≤ log(−γ/ζ) ≈ −2.4): the reference init is not symmetric with L0-HC's log α = 3.
 * {@link GateInit#OPEN} scales the weights down so that every gate starts open.
 *
 * <p>Parameters are named {@code gen<j>.weight}/{@code gen<j>.bias} by chain position j.
 */
public final class GateGenerator implements GateParameters {

    public static final int DEFAULT_INPUT_DIM = 64;
    public static final double LOG_ALPHA_SCALE = Math.log(100);
    public static final double BIAS_INIT_MEAN = 3.0;
    public static final double BIAS_INIT_STD = 0.01;

    private final int inputDim;
    private final boolean backward;
    private final int[] chainToLayer;
    private final List<NDArray> weights = new ArrayList<>();
    private final List<NDArray> biases = new ArrayList<>();
    private final Map<String, NDArray> parameters = new LinkedHashMap<>();
    /** log(100) as an array, created once; only ever a right operand, so results stay in the caller's scope. */
    private final NDArray logAlphaScale;
    /** Every parameter's values, in {@link #parameters()} order; the parameters are views of it. */
    private final NDArray storage;
    /** h₀ = ones(1, d), created once: a constant, never part of a gradient. */
    private final NDArray chainInput;

    public GateGenerator(NDManager owner, int[] widths, boolean backward, int inputDim, GateNoise init) {
        this(owner, widths, backward, inputDim, 1.0, init);
    }

    /** @param weightScale multiplies the weights' init bound (1: the reference; see {@link GateInit#OPEN}) */
    public GateGenerator(NDManager owner, int[] widths, boolean backward, int inputDim, double weightScale, GateNoise init) {
        if (widths.length == 0) {
            throw new IllegalArgumentException("Invalid value [] for widths: a generator needs a gated layer");
        }
        this.inputDim = inputDim;
        this.backward = backward;
        this.chainToLayer = new int[widths.length];
        this.logAlphaScale = HardConcreteGate.constant(owner, LOG_ALPHA_SCALE);
        this.chainInput = owner.ones(new Shape(1, inputDim));
        int prev = inputDim;
        ParameterStorage layout = new ParameterStorage();
        for (int j = 0; j < widths.length; j++) {
            int layer = backward ? widths.length - 1 - j : j;
            chainToLayer[j] = layer;
            int out = widths[layer];
            double bound = weightScale / Math.sqrt(prev);
            float[] w = new float[out * prev];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) ((init.nextDouble() * 2 - 1) * bound);
            }
            float[] b = new float[out];
            for (int i = 0; i < out; i++) {
                b[i] = (float) (BIAS_INIT_MEAN + BIAS_INIT_STD * init.nextGaussian());
            }
            layout.add("gen" + j + ".weight", new Shape(out, prev), w).add("gen" + j + ".bias", new Shape(out), b);
            prev = out;
        }
        this.storage = layout.build(owner, parameters);
        for (int j = 0; j < widths.length; j++) {
            weights.add(parameters.get("gen" + j + ".weight"));
            biases.add(parameters.get("gen" + j + ".bias"));
        }
    }

    @Override
    public NDArray storage() {
        return storage;
    }

    public boolean backward() {
        return backward;
    }

    public int inputDim() {
        return inputDim;
    }

    @Override
    public List<NDArray> logAlphas(NDManager scope) {
        NDArray[] rows = chain(scope);
        NDArray[] out = new NDArray[rows.length];
        for (int l = 0; l < rows.length; l++) {
            out[l] = rows[l].reshape(-1);
        }
        return Collections.unmodifiableList(Arrays.asList(out));
    }

    /** The rows of {@link #chain} side by side, flattened once: one op instead of one reshape per layer. */
    @Override
    public NDArray concatenatedLogAlpha(NDManager scope) {
        return NDArrays.concat(new NDList(chain(scope)), 1).reshape(-1);
    }

    /** h_l of every gated layer as a (1, C_l) row, in layer order, owned by {@code scope}. */
    private NDArray[] chain(NDManager scope) {
        NDArray[] out = new NDArray[chainToLayer.length];
        NDArray h = chainInput;
        for (int j = 0; j < chainToLayer.length; j++) {
            NDArray pre = Linear.linear(h, weights.get(j), biases.get(j)).singletonOrThrow();
            if (j == 0) {
                pre.attach(scope); // its left operand is the generator's constant: move it, and so the chain, to scope
            }
            h = pre.tanh().mul(logAlphaScale);
            out[chainToLayer[j]] = h;
        }
        return out;
    }

    @Override
    public Map<String, NDArray> parameters() {
        return Collections.unmodifiableMap(parameters);
    }
}
