package l0stream.pipeline;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One configuration key of the job: name, default, documentation and validation in one place,
 * so that the same constants parse the command line, validate at start-up and print
 * {@code --help}. Errors read "Invalid value X for key: rule".
 *
 * @param <T> the parsed type
 */
public final class PipelineOption<T> {

    private static final List<PipelineOption<?>> ALL = new ArrayList<>();

    private final String key;
    private final String defaultValue;
    private final String doc;
    private final Function<String, T> parser;
    private final Predicate<T> valid;
    private final String rule;

    private PipelineOption(String key, String defaultValue, String doc, Function<String, T> parser, Predicate<T> valid,
                           String rule) {
        this.key = key;
        this.defaultValue = defaultValue;
        this.doc = doc;
        this.parser = parser;
        this.valid = valid;
        this.rule = rule;
        synchronized (ALL) {
            for (PipelineOption<?> o : ALL) {
                if (o.key.equals(key)) {
                    throw new IllegalStateException("duplicate option " + key);
                }
            }
            ALL.add(this);
        }
    }

    public static PipelineOption<String> string(String key, String def, String doc) {
        return new PipelineOption<>(key, def, doc, s -> s, s -> !s.isBlank(), "must not be empty");
    }

    /** A string that may be empty (empty = not set), e.g. an optional file path. */
    public static PipelineOption<String> optionalString(String key, String doc) {
        return new PipelineOption<>(key, "", doc, String::trim, s -> true, "");
    }

    public static PipelineOption<String> choice(String key, String def, String doc, String... choices) {
        List<String> c = List.of(choices);
        return new PipelineOption<>(key, def, doc, s -> s, c::contains, "expected one of " + String.join(", ", c));
    }

    public static PipelineOption<Long> longAtLeast(String key, long def, long min, String doc) {
        return new PipelineOption<>(key, Long.toString(def), doc, Long::parseLong, v -> v >= min, "must be an integer >= " + min);
    }

    public static PipelineOption<Integer> intAtLeast(String key, int def, int min, String doc) {
        return new PipelineOption<>(key, Integer.toString(def), doc, Integer::parseInt, v -> v >= min, "must be an integer >= " + min);
    }

    public static PipelineOption<Double> doubleIn(String key, double def, double min, double maxExclusive, String doc) {
        return new PipelineOption<>(key, Double.toString(def), doc, Double::parseDouble,
                v -> v >= min && v < maxExclusive && Double.isFinite(v),
                maxExclusive == Double.POSITIVE_INFINITY ? "must be a number >= " + min : "must be in [" + min + ", " + maxExclusive + ")");
    }

    public static PipelineOption<Boolean> bool(String key, boolean def, String doc) {
        return new PipelineOption<>(key, Boolean.toString(def), doc, s -> {
            if (!s.equals("true") && !s.equals("false")) {
                throw new IllegalArgumentException();
            }
            return Boolean.parseBoolean(s);
        }, v -> true, "expected true or false");
    }

    /**
     * Adds a command-line {@code --key value} to {@code keys}: repeated {@code kafka-property}
     * values accumulate (one per line), any other key keeps its last value.
     */
    public static void put(Map<String, String> keys, String key, String value) {
        if (key.equals("kafka-property") && keys.containsKey(key)) {
            keys.put(key, keys.get(key) + "\n" + value);
        } else {
            keys.put(key, value);
        }
    }

    public String key() {
        return key;
    }

    public String doc() {
        return doc;
    }

    public String defaultValue() {
        return defaultValue;
    }

    /** Parses this key from {@code values} (or the default) and validates it. */
    public T get(Map<String, String> values) {
        String raw = values.getOrDefault(key, defaultValue);
        T v;
        try {
            v = parser.apply(raw.trim());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("Invalid value " + raw + " for " + key + ": " + rule, e);
        }
        if (!valid.test(v)) {
            throw new IllegalArgumentException("Invalid value " + raw + " for " + key + ": " + rule);
        }
        return v;
    }

    public static List<PipelineOption<?>> all() {
        // The keys are declared as PipelineConfig's static fields; a --help printed before anything
        // touched PipelineConfig would otherwise list none of them.
        PipelineConfig.BOOTSTRAP.getClass();
        synchronized (ALL) {
            return Collections.unmodifiableList(new ArrayList<>(ALL));
        }
    }

    /** The {@code --help} text: one block per key. */
    public static String help() {
        StringBuilder b = new StringBuilder();
        for (PipelineOption<?> o : all()) {
            b.append(String.format("  --%-26s %s (default: %s; %s)%n", o.key, o.doc, o.defaultValue, o.rule));
        }
        return b.toString();
    }
}
