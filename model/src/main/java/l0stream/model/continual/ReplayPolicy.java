package l0stream.model.continual;

import java.util.Locale;

/** Which past records the replay buffer keeps once it is full. */
public enum ReplayPolicy {
    /** Every record seen so far has the same chance to be in the buffer (Vitter's algorithm R). */
    RESERVOIR,
    /**
     * Equal shares per class: a record of a class with fewer images than the largest class evicts
     * a random image of a largest class; within a largest class, reservoir sampling. A class that
     * holds fewer images than the largest minus one holds every image of it ever seen.
     */
    CLASS_BALANCED;

    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static ReplayPolicy parse(String v, String key) {
        for (ReplayPolicy p : values()) {
            if (p.id().equals(v.trim())) {
                return p;
            }
        }
        throw new IllegalArgumentException("Invalid value " + v + " for " + key + ": expected reservoir or class-balanced");
    }
}
