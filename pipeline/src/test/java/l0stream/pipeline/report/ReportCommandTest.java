package l0stream.pipeline.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.connectors.snapshot.SnapshotManifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import javax.imageio.ImageIO;

/**
 * {@code l0stream report --input} end to end on a small demo JSON (no Kafka): both PNGs are
 * written, decode, and have the chart size; {@code index.html} shows them and a row per
 * snapshot; bad input and bad usage fail with a message that names the problem. And the topic
 * path's {@link SnapshotSeries#fromManifests} gives the same series as the JSON path.
 */
class ReportCommandTest {

    private static final long[] VERSIONS = {1, 2, 3, 4, 5};
    private static final long[] STEPS = {100, 200, 300, 400, 469};
    private static final double[] ACCURACY = {0.5553, 0.7613, 0.798, 0.8248, 0.8373};
    /** Multiples of 64 of a dense 1024, so that 1 − actual ÷ dense is exact in binary. */
    private static final double[] ACTUAL_FLOPS = {768, 704, 640, 640, 576};
    private static final long[] BYTES = {423_914, 383_490, 324_849, 304_017, 296_205};
    private static final int[][] OPEN = {{20, 41, 127}, {18, 41, 115}, {18, 40, 96}, {18, 40, 88}, {18, 40, 85}};
    private static final String[] LAYERS = {"conv1", "conv2", "fc1"};

    @TempDir
    Path dir;

    private static String demoJson(int snapshots) {
        StringBuilder b = new StringBuilder("{\"snapshot_topic\":\"demo-1-snapshots\",\"input_topic\":\"demo-1-images\","
                + "\"seconds\":50.2,\"trained_records\":30000,\"steps\":469,\"prequential_accuracy\":0.7811,\"snapshots\":[");
        for (int i = 0; i < snapshots; i++) {
            b.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT,
                    "{\"version\":%d,\"step\":%d,\"prequential_accuracy\":%s,\"flops_reduction\":%s,\"artifact_bytes\":%d,"
                            + "\"trained_records\":%d,\"open_channels\":{", VERSIONS[i], STEPS[i], ACCURACY[i],
                    1 - ACTUAL_FLOPS[i] / 1024, BYTES[i], STEPS[i] * 64));
            for (int l = 0; l < LAYERS.length; l++) {
                b.append(l == 0 ? "" : ",").append('"').append(LAYERS[l]).append("\":").append(OPEN[i][l]);
            }
            b.append("}}");
        }
        return b.append("]}").toString();
    }

    private static SnapshotManifest manifest(int i) {
        Map<String, Integer> open = new LinkedHashMap<>();
        for (int l = 0; l < LAYERS.length; l++) {
            open.put(LAYERS[l], OPEN[i][l]);
        }
        return new SnapshotManifest(1, "demo", VERSIONS[i], VERSIONS[i] - 1, STEPS[i], STEPS[i] * 64, 1_700_000_000_000L + i,
                Map.of("demo-1-images-0", STEPS[i] * 64), open, 900, ACTUAL_FLOPS[i], 50_000, 40_000, 1024, ACCURACY[i],
                BYTES[i], "0123456789abcdef".repeat(4), 1);
    }

    private Path writeDemoOutput(String name, String text) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, text, StandardCharsets.UTF_8);
        return f;
    }

    /** Runs the command as the launcher would, capturing its streams. */
    private record Outcome(int status, String out, String err) {}

    private static Outcome execute(String... argv) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = ReportCommand.execute(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Outcome(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static void assertPng(Path png) throws Exception {
        assertTrue(Files.isRegularFile(png), png + " written");
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, png + " decodes as an image");
        assertEquals(ReportCharts.WIDTH, img.getWidth(), png + " width");
        assertEquals(ReportCharts.HEIGHT, img.getHeight(), png + " height");
        assertEquals(960, img.getWidth());
        assertEquals(640, img.getHeight());
        // a chart, not a blank canvas: some pixels are neither white nor one flat colour
        int first = img.getRGB(0, 0);
        boolean varied = false;
        for (int y = 0; y < img.getHeight() && !varied; y += 7) {
            for (int x = 0; x < img.getWidth() && !varied; x += 7) {
                varied = img.getRGB(x, y) != first;
            }
        }
        assertTrue(varied, png + " has something drawn on it");
    }

    @Test
    void testReportFromDemoOutput() throws Exception {
        // as 'bin/l0stream demo --json > demo.out' leaves it, with some other lines first
        Path input = writeDemoOutput("demo.out", "demo: starting the local Kafka broker\n\n" + demoJson(5) + "\n\n");
        Path out = dir.resolve("report");
        Outcome r = execute("--input", input.toString(), "--out", out.toString());
        assertEquals(0, r.status(), r.err());

        Path channels = out.resolve("open-channels-per-layer.png");
        Path accuracy = out.resolve("accuracy-and-flops.png");
        Path index = out.resolve("index.html");
        assertEquals(List.of(channels.toString(), accuracy.toString(), index.toString()), r.out().lines().toList(),
                "the paths written, one a line");
        assertPng(channels);
        assertPng(accuracy);

        String html = Files.readString(index);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertTrue(html.contains("<img src=\"open-channels-per-layer.png\""), html);
        assertTrue(html.contains("<img src=\"accuracy-and-flops.png\""), html);
        for (int i = 0; i < VERSIONS.length; i++) {
            String row = String.format(Locale.ROOT, "<tr id=\"v%d\"><td class=\"n\">%d</td><td class=\"n\">%,d</td>"
                    + "<td class=\"n\">%.4f</td><td class=\"n\">%d</td><td class=\"n\">%d</td><td class=\"n\">%d</td>"
                    + "<td class=\"n\">%.3f</td><td class=\"n\">%,d</td></tr>", VERSIONS[i], VERSIONS[i], STEPS[i],
                    ACCURACY[i], OPEN[i][0], OPEN[i][1], OPEN[i][2], 1 - ACTUAL_FLOPS[i] / 1024, BYTES[i]);
            assertTrue(html.contains(row), "row of v" + VERSIONS[i] + ": " + row);
        }
        for (String l : LAYERS) {
            assertTrue(html.contains("<th>open " + l + "</th>"), l);
        }
        assertTrue(html.contains("demo-1-snapshots"), "the run's facts are shown");
        assertEquals(VERSIONS.length, html.split("<tr id=\"v").length - 1, "one row per snapshot");
    }

    @Test
    void testReportFromPureJsonFile() throws Exception {
        Path input = writeDemoOutput("demo.json", demoJson(1));
        Path out = dir.resolve("nested/report");
        Outcome r = execute("--out", out.toString(), "--input", input.toString());
        assertEquals(0, r.status(), r.err());
        assertPng(out.resolve(ReportCharts.OPEN_CHANNELS_PNG));
        assertPng(out.resolve(ReportCharts.ACCURACY_FLOPS_PNG));
        assertTrue(Files.readString(out.resolve(ReportPage.FILE)).contains("<tr id=\"v1\">"));
    }

    @Test
    void testFromManifestsMatchesDemoJson() throws Exception {
        SnapshotSeries json = SnapshotSeries.fromDemoJson(writeDemoOutput("demo.json", demoJson(5)));
        List<SnapshotManifest> manifests = new ArrayList<>();
        for (int i = VERSIONS.length - 1; i >= 0; i--) {
            manifests.add(manifest(i)); // any order: the series orders by version
        }
        SnapshotSeries topic = SnapshotSeries.fromManifests(manifests);
        assertEquals(json.points(), topic.points());
        assertEquals(List.of(LAYERS), topic.layers());
        assertEquals(5, topic.latest().version());
    }

    @Test
    void testFailsWithoutSnapshots() throws Exception {
        Path input = writeDemoOutput("empty.json", demoJson(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SnapshotSeries.fromDemoJson(input));
        assertTrue(e.getMessage().contains("no snapshots") && e.getMessage().contains(input.toString()), e.getMessage());

        Path out = dir.resolve("never");
        Outcome r = execute("--input", input.toString(), "--out", out.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("no snapshots") && r.err().contains(input.toString()), r.err());
        assertFalse(Files.exists(out.resolve(ReportCharts.OPEN_CHANNELS_PNG)), "nothing drawn");
    }

    @Test
    void testFailsWithoutOut() throws Exception {
        Path input = writeDemoOutput("demo.json", demoJson(5));
        Outcome r = execute("--input", input.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("Invalid value (missing) for --out"), r.err());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ReportCommand.run(new String[] {"--input", input.toString()}, System.err));
        assertTrue(e.getMessage().contains("--out"), e.getMessage());
    }

    @Test
    void testFailsWithBothOrNeitherSource() throws Exception {
        Path input = writeDemoOutput("demo.json", demoJson(5));
        Outcome both = execute("--input", input.toString(), "--snapshots", "t", "--out", dir.toString());
        assertEquals(2, both.status());
        assertTrue(both.err().contains("--snapshots and --input") && both.err().contains("not both"), both.err());
        Outcome neither = execute("--out", dir.toString());
        assertEquals(2, neither.status());
        assertTrue(neither.err().contains("Invalid value (missing) for --snapshots or --input"), neither.err());
        Outcome topicOnly = execute("--input", input.toString(), "--out", dir.toString(), "--bootstrap", "h:1");
        assertEquals(2, topicOnly.status());
        assertTrue(topicOnly.err().contains("--bootstrap") && topicOnly.err().contains("--snapshots only"), topicOnly.err());
        Outcome unknown = execute("--input", input.toString(), "--out", dir.toString(), "--colour", "red");
        assertEquals(2, unknown.status());
        assertTrue(unknown.err().contains("Unknown option --colour"), unknown.err());
    }

    @Test
    void testFailsOnInputThatIsNotDemoJson() throws Exception {
        Path missing = dir.resolve("nope.json");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SnapshotSeries.fromDemoJson(missing));
        assertTrue(e.getMessage().contains("no such file") && e.getMessage().contains(missing.toString()), e.getMessage());

        Path text = writeDemoOutput("log.txt", "demo: starting\nno json here\n");
        e = assertThrows(IllegalArgumentException.class, () -> SnapshotSeries.fromDemoJson(text));
        assertTrue(e.getMessage().contains("last non-empty line is not a JSON object"), e.getMessage());

        Path noStep = writeDemoOutput("nostep.json", demoJson(2).replace("\"step\":200,", ""));
        e = assertThrows(IllegalArgumentException.class, () -> SnapshotSeries.fromDemoJson(noStep));
        assertTrue(e.getMessage().contains("snapshots[1] has no \"step\""), e.getMessage());

        Path file = writeDemoOutput("a-file", "x");
        Outcome r = execute("--input", writeDemoOutput("demo.json", demoJson(2)).toString(), "--out", file.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("for --out: it exists and is not a directory"), r.err());
    }

    @Test
    void testPageEscapesText() {
        assertEquals("a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39;", ReportPage.escape("a <b> & \"c\" 'd'"));
        SnapshotSeries s = new SnapshotSeries("topic <x&y>", Map.of("note", "<script>"), List.of(new SnapshotSeries.Point(1, 10, 64,
                0.5, 0.25, 1000, Map.of("fc<1>", 3))));
        String html = ReportPage.html(s);
        assertFalse(html.contains("<x&y>") || html.contains("<script>") || html.contains("fc<1>"), html);
        assertTrue(html.contains("topic &lt;x&amp;y&gt;") && html.contains("open fc&lt;1&gt;"), html);
    }
}
