package l0stream.model.gate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

import java.util.List;
import java.util.Map;

/**
 * Where the log α of every gated layer comes from. Implementations own their parameters (in the
 * manager they were created with); the gate optimiser (Adam) trains exactly {@link #parameters()}.
 */
public interface GateParameters {

    /**
     * log α per gated layer, in layer order, each of shape (C_l). The arrays are either owned by
     * {@code scope} or are the implementation's own parameters: callers must not close them and
     * must keep a {@code scope} array as the left operand of any op on them.
     */
    List<NDArray> logAlphas(NDManager scope);

    /**
     * log α of every gated layer concatenated in layer order, shape (ΣC_l), owned by {@code scope}:
     * what a training step samples all gates from at once. The default concatenates
     * {@link #logAlphas}; a parameterisation that computes log α can build it directly in fewer ops.
     */
    default NDArray concatenatedLogAlpha(NDManager scope) {
        return concat(scope, logAlphas(scope));
    }

    /** Per-layer log α concatenated into one vector owned by {@code scope} (a layer's own may be a parameter). */
    static NDArray concat(NDManager scope, List<NDArray> logAlphas) {
        NDArray all = NDArrays.concat(new NDList(logAlphas.toArray(new NDArray[0])), 0);
        // cat's result belongs to its first operand's manager, which is the parameters' for L0-HC
        all.attach(scope);
        return all;
    }

    /** Trainable gate parameters by stable name. */
    Map<String, NDArray> parameters();

    /**
     * The one contiguous tensor every parameter is a view of, in {@link #parameters()} order (see
     * {@link ParameterStorage}), so an optimiser may update them all in one call; null when the
     * parameters are separate tensors.
     */
    default NDArray storage() {
        return null;
    }

    /** Builds the parameterisation of {@code kind} for gated layers of the given widths. */
    static GateParameters create(GateKind kind, NDManager owner, int[] widths, GateNoise init) {
        return create(kind, GateInit.REFERENCE, owner, widths, init);
    }

    /** As above, started as {@code start} says ({@link GateInit#checkFits} must hold). */
    static GateParameters create(GateKind kind, GateInit start, NDManager owner, int[] widths, GateNoise init) {
        start.checkFits(kind, "gate-init");
        double scale = start == GateInit.OPEN ? GateInit.OPEN_WEIGHT_SCALE : 1.0;
        switch (kind) {
            case DEP_FORWARD:
                return new GateGenerator(owner, widths, false, GateGenerator.DEFAULT_INPUT_DIM, scale, init);
            case DEP_BACKWARD:
                return new GateGenerator(owner, widths, true, GateGenerator.DEFAULT_INPUT_DIM, scale, init);
            case HC:
                return start == GateInit.LOUIZOS
                        ? new IndependentGates(owner, widths, Math.log((1 - GateInit.LOUIZOS_DROP_RATE) / GateInit.LOUIZOS_DROP_RATE), init)
                        : new IndependentGates(owner, widths, init);
            default:
                throw new IllegalArgumentException("Invalid value " + kind.id() + " for gates: has no gate parameters");
        }
    }
}
