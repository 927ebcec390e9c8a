package l0stream.pipeline.experiment;

import l0stream.model.continual.ContinualConfig;
import l0stream.model.continual.DriftResponse;
import l0stream.model.gate.GateInit;
import l0stream.model.gate.GateKind;

import java.util.Locale;

/**
 * One configuration compared: a gate parameterisation, its λ (0 for the dense baseline), and how
 * the continual learner runs (the same {@link ContinualConfig} the job takes).
 *
 * @param variant what the arm adds to plain fine-tuning, for display ("" for none, "+replay", ...)
 * @param gateInit how its gates start ({@link GateInit}; reference unless a study says otherwise)
 * @param gateLr   its gate learning rate, or NaN for the run's {@code --gate-lr}
 */
public record ExperimentArm(GateKind gates, double lambda, ContinualConfig continual, String variant, GateInit gateInit,
                            double gateLr) {

    public ExperimentArm(GateKind gates, double lambda, ContinualConfig continual, String variant) {
        this(gates, lambda, continual, variant, GateInit.REFERENCE, Double.NaN);
    }

    /** Plain fine-tuning (no replay, no probe, no detector): the stationary comparison of gate kinds. */
    public ExperimentArm(GateKind gates, double lambda) {
        this(gates, lambda, ContinualConfig.fineTuning(), "");
    }

    /** Plain fine-tuning with its own gate init and gate learning rate (NaN: the run's). */
    public ExperimentArm(GateKind gates, double lambda, GateInit gateInit, double gateLr) {
        this(gates, lambda, ContinualConfig.fineTuning(), "", gateInit, gateLr);
    }

    /** This arm's gate learning rate, given the run's default. */
    public double gateLr(double runDefault) {
        return Double.isNaN(gateLr) ? runDefault : gateLr;
    }

    /**
     * Parses an arm of {@code experiment drift --arms}: a gate kind, then optional {@code +replay}
     * (the job's default buffer), {@code +relax} (drift-response relax); the job's default detector
     * and probe always run, so that every arm reports detections and retention.
     */
    public static ExperimentArm parse(String spec, double lambda, ContinualConfig jobDefaults, String key) {
        String[] parts = spec.trim().split("\\+");
        GateKind g = GateKind.parse(parts[0].trim(), key);
        ContinualConfig c = jobDefaults.withReplay(0, 0, jobDefaults.replayPolicy())
                .withDetector(jobDefaults.driftDetector(), DriftResponse.NONE);
        StringBuilder v = new StringBuilder();
        for (int i = 1; i < parts.length; i++) {
            switch (parts[i].trim()) {
                case "replay" -> c = c.withReplay(jobDefaults.replayCapacity(), jobDefaults.replayRatio(), jobDefaults.replayPolicy());
                case "reservoir" -> c = c.withReplay(jobDefaults.replayCapacity(), jobDefaults.replayRatio(),
                        l0stream.model.continual.ReplayPolicy.RESERVOIR);
                case "relax" -> c = c.withDetector(c.driftDetector(), DriftResponse.RELAX);
                default -> throw new IllegalArgumentException("Invalid value " + spec + " for " + key
                        + ": expected a gate kind (dep-forward, dep-backward, hc, none) followed by +replay, +reservoir or +relax");
            }
            v.append('+').append(parts[i].trim());
        }
        return new ExperimentArm(g, g == GateKind.NONE ? 0 : lambda, c, v.toString());
    }

    /** Display name: dense, L0-HC, Dep-L0 forward, Dep-L0 backward, with the variant. */
    public String method() {
        String base = switch (gates) {
            case NONE -> "dense";
            case HC -> "L0-HC";
            case DEP_FORWARD -> "Dep-L0 forward";
            case DEP_BACKWARD -> "Dep-L0 backward";
        };
        return variant.isEmpty() ? base : base + " " + variant;
    }

    public String label() {
        if (gates == GateKind.NONE) {
            return method();
        }
        return String.format(Locale.ROOT, "%s λ=%.0e", method(), lambda)
                + (gateInit == GateInit.REFERENCE ? "" : " init=" + gateInit.id())
                + (Double.isNaN(gateLr) ? "" : String.format(Locale.ROOT, " glr=%.0e", gateLr));
    }
}
