package l0stream.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import l0stream.model.DeviceChoice;
import l0stream.model.ModelConfig;
import l0stream.model.SnapshotPredictor;
import l0stream.model.TestNetworks;
import l0stream.model.artifact.ArchitectureJson;
import l0stream.model.artifact.TensorArchive;
import l0stream.model.gate.GateKind;
import l0stream.model.gate.GateNoise;
import l0stream.model.gate.HardConcreteGate;
import l0stream.model.nn.Architecture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * PyTorch itself checks the Java/DJL math. For one training step of a real {@link L0Trainer}, this
 * test writes the parameters, buffers, input batch, labels and the gate noise the step drew
 * (docs/oracle-format.md), and {@code model/src/test/python/dep_l0_oracle.py} — an independent
 * PyTorch implementation written from the math in shared/DESIGN.md — computes the logits,
 * cross-entropy, penalty, every gradient, and the SGD-momentum + Adam update. Every tensor must
 * agree element-wise within 1e-5 relative to the largest magnitude in that tensor (the stated
 * absolute floor: two float32 implementations that sum in different orders differ by about 1e-7
 * of the largest term per operation, so a per-element relative bound would fail on elements that
 * are sums cancelling to ~0). The optimiser is checked on Java's own gradients (the oracle's
 * {@code given/} outputs; BatchNorm's running statistics, which no optimiser touches, on its own
 * step): Adam's first step maps a gradient difference at rounding level to ±lr,
 * so comparing updates computed from two sets of gradients would test rounding, not the algorithm.
 * A mismatch names the tensor and its worst element.
 */
class DepL0OracleTest {

    static final double RTOL = 1e-5;
    /** The largest |diff| ÷ tolerance seen in the current case: the margin, printed with each case. */
    private static final ThreadLocal<Double> WORST = ThreadLocal.withInitial(() -> 0.0);

    @TempDir
    Path dir;

    @Test
    void testLenetL0HcMatchesPyTorch() throws Exception {
        check("lenet5", GateKind.HC, 16);
    }

    @Test
    void testLenetDepL0ForwardMatchesPyTorch() throws Exception {
        check("lenet5", GateKind.DEP_FORWARD, 16);
    }

    @Test
    void testLenetDepL0BackwardMatchesPyTorch() throws Exception {
        check("lenet5", GateKind.DEP_BACKWARD, 16);
    }

    @Test
    void testVggNarrowWithBatchNormInTrainingModeMatchesPyTorch() throws Exception {
        check("vgg-narrow", GateKind.DEP_FORWARD, 8);
    }

    /**
     * The comparison has teeth: the oracle told that β is 0.7 (Java keeps 2/3) must disagree, and the
     * failures must name the tensors the wrong β reaches (the sampled gates' logits and the gate gradients).
     */
    @Test
    void testPlantedWrongBetaIsCaught() throws Exception {
        List<String> failures = compareWithOracle("lenet5", GateKind.DEP_FORWARD, 16, Map.of("beta", 0.7));
        assertTrue(failures.size() >= 5, "a wrong β must fail many tensors, failed: " + failures);
        assertTrue(failures.stream().anyMatch(f -> f.startsWith("logits")), failures.toString());
        assertTrue(failures.stream().anyMatch(f -> f.startsWith("grad/gates.")), failures.toString());
        assertTrue(failures.stream().anyMatch(f -> f.startsWith("penalty")), "β enters P(open), so the penalty: " + failures);
    }

    private void check(String network, GateKind gates, int n) throws Exception {
        List<String> failures = compareWithOracle(network, gates, n, Map.of());
        assertTrue(failures.isEmpty(), network + " " + gates.id() + ": Java differs from PyTorch in " + failures.size()
                + " tensors:\n  " + String.join("\n  ", failures));
    }

    /** Every tensor on which Java and the oracle disagree; {@code plantedHyper} overrides what the oracle is told. */
    private List<String> compareWithOracle(String network, GateKind gates, int n, Map<String, Double> plantedHyper) throws Exception {
        double lambda = 5e-3;
        ModelConfig cfg = ModelConfig.builder().setNetwork(network).setGates(gates).optLambda(lambda).optWeightLr(0.05)
                .optGateLr(0.01).optSeed(3).optDevice(DeviceChoice.CPU).build();
        Architecture arch = cfg.architecture();
        Path in = Files.createDirectories(dir.resolve("case"));
        Path out = dir.resolve("result");
        Map<String, float[]> java = new LinkedHashMap<>();
        Map<String, Double> javaScalars = new LinkedHashMap<>();
        TestNetworks.singleThreaded(() -> {
            try (L0Trainer t = L0Trainer.create(cfg)) {
                Batch b = TestNetworks.syntheticBatch(new Random(7), n, arch.inputChannels(), arch.inputHeight(),
                        arch.inputWidth(), arch.numClasses());
                ArrayNode tensors = TensorArchive.json().createArrayNode();
                Map<String, float[]> before = new LinkedHashMap<>();
                for (Map.Entry<String, NDArray> e : t.network().state().entrySet()) {
                    before.put(e.getKey(), e.getValue().toFloatArray());
                    write(in, tensors, e.getKey(), e.getValue().getShape().getShape(), e.getValue().toFloatArray());
                }
                write(in, tensors, "input", new long[] {n, arch.inputChannels(), arch.inputHeight(), arch.inputWidth()},
                        b.images());
                writeInts(in, tensors, "labels", b.labels());
                if (gates.gated()) {
                    int total = Arrays.stream(arch.gatedWidths()).sum();
                    // the step's own draw: its forward pass takes the next long of the trainer's noise stream
                    try (NDManager s = t.network().manager().newSubManager()) {
                        float[] noise = HardConcreteGate.logisticNoise(s, n, total, new GateNoise(t.noise().state()).nextLong())
                                .toFloatArray();
                        write(in, tensors, "noise_logit", new long[] {n, total}, noise);
                    }
                }
                Map<String, float[]> grads = new LinkedHashMap<>();
                StepResult r = t.train(b, lambda, (logits, g) -> {
                    java.put("logits", logits);
                    grads.putAll(g);
                });
                for (Map.Entry<String, float[]> g : grads.entrySet()) {
                    String name = t.network().state().containsKey(g.getKey()) ? g.getKey() : "gates." + g.getKey();
                    java.put("grad/" + name, g.getValue());
                    long[] shape = t.network().state().get(name).getShape().getShape();
                    write(in, tensors, "grad/" + name, shape, g.getValue());
                }
                t.network().state().forEach((k, v) -> java.put("after/" + k, v.toFloatArray()));
                java.put("det_logits_after", t.logits(b));
                try (SnapshotPredictor p = SnapshotPredictor.of(t.compact(), TensorArchive.json().createObjectNode(),
                        DeviceChoice.CPU)) {
                    java.put("compact_logits_after", p.logits(b.images(), n));
                }
                javaScalars.put("cross_entropy", r.crossEntropy());
                javaScalars.put("penalty", r.penalty());
                ObjectNode c = TensorArchive.json().createObjectNode();
                c.put("format", "l0stream-oracle-case").put("version", 1);
                ObjectNode a = ArchitectureJson.write(arch);
                // the oracle's architecture keys are snake_case
                for (JsonNode l : a.withArray("layers")) {
                    if (l.has("batchNorm")) {
                        ((ObjectNode) l).put("batch_norm", l.get("batchNorm").asBoolean());
                        ((ObjectNode) l).remove("batchNorm");
                    }
                }
                c.set("architecture", a);
                c.put("gates", gates.id());
                ObjectNode hyper = c.putObject("hyper").put("lambda", lambda).put("weight_lr", cfg.weightLr())
                        .put("momentum", cfg.momentum()).put("weight_decay", cfg.weightDecay()).put("gate_lr", cfg.gateLr());
                plantedHyper.forEach(hyper::put);
                c.put("adam_steps", 0);
                c.set("tensors", tensors);
                Files.write(in.resolve("case.json"), TensorArchive.json().writeValueAsBytes(c));
            }
            return null;
        });
        runOracle(in, out);
        JsonNode result = TensorArchive.json().readTree(out.resolve("result.json").toFile());
        Map<String, float[]> torch = readResult(out, result);
        List<String> failures = new ArrayList<>();
        for (String s : List.of("cross_entropy", "penalty")) {
            double want = result.get(s).asDouble();
            double got = javaScalars.get(s);
            if (!(Math.abs(got - want) <= RTOL * Math.max(Math.abs(want), 1e-7 / RTOL))) {
                failures.add(s + ": Java " + got + ", PyTorch " + want);
            }
        }
        int compared = 0;
        WORST.set(0.0);
        for (Map.Entry<String, float[]> e : java.entrySet()) {
            String name = e.getKey();
            // the optimiser is compared on Java's own gradients (see the class comment)
            boolean optimised = name.startsWith("after/") && !name.contains(".bn.running_");
            String want = optimised ? "given/" + name : name.equals("compact_logits_after") ? "det_logits_after" : name;
            float[] w = torch.get(want);
            if (w == null) {
                failures.add(name + ": PyTorch computed no " + want);
                continue;
            }
            String why = compare(e.getValue(), w);
            compared++;
            if (why != null) {
                failures.add(name + " (vs PyTorch " + want + "): " + why);
            }
        }
        System.out.printf(Locale.ROOT, "oracle %s %s%s: %d tensors, %d disagree, worst |diff| = %.2f x tolerance%n",
                network, gates.id(), plantedHyper.isEmpty() ? "" : " (planted " + plantedHyper + ")", compared, failures.size(), WORST.get());
        assertTrue(compared >= 10, "too few tensors compared: " + compared);
        return failures;
    }

    /** Null if {@code got} matches {@code want}; otherwise the worst element, described. */
    static String compare(float[] got, float[] want) {
        if (got.length != want.length) {
            return "length " + got.length + " vs " + want.length;
        }
        double scale = 0;
        for (float v : want) {
            scale = Math.max(scale, Math.abs(v));
        }
        double floor = Math.max(scale, 1e-7 / RTOL);
        int worst = -1;
        double worstRatio = 0;
        for (int i = 0; i < got.length; i++) {
            double ratio = Math.abs((double) got[i] - want[i]) / (RTOL * floor);
            if (!(ratio <= worstRatio)) {
                worst = i;
                worstRatio = ratio;
            }
        }
        WORST.set(Math.max(WORST.get(), worstRatio));
        if (worst < 0 || worstRatio <= 1) {
            return null;
        }
        return String.format(java.util.Locale.ROOT, "element %d is %.9g in Java, %.9g in PyTorch (|diff| %.3g = %.1f x tolerance %.3g)",
                worst, got[worst], want[worst], Math.abs((double) got[worst] - want[worst]), worstRatio, RTOL * floor);
    }

    private static void runOracle(Path in, Path out) throws Exception {
        String python = System.getenv().getOrDefault("L0STREAM_ORACLE_PYTHON", "/usr/bin/python3");
        Path script = Path.of(System.getProperty("l0stream.home", "..")).resolve("model/src/test/python/dep_l0_oracle.py");
        Process p = new ProcessBuilder(python, script.toString(), in.toString(), out.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the PyTorch oracle did not finish");
        assertEquals(0, p.exitValue(), "the PyTorch oracle failed (" + python + " needs Debian's python3-torch; "
                + "bin/l0stream test installs it):\n" + log);
    }

    private static Map<String, float[]> readResult(Path out, JsonNode result) throws IOException {
        Map<String, float[]> m = new LinkedHashMap<>();
        for (JsonNode t : result.get("tensors")) {
            byte[] bytes = Files.readAllBytes(out.resolve(t.get("file").asText()));
            float[] v = new float[bytes.length / 4];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
            m.put(t.get("name").asText(), v);
        }
        return m;
    }

    private static void write(Path dir, ArrayNode index, String name, long[] shape, float[] values) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        String file = name.replace('/', '_') + ".bin";
        Files.write(dir.resolve(file), b.array());
        ObjectNode e = index.addObject().put("name", name).put("file", file).put("dtype", "float32");
        ArrayNode s = e.putArray("shape");
        for (long d : shape) {
            s.add(d);
        }
    }

    private static void writeInts(Path dir, ArrayNode index, String name, int[] values) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(values);
        Files.write(dir.resolve(name + ".bin"), b.array());
        index.addObject().put("name", name).put("file", name + ".bin").put("dtype", "int32").putArray("shape").add(values.length);
    }
}
