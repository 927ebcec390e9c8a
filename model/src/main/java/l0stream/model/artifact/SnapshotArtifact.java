package l0stream.model.artifact;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import l0stream.model.nn.CompactNetwork;
import l0stream.model.onnx.OnnxExport;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The snapshot artifact: a compact network in a {@link TensorArchive} with magic {@code L0SN}.
 * {@code docs/snapshot-format.md} specifies it byte by byte.
 *
 * <p>Header:
 * <pre>{@code
 * {"format":"l0stream-snapshot",
 *  "architecture":{...ArchitectureJson...},
 *  "metadata":{...free-form JSON object: model id, version, step, accuracy, ...}}
 * }</pre>
 * Tensors: {@code layer<i>.weight} (conv: out×in×k×k, dense: out×in), {@code layer<i>.bias},
 * {@code layer<i>.bn.gamma|beta|running_mean|running_var}, all float32. The gates are already
 * folded into these weights; BatchNorm ε is 1e-5.
 *
 * <p>Format 2 adds sections after the tensors; this writer emits one, {@value #ONNX_SECTION}: the
 * same network as an ONNX model ({@link OnnxExport}, BatchNorm not folded, the metadata's scalar
 * fields as {@code l0stream.<field>} metadata props). It sits inside the artifact, so the artifact's
 * SHA-256, and through it the manifest and its signature, cover it. Format 1 (no sections) is still
 * read; its ONNX form is derived from the tensors on demand ({@link Loaded#onnx()}).
 */
public final class SnapshotArtifact {

    public static final String MAGIC = "L0SN";
    public static final int FORMAT_VERSION = 2;
    /** The first format version with sections. */
    public static final int SECTIONS_SINCE = 2;
    public static final String ONNX_SECTION = "model.onnx";
    public static final String WHAT = "snapshot artifact";

    /** A decoded artifact: the network, its metadata and its sections (by name, in file order). */
    public record Loaded(CompactNetwork network, ObjectNode metadata, int formatVersion, Map<String, byte[]> sections) {

        /** The network as ONNX: the artifact's own section, or (format 1) exported now the same way. */
        public byte[] onnx() {
            byte[] own = sections.get(ONNX_SECTION);
            return own != null ? own : SnapshotArtifact.onnx(network, metadata, false);
        }
    }

    private SnapshotArtifact() {}

    public static byte[] write(CompactNetwork network, ObjectNode metadata) {
        ObjectNode meta = metadata == null ? TensorArchive.json().createObjectNode() : metadata.deepCopy();
        ObjectNode header = TensorArchive.json().createObjectNode();
        header.put("format", "l0stream-snapshot");
        header.set("architecture", ArchitectureJson.write(network.architecture()));
        header.set("metadata", meta);
        return TensorArchive.write(MAGIC, FORMAT_VERSION, header, network.tensors().values(),
                List.of(new TensorArchive.Section(ONNX_SECTION, onnx(network, meta, false))));
    }

    public static Loaded read(byte[] bytes) throws ArtifactFormatException {
        TensorArchive.Contents c = TensorArchive.read(bytes, MAGIC, FORMAT_VERSION, SECTIONS_SINCE, WHAT);
        if (!"l0stream-snapshot".equals(c.header().path("format").asText())) {
            throw new ArtifactFormatException(WHAT + " header has format '" + c.header().path("format").asText()
                    + "', expected 'l0stream-snapshot'");
        }
        try {
            CompactNetwork net = new CompactNetwork(ArchitectureJson.read(c.header().get("architecture")), c.tensors());
            JsonNode meta = c.header().get("metadata");
            return new Loaded(net, meta instanceof ObjectNode o ? o : TensorArchive.json().createObjectNode(),
                    c.version(), c.sections());
        } catch (IllegalArgumentException e) {
            throw new ArtifactFormatException(WHAT + " is inconsistent: " + e.getMessage(), e);
        }
    }

    /**
     * The network as ONNX the way this writer makes its section ({@code foldBatchNorm} false):
     * {@code model_version} = the metadata's {@code version}, every scalar metadata field as a
     * {@code l0stream.<field>} prop.
     */
    public static byte[] onnx(CompactNetwork network, ObjectNode metadata, boolean foldBatchNorm) {
        Map<String, String> props = new LinkedHashMap<>();
        metadata.fields().forEachRemaining(e -> {
            if (e.getValue().isValueNode()) {
                props.put(OnnxExport.METADATA_PREFIX + e.getKey(), e.getValue().asText());
            }
        });
        return OnnxExport.export(network, new OnnxExport.Options(foldBatchNorm, metadata.path("version").asLong(0), props));
    }
}
