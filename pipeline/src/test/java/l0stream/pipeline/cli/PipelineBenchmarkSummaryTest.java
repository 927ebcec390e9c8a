package l0stream.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;

import java.util.List;

/** How {@code bench pipeline --rounds} turns rounds into one result, and which records its windows time. */
class PipelineBenchmarkSummaryTest {

    private static ObjectNode round(double ratio, double cpuRatio, long bareRate) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("pipeline_over_bare", ratio);
        o.put("cpu_per_image_over_bare", cpuRatio);
        o.put("bare_images_per_s", bareRate);
        return o;
    }

    @Test
    void testRatiosAreMediansAndTheRestIsTheMedianRounds() {
        // the round with the median pipeline / bare is the last one; its CPU ratio is not the median
        List<ObjectNode> rounds = List.of(round(0.711, 1.406, 1155), round(1.110, 0.915, 790), round(0.809, 1.244, 804));
        ObjectNode s = PipelineBenchmark.summary(rounds);
        assertEquals(0.809, s.get("pipeline_over_bare").asDouble(), 1e-12);
        assertEquals(1.244, s.get("cpu_per_image_over_bare").asDouble(), 1e-12);
        assertEquals(804, s.get("bare_images_per_s").asLong(), "figures of the median round");
        assertEquals(2, s.get("median_round").asInt());
        assertEquals(3, s.get("rounds").asInt());
        assertEquals("[0.711,1.11,0.809]", s.get("pipeline_over_bare_by_round").toString());
        assertEquals("[1.406,0.915,1.244]", s.get("cpu_per_image_over_bare_by_round").toString());
        // the inputs are left as they were
        assertEquals(0.711, rounds.get(0).get("pipeline_over_bare").asDouble(), 1e-12);
    }

    @Test
    void testCpuRatioMedianIsTakenOverItsOwnValues() {
        List<ObjectNode> rounds = List.of(round(0.70, 1.50, 1), round(0.80, 1.10, 2), round(0.90, 1.30, 3));
        ObjectNode s = PipelineBenchmark.summary(rounds);
        assertEquals(0.80, s.get("pipeline_over_bare").asDouble(), 1e-12);
        assertEquals(1.30, s.get("cpu_per_image_over_bare").asDouble(), 1e-12);
    }

    @Test
    void testOneRoundIsItself() {
        ObjectNode s = PipelineBenchmark.summary(List.of(round(0.75, 1.3, 1000)));
        assertEquals(0.75, s.get("pipeline_over_bare").asDouble(), 1e-12);
        assertEquals(1.3, s.get("cpu_per_image_over_bare").asDouble(), 1e-12);
        assertEquals(0, s.get("median_round").asInt());
    }

    @Test
    void testStartUpWindowMediansAreTakenLikeTheHeadlines() {
        List<ObjectNode> rounds = List.of(round(0.90, 1.05, 1), round(0.92, 1.10, 2), round(0.70, 1.40, 3));
        double[][] startup = {{0.80, 1.20}, {0.60, 1.60}, {0.75, 1.30}};
        for (int r = 0; r < 3; r++) {
            rounds.get(r).put("startup_pipeline_over_bare", startup[r][0]);
            rounds.get(r).put("startup_cpu_per_image_over_bare", startup[r][1]);
        }
        ObjectNode s = PipelineBenchmark.summary(rounds);
        assertEquals(0.90, s.get("pipeline_over_bare").asDouble(), 1e-12);
        assertEquals(0.75, s.get("startup_pipeline_over_bare").asDouble(), 1e-12, "its own median, not the headline's round");
        assertEquals(1.30, s.get("startup_cpu_per_image_over_bare").asDouble(), 1e-12);
        assertEquals("[0.8,0.6,0.75]", s.get("startup_pipeline_over_bare_by_round").toString());
    }

    @Test
    void testWindowsAreWholeBatchesAndTheStartUpWindowEndsBeforeTheHeadline() {
        List<PipelineBenchmark.Window> w = PipelineBenchmark.windows(64_000, 12_800, 64);
        assertEquals(new PipelineBenchmark.Window("", 64_000, 76_800), w.get(0));
        assertEquals(new PipelineBenchmark.Window("startup_", 6_400, 19_200), w.get(1));
        // records that do not fill a batch are not timed
        assertEquals(new PipelineBenchmark.Window("", 64_000, 64_000 + 12_800), PipelineBenchmark.windows(64_000, 12_850, 64).get(0));
        // a start-up window longer than the room before the headline is cut where the headline starts
        assertEquals(new PipelineBenchmark.Window("startup_", 6_400, 9_600), PipelineBenchmark.windows(9_600, 12_800, 64).get(1));
        // the old warm-up: no room for a start-up window
        assertEquals(1, PipelineBenchmark.windows(6_400, 12_800, 64).size());
        assertEquals(1, PipelineBenchmark.windows(0, 12_800, 64).size());
        assertFalse(PipelineBenchmark.windows(6_464, 12_800, 64).stream().anyMatch(x -> x.images() <= 0));
    }

    @Test
    void testRatiosAndTheJitShareOfAWindow() {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("startup_bare_images_per_s", 1000);
        o.put("startup_pipeline_images_per_s", 800);
        o.put("startup_bare_cpu_us_per_image", 2000);
        o.put("startup_pipeline_cpu_us_per_image", 2600);
        o.putObject("startup_pipeline_thread_cpu_us_per_image").put("Source: images", 2200).put("C# CompilerThre", 150)
                .put("AsyncOperations", 30);
        o.putObject("startup_bare_thread_cpu_us_per_image").put("bare-trainer", 1980).put("C# CompilerThre", 20);
        PipelineBenchmark.ratios(o, "startup_");
        assertEquals(0.8, o.get("startup_pipeline_over_bare").asDouble(), 1e-12);
        assertEquals(1.3, o.get("startup_cpu_per_image_over_bare").asDouble(), 1e-12);
        assertEquals(150, o.get("startup_pipeline_jit_cpu_us_per_image").asLong());
        assertEquals(20, o.get("startup_bare_jit_cpu_us_per_image").asLong());
        assertFalse(o.has("pipeline_over_bare"), "only the window asked for");
    }
}
