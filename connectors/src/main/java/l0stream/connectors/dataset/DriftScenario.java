package l0stream.connectors.dataset;

import java.util.Locale;
import java.util.Random;

/**
 * How the replayed distribution changes at the switch point (a record count):
 * {@code stationary} never changes; {@code class-incremental} sends classes 0–4 only, then 5–9
 * only; {@code label-permute} applies a fixed random permutation of labels after the switch;
 * {@code rotate} rotates images by 90° after the switch.
 */
public enum DriftScenario {
    STATIONARY, CLASS_INCREMENTAL, LABEL_PERMUTE, ROTATE;

    public static DriftScenario parse(String v, String field) {
        try {
            return valueOf(v.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Invalid value " + v + " for " + field
                    + ": expected stationary, class-incremental, label-permute or rotate", e);
        }
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** One replayed example: pixels (H×W×C) and label after the scenario's transformation. */
    public record Example(int sourceIndex, byte[] pixels, int label, boolean afterSwitch) {}

    /**
     * An endless, deterministic sequence of examples drawn from {@code data}: a fresh shuffled
     * pass over the dataset whenever one is used up, filtered/transformed by the scenario.
     */
    public static final class Stream {
        private final DriftScenario scenario;
        private final ImageDataset data;
        private final long switchAt;
        private final Random rnd;
        private final int[] permutation = new int[10];
        private int[] order;
        private int pos;
        private long emitted;

        public Stream(DriftScenario scenario, ImageDataset data, long switchAt, long seed) {
            this.scenario = scenario;
            this.data = data;
            this.switchAt = switchAt;
            this.rnd = new Random(seed);
            for (int i = 0; i < 10; i++) {
                permutation[i] = i;
            }
            Random p = new Random(seed ^ 0x5DEECE66DL);
            do {
                for (int i = 9; i > 0; i--) {
                    int j = p.nextInt(i + 1);
                    int t = permutation[i];
                    permutation[i] = permutation[j];
                    permutation[j] = t;
                }
            } while (hasFixedPoint(permutation));
            reshuffle();
        }

        public int[] permutation() {
            return permutation.clone();
        }

        public Example next() {
            boolean after = emitted >= switchAt;
            for (int guard = 0; guard < 4 * data.count() + 4; guard++) {
                if (pos == order.length) {
                    reshuffle();
                }
                int i = order[pos++];
                int label = data.labels()[i];
                if (scenario == CLASS_INCREMENTAL && (after ? label < 5 : label >= 5)) {
                    continue;
                }
                byte[] px = data.image(i);
                if (after && scenario == ROTATE) {
                    px = rotate90(px, data.height(), data.width(), data.channels());
                } else if (after && scenario == LABEL_PERMUTE) {
                    label = permutation[label];
                }
                emitted++;
                return new Example(i, px, label, after);
            }
            throw new IllegalStateException("dataset " + data.name() + " has no example for scenario " + scenario.id());
        }

        private void reshuffle() {
            order = data.shuffledOrder(rnd);
            pos = 0;
        }

        private static boolean hasFixedPoint(int[] p) {
            for (int i = 0; i < p.length; i++) {
                if (p[i] == i) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Rotates H×W×C pixels 90° clockwise (H = W for the datasets used here). */
    public static byte[] rotate90(byte[] px, int h, int w, int c) {
        byte[] out = new byte[px.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int k = 0; k < c; k++) {
                    // (y, x) → (x, h−1−y) in an image of size w×h
                    out[(x * h + (h - 1 - y)) * c + k] = px[(y * w + x) * c + k];
                }
            }
        }
        return out;
    }
}
