package l0stream.model.continual;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Locale;

/**
 * A change detector over the prequential error stream (one value per scored record: 1 wrong,
 * 0 right). Only an <em>increase</em> of the error is a drift: a model that gets better is not
 * news. After a detection the detector starts afresh on the data that follows.
 */
public interface DriftDetector {

    /** Which detector, as the {@code drift-detector} key names it. */
    enum Kind {
        NONE, PAGE_HINKLEY, ADWIN;

        public String id() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        public static Kind parse(String v, String key) {
            for (Kind k : values()) {
                if (k.id().equals(v.trim())) {
                    return k;
                }
            }
            throw new IllegalArgumentException("Invalid value " + v + " for " + key + ": expected none, page-hinkley or adwin");
        }
    }

    /** Adds one observation; true if it completes a detection. */
    boolean add(double error);

    void write(DataOutput out) throws IOException;

    void read(DataInput in) throws IOException;

    /** A fresh detector of {@code config}'s kind, or null for {@link Kind#NONE}. */
    static DriftDetector create(ContinualConfig config) {
        return switch (config.driftDetector()) {
            case NONE -> null;
            case PAGE_HINKLEY -> new PageHinkley(config.phDelta(), config.phThreshold(), config.phMinRecords(), PageHinkley.DEFAULT_ALPHA);
            case ADWIN -> new Adwin(config.adwinDelta(), Adwin.DEFAULT_CLOCK, Adwin.DEFAULT_MIN_SUBWINDOW);
        };
    }
}
