package l0stream.connectors.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Minimal {@code --key value} / {@code --flag} parsing for the command-line tools. Every error
 * names the option; unknown options are refused with the list of known ones.
 */
public final class Args {

    private final Map<String, String> values = new HashMap<>();
    private final Map<String, List<String>> all = new HashMap<>();
    private final Set<String> flags = new HashSet<>();

    private Args() {}

    /** @param known options taking a value; @param knownFlags options without one */
    public static Args parse(String[] argv, List<String> known, List<String> knownFlags) {
        Args a = new Args();
        for (int i = 0; i < argv.length; i++) {
            String k = argv[i];
            if (asksForHelp(k) && !known.contains(k) && !knownFlags.contains(k)) {
                // a user asking for help gets the options, not "Unknown option --help" and a stack trace
                System.out.println(usage(known, knownFlags));
                System.exit(0);
            }
            if (knownFlags.contains(k)) {
                a.flags.add(k);
            } else if (known.contains(k)) {
                if (i + 1 >= argv.length) {
                    throw new IllegalArgumentException("Invalid value (missing) for " + k);
                }
                a.values.put(k, argv[++i]);
                a.all.computeIfAbsent(k, x -> new ArrayList<>()).add(argv[i]);
            } else {
                throw new IllegalArgumentException("Unknown option " + k + "; known: " + String.join(" ", known)
                        + (knownFlags.isEmpty() ? "" : " " + String.join(" ", knownFlags)));
            }
        }
        return a;
    }

    /** Whether {@code arg} is a request for the command's usage ({@code --help} or {@code -h}). */
    public static boolean asksForHelp(String arg) {
        return arg.equals("--help") || arg.equals("-h");
    }

    /** What {@code --help} prints: every option of the command, those taking a value first. */
    static String usage(List<String> known, List<String> knownFlags) {
        StringBuilder b = new StringBuilder("options:");
        for (String k : known) {
            b.append(' ').append(k).append(' ').append(k.substring(2).toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
        }
        for (String f : knownFlags) {
            b.append(' ').append(f);
        }
        return b.append("\n(bin/l0stream help says what each command does; README.md describes every option)").toString();
    }

    public boolean flag(String k) {
        return flags.contains(k);
    }

    /** Every value of an option given more than once, in order (empty if not given). */
    public List<String> strings(String k) {
        return all.getOrDefault(k, List.of());
    }

    public String string(String k, String def) {
        return values.getOrDefault(k, def);
    }

    public long longValue(String k, long def, long min) {
        String v = values.get(k);
        if (v == null) {
            return def;
        }
        try {
            long n = Long.parseLong(v.replace("_", ""));
            if (n >= min) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("Invalid value " + v + " for " + k + ": must be an integer >= " + min);
    }

    public int intValue(String k, int def, int min) {
        return (int) longValue(k, def, min);
    }

    public double doubleValue(String k, double def, double min) {
        String v = values.get(k);
        if (v == null) {
            return def;
        }
        try {
            double d = Double.parseDouble(v);
            if (d >= min && Double.isFinite(d)) {
                return d;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("Invalid value " + v + " for " + k + ": must be a number >= " + min);
    }
}
