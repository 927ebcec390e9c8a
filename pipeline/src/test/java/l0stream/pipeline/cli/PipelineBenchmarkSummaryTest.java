package l0stream.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;

import java.util.List;

/** How {@code bench pipeline --rounds} turns rounds into one result. */
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
}
