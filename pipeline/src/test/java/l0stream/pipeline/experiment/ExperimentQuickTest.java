package l0stream.pipeline.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import l0stream.connectors.cli.Args;
import l0stream.connectors.dataset.FashionMnist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import javax.imageio.ImageIO;

/**
 * {@code experiment compare --quick} and {@code experiment drift --quick} end to end: every arm
 * runs, the CSV, JSON and PNG outputs are written and well-formed. This asserts the experiment's
 * plumbing, not its scientific outcome (a few thousand records settle nothing).
 */
class ExperimentQuickTest {

    @TempDir
    Path out;

    private static String dataset() {
        return FashionMnist.available(Path.of(FashionMnist.DEFAULT_DIR), FashionMnist.Split.TEST) ? "fashion-mnist" : "synthetic";
    }

    private static Args args(String... a) {
        List<String> opts = new ArrayList<>(List.of("--dataset", "--out", "--lambdas", "--lambda", "--records", "--trace-every"));
        return Args.parse(a, opts, List.of("--quick", "--json"));
    }

    @Test
    void testCompareQuick() throws Exception {
        ObjectNode r = ExperimentCommand.compare(args("--quick", "--dataset", dataset(), "--out", out.toString()));
        JsonNode runs = r.get("runs");
        assertEquals(7, runs.size(), "dense + 3 gated methods x 2 lambdas");
        for (JsonNode run : runs) {
            assertEquals(3000, run.get("records").asLong());
            double acc = run.get("test_accuracy").asDouble();
            assertTrue(acc > 0.1 && acc <= 1.0, "better than chance after 3,000 records: " + run);
            assertTrue(run.get("flops_reduction").asDouble() >= 0, run.toString());
            assertEquals(3, run.get("open_channels").asText().split(" ").length);
        }
        assertEquals(0.0, runs.get(0).get("flops_reduction").asDouble(), "dense prunes nothing");
        assertTrue(r.get("summary").has("dense_test_accuracy"));
        List<String> csv = Files.readAllLines(out.resolve("runs.csv"));
        assertEquals(8, csv.size(), "header + one line per run");
        assertTrue(csv.get(0).startsWith("method,lambda,gate_init,gate_lr,seed,records,prequential_accuracy,test_accuracy,flops_reduction"),
                csv.get(0));
        assertTrue(csv.get(2).startsWith("L0-HC,") && csv.get(2).contains(",reference,0.00100000,"), "each arm's gate init and rate: " + csv.get(2));
        assertPng(out.resolve("accuracy-vs-flops.png"));
        assertTrue(Files.size(out.resolve("summary.json")) > 100);
    }

    @Test
    void testDriftQuick() throws Exception {
        ObjectNode r = ExperimentCommand.drift(args("--quick", "--dataset", dataset(), "--out", out.toString()));
        assertEquals(2000, r.get("switch_at").asLong());
        assertEquals(2, r.get("runs").size(), "Dep-L0 forward without and with replay");
        assertEquals("Dep-L0 forward", r.get("runs").get(0).get("method").asText());
        assertEquals("Dep-L0 forward +replay", r.get("runs").get(1).get("method").asText());
        for (JsonNode run : r.get("runs")) {
            assertEquals(16, run.get("trace").size(), "a point every 250 of 4,000 records");
            assertTrue(!run.get("open_before_switch").asText().isEmpty());
            for (String k : new String[] {"all_class_test_accuracy", "old_task_test_accuracy", "false_alarms", "detection_delay_records",
                    "retention_accuracy", "flops_reduction"}) {
                assertTrue(run.has(k), k + " in " + run);
            }
            assertTrue(run.get("detections").isArray());
            assertEquals(run.get("false_alarms").asLong(),
                    java.util.stream.StreamSupport.stream(run.get("detections").spliterator(), false).filter(d -> d.asLong() < 2000).count());
        }
        assertPng(out.resolve("drift.png"));
        assertEquals(1 + 2 * 16, Files.readAllLines(out.resolve("trace.csv")).size());
    }

    /**
     * {@code experiment study} on a small plan: the parts run in order (tune, sweep with every seed, ablation),
     * each run is booked once, and a second invocation resumes: it runs nothing already in the ledger.
     */
    @Test
    void testStudyQuickRunsItsPartsAndResumes() throws Exception {
        String[] argv = {"--quick", "--dataset", dataset(), "--out", out.toString(), "--gate-lrs", "1e-3", "--hc-inits", "reference,louizos",
            "--tune-lambdas", "1e-4", "--lambdas", "1e-4", "--ablation-lambdas", "1e-4", "--seeds", "1,2",
            "--records", "1024", "--tune-records", "512", "--validation", "300"};
        Args a = Args.parse(argv, StudyCommand.OPTIONS, List.of("--quick", "--json"));
        List<String> said = new ArrayList<>();
        ObjectNode r = StudyCommand.run(a, said::add);
        // tune: dense + HC × 2 inits + 2 Dep chains = 5; sweep: (dense + 3 methods) × 2 seeds = 8; ablation: 2 chains × 2 seeds = 4
        List<String> csv = Files.readAllLines(out.resolve("runs.csv"));
        assertEquals(StudyRow.HEADER, csv.get(0));
        assertEquals(1 + 5 + 8 + 4, csv.size(), String.join("\n", csv));
        assertEquals(17, r.get("runs").asInt());
        List<StudyRow> rows = csv.subList(1, csv.size()).stream().map(StudyRow::parse).toList();
        assertEquals(List.of("tune", "sweep", "ablation"), rows.stream().map(StudyRow::part).distinct().toList(), "parts in order");
        for (StudyRow row : rows) {
            assertTrue(row.validation() > 0 && row.validation() <= 1, "scored on the validation split: " + row);
            assertEquals(row.part().equals("tune") ? 512 : 1024, row.records());
            assertEquals("cosine", row.schedule(), "every arm under the study's schedule");
            if (row.part().equals("ablation")) {
                assertEquals("open", row.gateInit());
            }
        }
        // the sweep runs each method at the rate and init the tune part chose
        for (String m : StudyReport.METHODS) {
            JsonNode c = r.get("chosen").get(m);
            assertTrue(rows.stream().filter(x -> x.part().equals("sweep") && x.method().equals(m))
                    .allMatch(x -> x.gateInit().equals(c.get("gate_init").asText()) && x.gateLr() == c.get("gate_lr").asDouble()), m);
        }
        JsonNode h = r.get("headline");
        assertEquals(2, h.get("dense_seeds").asInt());
        assertTrue(h.has("Dep-L0 forward - L0-HC") && h.has("Dep-L0 backward - L0-HC"), h.toString());
        assertEquals(4, r.get("sweep").size(), "dense + one λ per method");
        assertPng(out.resolve("study.png"));
        assertTrue(Files.readString(out.resolve("summary.txt")).contains("At matched accuracy"));

        List<String> again = new ArrayList<>();
        ObjectNode r2 = StudyCommand.run(a, again::add);
        assertEquals(csv, Files.readAllLines(out.resolve("runs.csv")), "a resumed study runs nothing twice");
        assertEquals(1, again.size(), "only the opening line, no run: " + again);
        assertEquals(r.get("headline"), r2.get("headline"));
    }

    private static void assertPng(Path p) throws Exception {
        BufferedImage img = ImageIO.read(p.toFile());
        assertTrue(img != null, p + " decodes as an image");
        assertEquals(ExperimentCharts.WIDTH, img.getWidth());
        assertEquals(ExperimentCharts.HEIGHT, img.getHeight());
    }
}
