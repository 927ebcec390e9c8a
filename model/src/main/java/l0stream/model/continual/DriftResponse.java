package l0stream.model.continual;

import java.util.Locale;

/** What the learner does after a detected drift. */
public enum DriftResponse {
    /** Nothing: the detection is only reported. */
    NONE,
    /**
     * For {@code relax-records} records, the L0 penalty's λ is multiplied by {@code relax-lambda-factor}:
     * with less sparsity pressure, closed channels may reopen if the new data needs them.
     */
    RELAX;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static DriftResponse parse(String v, String key) {
        for (DriftResponse r : values()) {
            if (r.id().equals(v.trim())) {
                return r;
            }
        }
        throw new IllegalArgumentException("Invalid value " + v + " for " + key + ": expected none or relax");
    }
}
