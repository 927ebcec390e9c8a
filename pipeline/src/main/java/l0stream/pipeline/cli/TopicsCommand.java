package l0stream.pipeline.cli;

import l0stream.pipeline.L0StreamJob;
import l0stream.pipeline.PipelineConfig;
import l0stream.pipeline.PipelineOption;

import java.util.HashMap;
import java.util.Map;

/**
 * {@code l0stream topics create [--<key> value ...]}: creates the job's topics — input, dead-letter
 * and snapshot — with the settings the job would give them (the same keys as {@code train}: e.g.
 * {@code --input-topic}, {@code --input-partitions}, {@code --snapshot-topic}, {@code --chunk-bytes},
 * {@code --bootstrap}), so that foreign producers (kcat, any Kafka client) can write to a fresh
 * broker, which does not create topics on first use. Existing topics are left as they are and
 * reported as such; {@code produce}, {@code train} and {@code demo} keep creating what they need.
 */
public final class TopicsCommand {

    private TopicsCommand() {}

    public static void main(String[] argv) {
        if (argv.length == 0 || !argv[0].equals("create") || (argv.length > 1 && (argv[1].equals("--help") || argv[1].equals("-h")))) {
            System.out.println("usage: l0stream topics create [--<key> value ...]\n"
                    + "  creates the job's input, dead-letter and snapshot topics with the job's settings; keys as for train:\n"
                    + PipelineOption.help());
            if (argv.length == 0 || !argv[0].equals("create")) {
                System.exit(2);
            }
            return;
        }
        Map<String, String> keys = new HashMap<>();
        for (int i = 1; i < argv.length; i++) {
            String a = argv[i];
            if (!a.startsWith("--") || i + 1 >= argv.length) {
                throw new IllegalArgumentException("Invalid argument " + a + ": expected --<key> <value> (see topics create --help)");
            }
            PipelineOption.put(keys, a.substring(2), argv[++i]);
        }
        // topics need no signing key; the config check must not ask for one
        keys.putIfAbsent("allow-unsigned", "true");
        PipelineConfig cfg = PipelineConfig.from(keys);
        System.out.printf("%-18s %-28s %10s  %-9s %s%n", "role", "topic", "partitions", "state", "settings");
        for (L0StreamJob.TopicState t : L0StreamJob.ensureTopics(cfg)) {
            System.out.printf("%-18s %-28s %10d  %-9s %s%n", t.role(), t.name(), t.partitions(),
                    t.created() ? "created" : "existed", t.configs().isEmpty() ? "-" : t.configs().toString());
        }
        System.out.println("bootstrap " + cfg.kafka().bootstrap());
    }
}
