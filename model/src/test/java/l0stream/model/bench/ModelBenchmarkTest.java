package l0stream.model.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;

/** The benchmark's pipeline works and reports every figure; speed itself is not asserted here. */
class ModelBenchmarkTest {

    @Test
    void testTinyRunReportsEveryFigure() throws Exception {
        ObjectNode r = ModelBenchmark.run(ModelBenchmark.parse(new String[] {
            "--steps", "3", "--batch", "8", "--prune-steps", "30", "--infer-batch", "16", "--infer-rounds", "2"}));
        for (String k : new String[] {"dense_images_per_s", "hc_images_per_s", "dep_images_per_s",
            "dep_step_time_over_dense", "flops_reduction", "gated_inference_images_per_s",
            "compact_inference_images_per_s", "compact_vs_gated_max_abs_diff"}) {
            assertTrue(r.has(k), "missing " + k);
        }
        assertTrue(r.get("dense_images_per_s").asDouble() > 0);
        assertTrue(r.get("flops_reduction").asDouble() > 0, "λ=5e-3 should prune something: " + r);
        assertTrue(r.get("compact_vs_gated_max_abs_diff").asDouble() <= 1e-4);
    }

    /** --vs-torch: the PyTorch baseline (Debian's python3-torch, as the oracle test) runs interleaved and is reported. */
    @Test
    void testVsTorchReportsTheRatios() throws Exception {
        ObjectNode r = ModelBenchmark.run(ModelBenchmark.parse(new String[] {
            "--steps", "4", "--batch", "8", "--prune-steps", "5", "--infer-batch", "16", "--infer-rounds", "2", "--vs-torch"}));
        for (String k : new String[] {"torch_dense_images_per_s", "torch_dep_images_per_s", "djl_over_torch_dense", "djl_over_torch_dep"}) {
            assertTrue(r.get(k).asDouble() > 0, k + " in " + r);
        }
        assertTrue(r.get("torch_version").asText().matches("\\d+\\.\\d+.*"), r.toString());
        assertEquals(r.get("djl_threads").asInt(), r.get("torch_threads").asInt(), "same intra-op thread count on both sides");
        double ratio = r.get("dense_images_per_s").asDouble() / r.get("torch_dense_images_per_s").asDouble();
        assertEquals(ratio, r.get("djl_over_torch_dense").asDouble(), 0.01 * ratio + 1e-3, "the ratio is DJL images/s over PyTorch's");
        assertThrows(IllegalArgumentException.class, () -> ModelBenchmark.parse(new String[] {"--vs-torch", "--device", "gpu"}));
    }

    @Test
    void testBadOptionNamesTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelBenchmark.parse(new String[] {"--steps", "zero"}));
        assertEquals("Invalid value zero for --steps: must be an integer >= 1", e.getMessage());
    }
}
