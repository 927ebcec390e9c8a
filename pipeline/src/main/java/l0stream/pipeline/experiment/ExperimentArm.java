package l0stream.pipeline.experiment;

import l0stream.model.gate.GateKind;

import java.util.Locale;

/** One configuration compared: a gate parameterisation and its λ (0 for the dense baseline). */
public record ExperimentArm(GateKind gates, double lambda) {

    /** Display name: dense, L0-HC, Dep-L0 forward, Dep-L0 backward. */
    public String method() {
        return switch (gates) {
            case NONE -> "dense";
            case HC -> "L0-HC";
            case DEP_FORWARD -> "Dep-L0 forward";
            case DEP_BACKWARD -> "Dep-L0 backward";
        };
    }

    public String label() {
        return gates == GateKind.NONE ? method() : String.format(Locale.ROOT, "%s λ=%.0e", method(), lambda);
    }
}
