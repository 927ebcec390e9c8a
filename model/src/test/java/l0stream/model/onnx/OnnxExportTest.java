package l0stream.model.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import l0stream.model.DeviceChoice;
import l0stream.model.PyTorchRuntime;
import l0stream.model.SnapshotPredictor;
import l0stream.model.TestNetworks;
import l0stream.model.artifact.ArchitectureJson;
import l0stream.model.artifact.SnapshotArtifact;
import l0stream.model.artifact.TensorArchive;
import l0stream.model.gate.GateKind;
import l0stream.model.gate.GateNoise;
import l0stream.model.nn.Architecture;
import l0stream.model.nn.ChannelPruner;
import l0stream.model.nn.CompactNetwork;
import l0stream.model.nn.GatedNetwork;
import l0stream.model.nn.LayerSpec;
import l0stream.model.onnx.proto.Onnx.ModelProto;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Every exported model is run by ONNX Runtime itself and must answer what the DJL compact network
 * answers: logits and probabilities element by element within {@link #TOLERANCE}, relative to the
 * largest logit with a floor of 1 (so 1e-5 absolute for logits of magnitude ≤ 1; two correct float32
 * implementations that sum in different orders differ by about 1e-7 relative per operation).
 */
class OnnxExportTest {

    static final double TOLERANCE = 1e-5;
    private static final OrtEnvironment ORT = OrtEnvironment.getEnvironment();

    /** A pruned copy of a randomly initialised {@code arch} whose gates follow {@code patterns}. */
    static CompactNetwork pruned(Architecture arch, List<String> patterns, long seed) {
        Random rnd = new Random(seed);
        try (NDManager m = PyTorchRuntime.engine().newBaseManager();
             GatedNetwork net = new GatedNetwork(m, arch, GateKind.HC, new GateNoise(seed))) {
            TestNetworks.randomizeBatchNorm(net, rnd);
            int[] widths = arch.gatedWidths();
            for (int g = 0; g < widths.length; g++) {
                TestNetworks.set(net.gateParameters().get("log_alpha" + g),
                        TestNetworks.gatePattern(patterns.get(g % patterns.size()), widths[g], rnd));
            }
            return ChannelPruner.prune(net);
        }
    }

    /** Runs {@code onnx} in ONNX Runtime: {logits, probabilities}, each row-major n × classes. */
    static float[][] runOrt(byte[] onnx, float[] x, int n, Architecture a) throws OrtException {
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(1);
            try (OrtSession s = ORT.createSession(onnx, o);
                 OnnxTensor in = OnnxTensor.createTensor(ORT, FloatBuffer.wrap(x),
                         new long[] {n, a.inputChannels(), a.inputHeight(), a.inputWidth()});
                 OrtSession.Result r = s.run(Map.of(OnnxExport.INPUT, in))) {
                return new float[][] {floats(r, OnnxExport.LOGITS), floats(r, OnnxExport.PROBABILITIES)};
            }
        }
    }

    private static float[] floats(OrtSession.Result r, String name) {
        OnnxTensor t = (OnnxTensor) r.get(name).orElseThrow(() -> new AssertionError("no output " + name));
        FloatBuffer b = t.getFloatBuffer();
        float[] out = new float[b.remaining()];
        b.get(out);
        return out;
    }

    private static void assertSameAsDjl(CompactNetwork compact, boolean fold, String what) throws OrtException {
        Architecture a = compact.architecture();
        byte[] onnx = OnnxExport.export(compact, new OnnxExport.Options(fold, 3, Map.of()));
        Random rnd = new Random(5);
        int n = 7;
        float[] x = new float[n * a.inputSize()];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextFloat();
        }
        float[][] ort = runOrt(onnx, x, n, a);
        try (SnapshotPredictor p = SnapshotPredictor.of(compact, TensorArchive.json().createObjectNode(), DeviceChoice.CPU)) {
            assertClose(p.logits(x, n), ort[0], what + " logits");
            assertClose(p.predict(x, n), ort[1], what + " probabilities");
        }
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = 1;
        for (float v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        int worst = 0;
        double worstDiff = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(expected[i] - actual[i]);
            if (!(d <= worstDiff)) {
                worst = i;
                worstDiff = d;
            }
        }
        double limit = TOLERANCE * scale;
        assertTrue(worstDiff <= limit, what + ": element " + worst + " is " + actual[worst] + " in ONNX Runtime, "
                + expected[worst] + " in DJL (|diff| " + worstDiff + " > " + limit + ")");
    }

    @Test
    void testLenetExportsRunInOnnxRuntimeAsInDjlForSeveralGatePatterns() throws Exception {
        Architecture lenet = Architecture.lenet5Caffe();
        List<List<String>> patterns = List.of(List.of("all-open"), List.of("mixed"), List.of("single", "mixed", "single"),
                List.of("mixed", "all-closed", "mixed"));
        for (List<String> p : patterns) {
            CompactNetwork c = pruned(lenet, p, 11);
            assertSameAsDjl(c, false, "lenet " + p);
        }
        // a layer with exactly one open channel survives as width 1
        CompactNetwork single = pruned(lenet, List.of("single"), 11);
        assertEquals(1, single.architecture().layers().get(0).width());
    }

    @Test
    void testVggNarrowWithBatchNormExportsWithAndWithoutFolding() throws Exception {
        for (List<String> p : List.of(List.of("mixed"), List.of("mixed", "single"))) {
            CompactNetwork c = pruned(Architecture.vggNarrow(), p, 13);
            assertSameAsDjl(c, false, "vgg-narrow " + p + " BatchNorm nodes");
            assertSameAsDjl(c, true, "vgg-narrow " + p + " BatchNorm folded");
        }
    }

    @Test
    void testFoldingRemovesBatchNormNodesAndKeepsTheGraphOtherwise() {
        CompactNetwork c = pruned(Architecture.vggNarrow(), List.of("mixed"), 13);
        ModelProto plain = OnnxExport.model(c, new OnnxExport.Options(false, 0, Map.of()));
        ModelProto folded = OnnxExport.model(c, new OnnxExport.Options(true, 0, Map.of()));
        long convs = c.architecture().layers().stream().filter(l -> l instanceof LayerSpec.Conv).count();
        assertEquals(convs, ops(plain).stream().filter("BatchNormalization"::equals).count());
        assertFalse(ops(folded).contains("BatchNormalization"));
        List<String> rest = new ArrayList<>(ops(plain));
        rest.removeIf("BatchNormalization"::equals);
        assertEquals(rest, ops(folded));
    }

    private static List<String> ops(ModelProto m) {
        return m.getGraph().getNodeList().stream().map(n -> n.getOpType()).toList();
    }

    @Test
    void testExportIsDeterministicAndCarriesItsMetadata() throws Exception {
        CompactNetwork c = pruned(Architecture.lenet5Caffe(), List.of("mixed"), 17);
        ObjectNode meta = TensorArchive.json().createObjectNode().put("modelId", "fm").put("version", 42).put("step", 900);
        meta.putObject("nested").put("ignored", true);
        byte[] artifact = SnapshotArtifact.write(c, meta);
        assertArrayEquals(artifact, SnapshotArtifact.write(c, meta), "the same snapshot must give the same bytes");
        SnapshotArtifact.Loaded loaded = SnapshotArtifact.read(artifact);
        assertEquals(SnapshotArtifact.FORMAT_VERSION, loaded.formatVersion());
        byte[] onnx = loaded.sections().get(SnapshotArtifact.ONNX_SECTION);
        assertNotNull(onnx, "format 2 artifacts carry their ONNX form");
        try (OrtSession s = ORT.createSession(onnx)) {
            assertEquals(42, s.getMetadata().getVersion());
            Map<String, String> props = s.getMetadata().getCustomMetadata();
            assertEquals("fm", props.get("l0stream.modelId"));
            assertEquals("42", props.get("l0stream.version"));
            assertEquals("900", props.get("l0stream.step"));
            assertFalse(props.containsKey("l0stream.nested"), props.toString());
            assertEquals(OnnxExport.PRODUCER, s.getMetadata().getProducerName());
            assertEquals(List.of(OnnxExport.INPUT), new ArrayList<>(s.getInputNames()));
            assertEquals(List.of(OnnxExport.LOGITS, OnnxExport.PROBABILITIES), new ArrayList<>(s.getOutputNames()));
        }
        // export-time metadata is added without touching the graph
        byte[] stamped = OnnxExport.withMetadata(onnx, Map.of("l0stream.manifestSha256", "ab".repeat(32)));
        ModelProto a = OnnxExport.parse(onnx);
        ModelProto b = OnnxExport.parse(stamped);
        assertEquals(a.getGraph(), b.getGraph());
        assertEquals("ab".repeat(32), OnnxExport.metadata(b).get("l0stream.manifestSha256"));
        assertEquals("fm", OnnxExport.metadata(b).get("l0stream.modelId"));
    }

    @Test
    void testFormatOneArtifactsAreStillReadAndExportedOnDemand() throws Exception {
        CompactNetwork c = pruned(Architecture.lenet5Caffe(), List.of("mixed"), 19);
        ObjectNode meta = TensorArchive.json().createObjectNode().put("modelId", "old").put("version", 3);
        ObjectNode header = TensorArchive.json().createObjectNode().put("format", "l0stream-snapshot");
        header.set("architecture", ArchitectureJson.write(c.architecture()));
        header.set("metadata", meta);
        byte[] v1 = TensorArchive.write(SnapshotArtifact.MAGIC, 1, header, c.tensors().values());
        SnapshotArtifact.Loaded loaded = SnapshotArtifact.read(v1);
        assertEquals(1, loaded.formatVersion());
        assertTrue(loaded.sections().isEmpty());
        assertArrayEquals(SnapshotArtifact.read(SnapshotArtifact.write(c, meta)).onnx(), loaded.onnx(),
                "a format 1 artifact exports to exactly what format 2 embeds");
    }

    @Test
    void testAnUnsupportedLayerFailsNamingIt() {
        // a classifier with a ReLU has no logits to name: refused, never exported as a wrong graph
        Architecture a = new Architecture("relu-head", 1, 2, 2, List.of(new LayerSpec.Conv(2, 1, 0, false, false, false),
                new LayerSpec.Dense(2, false, true)));
        Map<String, TensorArchive.Tensor> t = new LinkedHashMap<>();
        t.put("layer0.weight", new TensorArchive.Tensor("layer0.weight", new long[] {2, 1, 1, 1}, new float[2]));
        t.put("layer0.bias", new TensorArchive.Tensor("layer0.bias", new long[] {2}, new float[2]));
        t.put("layer1.weight", new TensorArchive.Tensor("layer1.weight", new long[] {2, 8}, new float[16]));
        t.put("layer1.bias", new TensorArchive.Tensor("layer1.bias", new long[] {2}, new float[2]));
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> OnnxExport.export(new CompactNetwork(a, t), new OnnxExport.Options(false, 0, Map.of())));
        assertTrue(e.getMessage().contains("layer1"), e.getMessage());
    }
}
