package l0stream.model.gate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * L0-HC (Louizos et al.): a free log α per channel, the baseline Dep-L0 is compared with.
 * Initialised as Dep-L0's reference code does for its HC runs: log α ~ N(3, 0.01²), and, as
 * there, not clamped during training; or as Louizos et al. do ({@link GateInit#LOUIZOS}). Parameters are named {@code log_alpha<l>} by gated layer.
 */
public final class IndependentGates implements GateParameters {

    public static final double INIT_MEAN = 3.0;
    public static final double INIT_STD = 0.01;

    private final List<NDArray> logAlphas = new ArrayList<>();
    private final Map<String, NDArray> parameters = new LinkedHashMap<>();
    /** Every log α, layer after layer; the parameters are views of it. */
    private final NDArray storage;

    public IndependentGates(NDManager owner, int[] widths, GateNoise init) {
        this(owner, widths, INIT_MEAN, init);
    }

    /** log α ~ N({@code mean}, 0.01²). */
    public IndependentGates(NDManager owner, int[] widths, double mean, GateNoise init) {
        ParameterStorage layout = new ParameterStorage();
        for (int l = 0; l < widths.length; l++) {
            float[] v = new float[widths[l]];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (mean + INIT_STD * init.nextGaussian());
            }
            layout.add("log_alpha" + l, new Shape(widths[l]), v);
        }
        this.storage = layout.build(owner, parameters);
        logAlphas.addAll(parameters.values());
    }

    @Override
    public NDArray storage() {
        return storage;
    }

    @Override
    public List<NDArray> logAlphas(NDManager scope) {
        return Collections.unmodifiableList(logAlphas);
    }

    @Override
    public Map<String, NDArray> parameters() {
        return Collections.unmodifiableMap(parameters);
    }
}
