package l0stream.k8s;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** A container's or Flink job's arguments, which in l0stream are always {@code --key value} pairs. */
final class CliArgs {

    private CliArgs() {}

    /** The strings of a manifest's {@code args} array. */
    static List<String> of(JsonNode args) {
        List<String> out = new ArrayList<>();
        args.forEach(a -> out.add(a.asText()));
        return out;
    }

    /** The value after the last {@code --key}, or null. */
    static String option(List<String> args, String key) {
        String v = null;
        for (int i = 0; i + 1 < args.size(); i++) {
            if (args.get(i).equals("--" + key)) {
                v = args.get(i + 1);
            }
        }
        return v;
    }

    /** The keys (without dashes); fails unless the arguments are {@code --key value} pairs. */
    static Set<String> keys(List<String> args) {
        Set<String> keys = new TreeSet<>();
        for (int i = 0; i < args.size(); i += 2) {
            assertTrue(args.get(i).startsWith("--") && i + 1 < args.size(), "expected --key value pairs: " + args);
            keys.add(args.get(i).substring(2));
        }
        return keys;
    }
}
