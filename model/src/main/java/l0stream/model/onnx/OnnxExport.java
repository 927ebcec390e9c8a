package l0stream.model.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;

import l0stream.model.artifact.ArtifactFormatException;
import l0stream.model.artifact.TensorArchive.Tensor;
import l0stream.model.nn.Architecture;
import l0stream.model.nn.CompactNetwork;
import l0stream.model.nn.GatedNetwork;
import l0stream.model.nn.LayerSpec;
import l0stream.model.onnx.proto.Onnx.AttributeProto;
import l0stream.model.onnx.proto.Onnx.GraphProto;
import l0stream.model.onnx.proto.Onnx.ModelProto;
import l0stream.model.onnx.proto.Onnx.NodeProto;
import l0stream.model.onnx.proto.Onnx.OperatorSetIdProto;
import l0stream.model.onnx.proto.Onnx.StringStringEntryProto;
import l0stream.model.onnx.proto.Onnx.TensorProto;
import l0stream.model.onnx.proto.Onnx.TensorShapeProto;
import l0stream.model.onnx.proto.Onnx.TypeProto;
import l0stream.model.onnx.proto.Onnx.ValueInfoProto;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@link CompactNetwork} as an ONNX model (IR version {@value #IR_VERSION}, default-domain
 * opset {@value #OPSET}) with the protobuf classes generated at build time from
 * {@code src/main/proto/onnx.proto}.
 *
 * <p>The graph is the network {@link CompactNetwork#toBlock} builds, node for node: per conv layer
 * {@code Conv → [BatchNormalization] → Relu → [MaxPool 2×2/2]}, a {@code Flatten(axis=1)} before the
 * first dense layer, per dense layer {@code Gemm(transB=1) → [Relu]}; the last layer's output is
 * {@value #LOGITS}, and {@code Softmax(axis=1)} of it is {@value #PROBABILITIES}. The input
 * {@value #INPUT} is float32 {@code [batch, C, H, W]} with a symbolic batch dimension. Initializers
 * keep the artifact's tensor names ({@code layer<i>.weight}, …) and are stored little-endian in
 * {@code raw_data}. With {@link Options#foldBatchNorm} each BatchNorm is folded into its conv
 * (w·γ/√(σ²+ε), β − μ·γ/√(σ²+ε), computed in double), which removes the BatchNormalization nodes.
 *
 * <p>The output is a pure function of the network and the options: the same inputs give the same
 * bytes, so a snapshot's SHA-256 stays reproducible.
 */
public final class OnnxExport {

    public static final int IR_VERSION = 10;
    public static final int OPSET = 21;
    public static final String INPUT = "input";
    public static final String LOGITS = "logits";
    public static final String PROBABILITIES = "probabilities";
    public static final String PRODUCER = "l0stream";
    /** Version of this exporter's graph layout; bumped whenever the same network would export differently. */
    public static final String EXPORTER_VERSION = "1";
    /** Prefix of every metadata key l0stream writes into a model's {@code metadata_props}. */
    public static final String METADATA_PREFIX = "l0stream.";

    private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;

    /**
     * @param foldBatchNorm fold every BatchNorm into its conv's weight and bias
     * @param modelVersion  the ONNX {@code model_version} (the snapshot version; 0 for none)
     * @param metadata      {@code metadata_props} entries, written in this order
     */
    public record Options(boolean foldBatchNorm, long modelVersion, Map<String, String> metadata) {
        public Options {
            metadata = metadata == null ? Map.of() : new LinkedHashMap<>(metadata);
        }
    }

    private OnnxExport() {}

    public static byte[] export(CompactNetwork network, Options options) {
        return model(network, options).toByteArray();
    }

    /**
     * The ONNX model of {@code network}.
     *
     * @throws UnsupportedOperationException naming the layer, for a layer kind this exporter does not know
     */
    public static ModelProto model(CompactNetwork network, Options options) {
        Architecture arch = network.architecture();
        Map<String, Tensor> tensors = network.tensors();
        GraphProto.Builder g = GraphProto.newBuilder().setName(arch.name());
        g.addInput(valueInfo(INPUT, "batch", arch.inputChannels(), arch.inputHeight(), arch.inputWidth()));
        String x = INPUT;
        boolean flattened = false;
        List<LayerSpec> layers = arch.layers();
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec l = layers.get(i);
            String p = "layer" + i;
            boolean last = i == layers.size() - 1;
            if (l instanceof LayerSpec.Conv c) {
                String w = p + ".weight";
                String b = c.bias() ? p + ".bias" : null;
                boolean fold = c.batchNorm() && options.foldBatchNorm();
                if (fold) {
                    Tensor[] folded = foldBatchNorm(tensors, p, c.width());
                    g.addInitializer(initializer(folded[0]));
                    g.addInitializer(initializer(folded[1]));
                    b = p + ".bias";
                } else {
                    g.addInitializer(initializer(tensors.get(w)));
                    if (b != null) {
                        g.addInitializer(initializer(tensors.get(b)));
                    }
                }
                NodeProto.Builder conv = node("Conv", p + ".conv", b == null ? List.of(x, w) : List.of(x, w, b),
                        p + ".conv")
                        .addAttribute(ints("kernel_shape", c.kernel(), c.kernel()))
                        .addAttribute(ints("pads", c.padding(), c.padding(), c.padding(), c.padding()))
                        .addAttribute(ints("strides", 1, 1))
                        .addAttribute(ints("dilations", 1, 1))
                        .addAttribute(integer("group", 1));
                g.addNode(conv);
                x = p + ".conv";
                if (c.batchNorm() && !fold) {
                    List<String> in = List.of(x, p + ".bn.gamma", p + ".bn.beta", p + ".bn.running_mean",
                            p + ".bn.running_var");
                    for (String t : in.subList(1, in.size())) {
                        g.addInitializer(initializer(tensors.get(t)));
                    }
                    g.addNode(node("BatchNormalization", p + ".bn", in, p + ".bn")
                            .addAttribute(real("epsilon", (float) GatedNetwork.BN_EPSILON)));
                    x = p + ".bn";
                }
                g.addNode(node("Relu", p + ".relu", List.of(x), p + ".relu"));
                x = p + ".relu";
                if (c.pool()) {
                    g.addNode(node("MaxPool", p + ".pool", List.of(x), p + ".pool")
                            .addAttribute(ints("kernel_shape", 2, 2))
                            .addAttribute(ints("strides", 2, 2))
                            .addAttribute(ints("pads", 0, 0, 0, 0)));
                    x = p + ".pool";
                }
            } else if (l instanceof LayerSpec.Dense d) {
                if (!flattened) {
                    g.addNode(node("Flatten", "flatten", List.of(x), "flatten").addAttribute(integer("axis", 1)));
                    x = "flatten";
                    flattened = true;
                }
                g.addInitializer(initializer(tensors.get(p + ".weight")));
                g.addInitializer(initializer(tensors.get(p + ".bias")));
                String out = last ? LOGITS : p + ".gemm";
                g.addNode(node("Gemm", p + ".gemm", List.of(x, p + ".weight", p + ".bias"), out)
                        .addAttribute(integer("transB", 1)));
                x = out;
                if (d.relu()) {
                    if (last) {
                        throw new UnsupportedOperationException("Cannot export " + p + " (" + l
                                + ") to ONNX: the classifier layer has a ReLU, so its output is not the logits");
                    }
                    g.addNode(node("Relu", p + ".relu", List.of(x), p + ".relu"));
                    x = p + ".relu";
                }
            } else {
                throw new UnsupportedOperationException("Cannot export " + p + " (" + l + ") to ONNX: the exporter "
                        + "knows conv and dense layers only");
            }
        }
        if (!LOGITS.equals(x)) {
            throw new UnsupportedOperationException("Cannot export " + arch.name() + " to ONNX: its last layer ("
                    + layers.get(layers.size() - 1) + ") is not a dense classifier");
        }
        g.addNode(node("Softmax", "softmax", List.of(LOGITS), PROBABILITIES).addAttribute(integer("axis", 1)));
        g.addOutput(valueInfo(LOGITS, "batch", arch.numClasses()));
        g.addOutput(valueInfo(PROBABILITIES, "batch", arch.numClasses()));
        ModelProto.Builder m = ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setProducerName(PRODUCER)
                .setProducerVersion(EXPORTER_VERSION)
                .setDomain("io.l0stream")
                .setModelVersion(options.modelVersion())
                .setDocString("l0stream compact network '" + arch.name() + "': input float32 [batch, "
                        + arch.inputChannels() + ", " + arch.inputHeight() + ", " + arch.inputWidth()
                        + "] (pixels / 255), outputs logits and probabilities [batch, " + arch.numClasses() + "]")
                .setGraph(g);
        options.metadata().forEach((k, v) -> m.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return m.build();
    }

    /** Parses ONNX bytes with the generated schema. */
    public static ModelProto parse(byte[] onnx) throws ArtifactFormatException {
        try {
            return ModelProto.parseFrom(onnx);
        } catch (InvalidProtocolBufferException e) {
            throw new ArtifactFormatException("Invalid ONNX model: " + e.getMessage(), e);
        }
    }

    /** The model's {@code metadata_props} as a map, in file order. */
    public static Map<String, String> metadata(ModelProto model) {
        Map<String, String> out = new LinkedHashMap<>();
        model.getMetadataPropsList().forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    /**
     * The same model with {@code extra} entries set in its {@code metadata_props} (an existing key
     * is replaced in place, new keys are appended).
     */
    public static byte[] withMetadata(byte[] onnx, Map<String, String> extra) throws ArtifactFormatException {
        ModelProto model = parse(onnx);
        Map<String, String> props = metadata(model);
        props.putAll(extra);
        ModelProto.Builder b = model.toBuilder().clearMetadataProps();
        props.forEach((k, v) -> b.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return b.build().toByteArray();
    }

    private static Tensor[] foldBatchNorm(Map<String, Tensor> tensors, String p, int width) {
        Tensor w = tensors.get(p + ".weight");
        float[] gamma = tensors.get(p + ".bn.gamma").data();
        float[] beta = tensors.get(p + ".bn.beta").data();
        float[] mean = tensors.get(p + ".bn.running_mean").data();
        float[] var = tensors.get(p + ".bn.running_var").data();
        float[] nw = new float[w.data().length];
        float[] nb = new float[width];
        int per = w.data().length / width;
        for (int o = 0; o < width; o++) {
            double scale = gamma[o] / Math.sqrt((double) var[o] + GatedNetwork.BN_EPSILON);
            for (int k = 0; k < per; k++) {
                nw[o * per + k] = (float) (w.data()[o * per + k] * scale);
            }
            nb[o] = (float) (beta[o] - mean[o] * scale);
        }
        return new Tensor[] {new Tensor(p + ".weight", w.shape(), nw), new Tensor(p + ".bias", new long[] {width}, nb)};
    }

    private static TensorProto initializer(Tensor t) {
        ByteBuffer raw = ByteBuffer.allocate(t.data().length * 4).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(t.data());
        TensorProto.Builder b = TensorProto.newBuilder().setName(t.name()).setDataType(FLOAT)
                .setRawData(ByteString.copyFrom(raw.array()));
        for (long d : t.shape()) {
            b.addDims(d);
        }
        return b.build();
    }

    private static ValueInfoProto valueInfo(String name, String batch, int... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(batch));
        for (int d : dims) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(FLOAT).setShape(shape))).build();
    }

    private static NodeProto.Builder node(String op, String name, List<String> inputs, String output) {
        return NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(inputs).addOutput(output);
    }

    private static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            b.addInts(v);
        }
        return b.build();
    }

    private static AttributeProto integer(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    private static AttributeProto real(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }
}
