package l0stream.pipeline.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import l0stream.connectors.snapshot.SnapshotManifest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The published snapshots of one model as a series over training steps: what {@code l0stream
 * report} draws and tabulates. One {@link Point} per snapshot, ordered by version (strictly
 * increasing). It is loaded either from the JSON that {@code bin/l0stream demo --json} prints
 * ({@link #fromDemoJson}) or from manifests read off the snapshot topic ({@link #fromManifests});
 * both give the same points for the same snapshots.
 *
 * <p>Immutable and thread-safe. Example:
 * <pre>{@code
 * SnapshotSeries s = SnapshotSeries.fromDemoJson(Path.of("/tmp/demo.out"));
 * ReportCharts.writeAll(s, Path.of("/tmp/report"));
 * }</pre>
 *
 * @param source a line saying where the snapshots came from (shown in the report)
 * @param facts  run-level facts known to the source, label → text, in display order (may be empty)
 * @param points one per snapshot, versions strictly increasing; never empty
 */
public record SnapshotSeries(String source, Map<String, String> facts, List<Point> points) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One snapshot.
     *
     * @param version        snapshot version (≥ 1)
     * @param step           training steps when it was cut
     * @param trainedRecords training examples consumed by then
     * @param accuracy       prequential (test-then-train) accuracy since the previous snapshot, in [0, 1]
     * @param flopsReduction 1 − compact ÷ dense FLOPs
     * @param bytes          artifact size in bytes
     * @param openChannels   open channels/units per gated layer, by layer name, in layer order
     */
    public record Point(long version, long step, long trainedRecords, double accuracy, double flopsReduction, long bytes,
                        Map<String, Integer> openChannels) {
        public Point {
            require(version >= 1, version, "version", "must be >= 1");
            require(step >= 0, step, "step", "must be >= 0");
            require(Double.isFinite(accuracy) && accuracy >= 0 && accuracy <= 1, accuracy, "prequential accuracy",
                    "must be in [0, 1]");
            require(Double.isFinite(flopsReduction) && flopsReduction <= 1, flopsReduction, "FLOPs reduction", "must be <= 1");
            require(bytes >= 0, bytes, "artifact bytes", "must be >= 0");
            openChannels = Collections.unmodifiableMap(new LinkedHashMap<>(openChannels == null ? Map.of() : openChannels));
        }
    }

    public SnapshotSeries {
        require(source != null && !source.isBlank(), source, "source", "must be non-empty");
        require(points != null && !points.isEmpty(), "(none)", "snapshots", "there is no snapshot to report on");
        for (int i = 1; i < points.size(); i++) {
            require(points.get(i).version() > points.get(i - 1).version(), points.get(i).version(), "version",
                    "versions must be strictly increasing (after v" + points.get(i - 1).version() + ")");
        }
        facts = Collections.unmodifiableMap(new LinkedHashMap<>(facts == null ? Map.of() : facts));
        points = List.copyOf(points);
    }

    /** Every layer name that appears in any point, in first-seen order (the network's layer order). */
    public List<String> layers() {
        Set<String> names = new LinkedHashSet<>();
        points.forEach(p -> names.addAll(p.openChannels().keySet()));
        return List.copyOf(names);
    }

    public Point first() {
        return points.get(0);
    }

    public Point latest() {
        return points.get(points.size() - 1);
    }

    /** From manifests (any order), e.g. those read back from a snapshot topic. */
    public static SnapshotSeries fromManifests(List<SnapshotManifest> manifests) {
        return fromManifests("snapshot manifests", Map.of(), manifests);
    }

    /** From manifests (any order); {@code source} and {@code facts} as in the record. */
    public static SnapshotSeries fromManifests(String source, Map<String, String> facts, List<SnapshotManifest> manifests) {
        List<Point> pts = new ArrayList<>();
        for (SnapshotManifest m : manifests) {
            pts.add(new Point(m.version(), m.step(), m.trainedRecords(), m.prequentialAccuracy(), m.flopsReduction(),
                    m.artifactBytes(), m.openChannels()));
        }
        pts.sort(Comparator.comparingLong(Point::version));
        return new SnapshotSeries(source, facts, pts);
    }

    /**
     * From the output of {@code bin/l0stream demo --json}: either a file holding just the JSON
     * object, or captured output whose last non-empty line is that object (earlier lines may be
     * any text). Every problem is an {@link IllegalArgumentException} that names the file and
     * what is wrong with it (unreadable, no JSON object, no or empty {@code snapshots}, a snapshot
     * without one of its fields).
     */
    public static SnapshotSeries fromDemoJson(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw invalid(file, "no such file", e);
        } catch (IOException e) {
            throw invalid(file, "cannot read it (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", e);
        }
        JsonNode root = parseObject(file, text);
        JsonNode snaps = root.get("snapshots");
        if (snaps == null || !snaps.isArray()) {
            throw invalid(file, "the JSON object has no \"snapshots\" array (is it the output of bin/l0stream demo --json?)", null);
        }
        if (snaps.isEmpty()) {
            throw invalid(file, "it has no snapshots (\"snapshots\" is empty: the run published none, nothing to report)", null);
        }
        List<Point> pts = new ArrayList<>();
        for (int i = 0; i < snaps.size(); i++) {
            JsonNode s = snaps.get(i);
            String where = "snapshots[" + i + "]";
            Map<String, Integer> open = new LinkedHashMap<>();
            JsonNode oc = s.get("open_channels");
            if (oc == null || !oc.isObject()) {
                throw invalid(file, where + " has no \"open_channels\" object", null);
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = oc.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().canConvertToInt()) {
                    throw invalid(file, where + ".open_channels." + e.getKey() + " is not an integer: " + e.getValue(), null);
                }
                open.put(e.getKey(), e.getValue().intValue());
            }
            try {
                pts.add(new Point(integer(file, s, where, "version", true), integer(file, s, where, "step", true),
                        integer(file, s, where, "trained_records", false), number(file, s, where, "prequential_accuracy"),
                        number(file, s, where, "flops_reduction"), integer(file, s, where, "artifact_bytes", true), open));
            } catch (IllegalArgumentException e) {
                if (e.getMessage().startsWith("Invalid demo JSON")) {
                    throw e;
                }
                throw invalid(file, where + ": " + e.getMessage(), e);
            }
        }
        pts.sort(Comparator.comparingLong(Point::version));
        for (int i = 1; i < pts.size(); i++) {
            if (pts.get(i).version() == pts.get(i - 1).version()) {
                throw invalid(file, "snapshot version " + pts.get(i).version() + " appears twice", null);
            }
        }
        Map<String, String> facts = new LinkedHashMap<>();
        fact(facts, root, "snapshot_topic", "snapshot topic");
        fact(facts, root, "input_topic", "input topic");
        fact(facts, root, "trained_records", "records trained in the run");
        fact(facts, root, "steps", "steps at the end of the run");
        fact(facts, root, "seconds", "run time (s)");
        fact(facts, root, "prequential_accuracy", "prequential accuracy over the whole run");
        return new SnapshotSeries("demo JSON " + file, facts, pts);
    }

    private static JsonNode parseObject(Path file, String text) {
        String trimmed = text.strip();
        if (trimmed.isEmpty()) {
            throw invalid(file, "the file is empty (expected the JSON object printed by bin/l0stream demo --json)", null);
        }
        try {
            JsonNode whole = JSON.readTree(trimmed);
            if (whole != null && whole.isObject()) {
                return whole;
            }
        } catch (JsonProcessingException ignored) {
            // captured output with other lines before the JSON: try its last line below
        }
        String[] lines = trimmed.split("\\R");
        String last = lines[lines.length - 1].strip();
        try {
            JsonNode node = JSON.readTree(last);
            if (node != null && node.isObject()) {
                return node;
            }
        } catch (JsonProcessingException e) {
            throw invalid(file, "its last non-empty line is not a JSON object (" + e.getOriginalMessage()
                    + "); expected the output of bin/l0stream demo --json", e);
        }
        throw invalid(file, "its last non-empty line is not a JSON object; expected the output of bin/l0stream demo --json", null);
    }

    private static long integer(Path file, JsonNode s, String where, String field, boolean required) {
        JsonNode v = s.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw invalid(file, where + " has no \"" + field + "\"", null);
            }
            return 0;
        }
        if (!v.canConvertToLong() || !v.isIntegralNumber()) {
            throw invalid(file, where + "." + field + " is not an integer: " + v, null);
        }
        return v.longValue();
    }

    private static double number(Path file, JsonNode s, String where, String field) {
        JsonNode v = s.get(field);
        if (v == null || !v.isNumber()) {
            throw invalid(file, where + " has no numeric \"" + field + "\"" + (v == null ? "" : ": " + v), null);
        }
        return v.doubleValue();
    }

    private static void fact(Map<String, String> facts, JsonNode root, String field, String label) {
        JsonNode v = root.get(field);
        if (v != null && !v.isNull() && !v.isContainerNode()) {
            facts.put(label, v.asText());
        }
    }

    private static IllegalArgumentException invalid(Path file, String why, Exception cause) {
        return new IllegalArgumentException("Invalid demo JSON " + file + ": " + why, cause);
    }

    private static void require(boolean ok, Object v, String field, String rule) {
        if (!ok) {
            throw new IllegalArgumentException("Invalid value " + v + " for " + field + ": " + rule);
        }
    }
}
