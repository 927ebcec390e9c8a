package l0stream.model.gate;

import java.util.Locale;

/**
 * How gate parameters start, so that a comparison of gate kinds can start them alike (issue 15).
 *
 * <ul>
 *   <li>{@code reference}: as in the Dep-L0 authors' code. L0-HC: log α ~ N(3, 0.01²), never clamped.
 *       Dep-L0: generator weights at PyTorch's default bound ±1/√fan_in, biases ~ N(3, 0.01²); after the
 *       first layer of the chain the pre-activations are about N(3, 2.64²), so ~9 % of those gates start
 *       closed.</li>
 *   <li>{@code louizos} (L0-HC only): as in Louizos et al.'s code, log α ~ N(log((1−p)/p), 0.01²) with
 *       drop rate p = 0.5 (so N(0, 0.01²)), clamped to [log 0.01, log 100] = [−4.6, 4.6] after every
 *       step.</li>
 *   <li>{@code open} (Dep-L0 only): generator weights at {@value #OPEN_WEIGHT_SCALE}× the default bound,
 *       so every pre-activation is about N(3, 0.5²): every gate starts open (log α ≈ 4.5 ± 0.1, the
 *       first layer's value), and tanh′ is what the reference gives its first layer. The ablation that
 *       measures the reference init's asymmetry.</li>
 * </ul>
 */
public enum GateInit {
    REFERENCE("reference"),
    LOUIZOS("louizos"),
    OPEN("open");

    /** Louizos et al.'s initial drop rate. */
    public static final double LOUIZOS_DROP_RATE = 0.5;
    /** Louizos et al.'s bound on |log α| after each step: log 100. */
    public static final double LOUIZOS_CLAMP = Math.log(100);
    /** 0.5 ÷ 2.644: the default bound gives pre-activations a standard deviation of ≈ 2.644 (4.58·√(1/3)). */
    public static final double OPEN_WEIGHT_SCALE = 0.189;

    private final String id;

    GateInit(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    public static GateInit parse(String value, String field) {
        if (value != null) {
            for (GateInit g : values()) {
                if (g.id.equals(value.trim().toLowerCase(Locale.ROOT))) {
                    return g;
                }
            }
        }
        throw new IllegalArgumentException("Invalid value " + value + " for " + field + ": expected reference, louizos or open");
    }

    /** Whether this init applies to {@code kind}; the error names {@code field}. */
    public void checkFits(GateKind kind, String field) {
        if (this == LOUIZOS && kind != GateKind.HC || this == OPEN && kind != GateKind.DEP_FORWARD && kind != GateKind.DEP_BACKWARD) {
            throw new IllegalArgumentException("Invalid value " + id + " for " + field + " with gates " + kind.id() + ": "
                    + (this == LOUIZOS ? "louizos applies to hc gates only" : "open applies to dep-forward and dep-backward only"));
        }
    }
}
