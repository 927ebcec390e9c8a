package l0stream.pipeline.report;

import l0stream.connectors.cli.Args;
import l0stream.connectors.cli.TrustedKeysOption;
import l0stream.connectors.kafka.KafkaClientConfig;
import l0stream.connectors.snapshot.SnapshotManifest;
import l0stream.connectors.snapshot.SnapshotReader;
import l0stream.connectors.snapshot.VerifiedSnapshot;
import l0stream.connectors.trust.SnapshotTrust;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code l0stream report}: plots for people. Reads a model's published snapshots, either from
 * the snapshot topic ({@code --snapshots TOPIC}, read_committed and signature-checked as serving
 * reads them) or from the JSON that {@code bin/l0stream demo --json} prints ({@code --input FILE}),
 * and writes into {@code --out DIR}:
 *
 * <ul>
 *   <li>{@value ReportCharts#OPEN_CHANNELS_PNG}: open channels per gated layer over training steps;
 *   <li>{@value ReportCharts#ACCURACY_FLOPS_PNG}: prequential accuracy and FLOPs reduction over steps;
 *   <li>{@value ReportPage#FILE}: both charts and the snapshot table.
 * </ul>
 *
 * <pre>{@code
 * bin/l0stream report --input /tmp/demo.out --out /tmp/report
 * bin/l0stream report --snapshots demo-20250101-120000-snapshots --out /tmp/report [--model demo]
 *     [--bootstrap 127.0.0.1:9092] [--trusted-keys a.pub,b.pub | --allow-unsigned] [--idle-seconds 5]
 * }</pre>
 * Reading a topic stops once no new snapshot has arrived for {@code --idle-seconds}. Usage errors
 * name the option and exit with status 2; the paths written go to stdout, one a line.
 */
public final class ReportCommand {

    static final String USAGE = "usage: l0stream report (--snapshots TOPIC | --input DEMO_JSON) --out DIR\n"
            + "  --input FILE           the output of 'bin/l0stream demo --json' (its last non-empty line is the JSON)\n"
            + "  --snapshots TOPIC      read the published snapshots from this Kafka topic, with:\n"
            + "    [--model ID]             which model, when the topic carries several\n"
            + "    [--idle-seconds 5]       stop reading once no new snapshot arrived for this long\n"
            + "    [--bootstrap HOST:PORT] [--kafka-config FILE] [--kafka-property k=v ...]\n"
            + "    [--trusted-keys a.pub,b.pub] (default: var/keys/snapshot.pub when it exists) [--allow-unsigned]\n"
            + "  --out DIR              where to write " + ReportCharts.OPEN_CHANNELS_PNG + ", " + ReportCharts.ACCURACY_FLOPS_PNG
            + " and " + ReportPage.FILE;

    private static final List<String> TOPIC_ONLY = List.of("--model", "--idle-seconds", "--bootstrap", "--kafka-config",
            "--kafka-property", "--trusted-keys");
    private static final List<String> OPTIONS;

    static {
        System.setProperty("java.awt.headless", "true");
        List<String> o = new ArrayList<>(List.of("--snapshots", "--input", "--out"));
        o.addAll(TOPIC_ONLY);
        OPTIONS = List.copyOf(o);
    }

    private ReportCommand() {}

    public static void main(String[] argv) throws Exception {
        System.exit(execute(argv, System.out, System.err));
    }

    /**
     * Runs the command; returns the exit status: 0 done, 2 a usage error or unusable input (the
     * message names the option or the file), 1 anything else (e.g. the topic does not exist).
     */
    static int execute(String[] argv, PrintStream out, PrintStream err) throws IOException {
        if (argv.length > 0 && (argv[0].equals("--help") || argv[0].equals("-h"))) {
            out.println(USAGE);
            return 0;
        }
        try {
            for (Path p : run(argv, err)) {
                out.println(p);
            }
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("report: " + e.getMessage());
            err.println("(bin/l0stream report --help for the options)");
            return 2;
        } catch (IllegalStateException e) {
            err.println("report: " + e.getMessage());
            return 1;
        }
    }

    /** Parses {@code argv}, loads the series, writes the report; returns the paths written. */
    static List<Path> run(String[] argv, PrintStream log) throws IOException {
        Args a = Args.parse(argv, OPTIONS, List.of("--allow-unsigned"));
        String topic = a.string("--snapshots", null);
        String input = a.string("--input", null);
        if (topic != null && input != null) {
            throw new IllegalArgumentException("Invalid value for --snapshots and --input: give exactly one of them, not both");
        }
        if (topic == null && input == null) {
            throw new IllegalArgumentException("Invalid value (missing) for --snapshots or --input: give exactly one, the"
                    + " snapshot topic to read or the output of 'bin/l0stream demo --json'");
        }
        String outArg = a.string("--out", null);
        if (outArg == null || outArg.isBlank()) {
            throw new IllegalArgumentException("Invalid value (missing) for --out: the directory to write the charts and "
                    + ReportPage.FILE + " into");
        }
        Path out = Path.of(outArg);
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IllegalArgumentException("Invalid value " + out + " for --out: it exists and is not a directory");
        }
        if (input != null) {
            for (String o : TOPIC_ONLY) {
                if (a.string(o, null) != null) {
                    throw new IllegalArgumentException("Invalid value for " + o + ": it applies to --snapshots only, not to --input");
                }
            }
            if (a.flag("--allow-unsigned")) {
                throw new IllegalArgumentException("Invalid value for --allow-unsigned: it applies to --snapshots only, not to --input");
            }
        }
        SnapshotSeries series = input != null ? SnapshotSeries.fromDemoJson(Path.of(input)) : fromTopic(a, topic, log);
        return write(series, out);
    }

    /** Writes both charts and the page into {@code dir}; returns their paths (charts first). */
    public static List<Path> write(SnapshotSeries series, Path dir) throws IOException {
        List<Path> written = new ArrayList<>(ReportCharts.writeAll(series, dir));
        written.add(ReportPage.write(series, dir));
        return written;
    }

    private static SnapshotSeries fromTopic(Args a, String topic, PrintStream log) throws IOException {
        long idleSeconds = a.longValue("--idle-seconds", 5, 1);
        KafkaClientConfig kafka = KafkaClientConfig.fromArgs(a);
        SnapshotTrust trust = TrustedKeysOption.from(a, m -> log.println("report: " + m));
        Properties props = kafka.toProperties();
        List<SnapshotManifest> manifests = new ArrayList<>();
        Map<String, Long> refusals;
        log.println("report: reading " + topic + " on " + kafka.bootstrap() + " until no new snapshot arrives for "
                + idleSeconds + " s");
        try (SnapshotReader reader = new SnapshotReader(props, topic, trust)) {
            long idleNanos = Duration.ofSeconds(idleSeconds).toNanos();
            long lastNew = System.nanoTime();
            while (System.nanoTime() - lastNew < idleNanos) {
                List<VerifiedSnapshot> got = reader.poll(Duration.ofMillis(250));
                if (!got.isEmpty()) {
                    got.forEach(s -> manifests.add(s.manifest()));
                    lastNew = System.nanoTime();
                }
            }
            refusals = new TreeMap<>(reader.assembler().refusals());
            refusals.values().removeIf(n -> n == 0);
        }
        String model = a.string("--model", null);
        TreeSet<String> models = new TreeSet<>();
        manifests.forEach(m -> models.add(m.modelId()));
        boolean signatureRefusals = refusals.keySet().stream().anyMatch(k -> k.equals(SnapshotTrust.Refusal.UNSIGNED.id())
                || k.equals(SnapshotTrust.Refusal.UNTRUSTED_KEY.id()) || k.equals(SnapshotTrust.Refusal.BAD_SIGNATURE.id()));
        if (manifests.isEmpty()) {
            throw new IllegalArgumentException("Invalid value " + topic + " for --snapshots: no snapshot could be read from it"
                    + " (none arrived within " + idleSeconds + " s" + (refusals.isEmpty() ? "; is it the snapshot topic?"
                    : "; refused: " + refusals + (signatureRefusals ? ", see --trusted-keys" : "; is it the snapshot topic?"))
                    + ")");
        }
        if (model == null && models.size() > 1) {
            throw new IllegalArgumentException("Invalid value (missing) for --model: topic " + topic
                    + " carries snapshots of several models " + models + "; choose one");
        }
        if (model != null && !models.contains(model)) {
            throw new IllegalArgumentException("Invalid value " + model + " for --model: topic " + topic
                    + " has snapshots of " + models + " only");
        }
        String chosen = model != null ? model : models.first();
        List<SnapshotManifest> mine = manifests.stream().filter(m -> m.modelId().equals(chosen)).toList();
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("snapshot topic", topic);
        facts.put("model", chosen);
        facts.put("bootstrap", kafka.bootstrap());
        facts.put("records trained (latest snapshot)", String.format(Locale.ROOT, "%,d", mine.get(mine.size() - 1).trainedRecords()));
        facts.put("signatures", trust.allowUnsigned() ? "unsigned allowed (--allow-unsigned)"
                : "checked against keys " + trust.trustedKeyIds());
        if (!refusals.isEmpty()) {
            facts.put("refused snapshots", refusals.toString());
        }
        log.println("report: " + mine.size() + " snapshot(s) of model " + chosen + " read from " + topic);
        return SnapshotSeries.fromManifests("snapshot topic " + topic + " (model " + chosen + ")", facts, mine);
    }
}
