package l0stream.serving;

/** Which snapshot a variant serves: {@code latest}, {@code previous} or {@code pinned:<version>}. */
public record VariantSpec(Kind kind, long version) {

    public enum Kind { LATEST, PREVIOUS, PINNED }

    public static VariantSpec parse(String v, String field) {
        if (v != null) {
            if (v.equals("latest")) {
                return new VariantSpec(Kind.LATEST, 0);
            }
            if (v.equals("previous")) {
                return new VariantSpec(Kind.PREVIOUS, 0);
            }
            if (v.startsWith("pinned:")) {
                try {
                    long n = Long.parseLong(v.substring(7));
                    if (n >= 1) {
                        return new VariantSpec(Kind.PINNED, n);
                    }
                } catch (NumberFormatException ignored) {
                    // reported below
                }
            }
        }
        throw new IllegalArgumentException("Invalid value " + v + " for " + field
                + ": expected latest, previous or pinned:<version>");
    }

    @Override
    public String toString() {
        return kind == Kind.PINNED ? "pinned:" + version : kind.name().toLowerCase(java.util.Locale.ROOT);
    }
}
