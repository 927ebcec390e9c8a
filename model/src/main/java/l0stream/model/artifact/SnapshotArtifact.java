package l0stream.model.artifact;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import l0stream.model.nn.CompactNetwork;

/**
 * The snapshot artifact: a compact network in a {@link TensorArchive} with magic {@code L0SN}.
 *
 * <p>Header (format version 1):
 * <pre>{@code
 * {"format":"l0stream-snapshot",
 *  "architecture":{...ArchitectureJson...},
 *  "metadata":{...free-form JSON object: model id, version, step, accuracy, ...}}
 * }</pre>
 * Tensors: {@code layer<i>.weight} (conv: out×in×k×k, dense: out×in), {@code layer<i>.bias},
 * {@code layer<i>.bn.gamma|beta|running_mean|running_var}, all float32. The gates are already
 * folded into these weights; BatchNorm ε is 1e-5.
 */
public final class SnapshotArtifact {

    public static final String MAGIC = "L0SN";
    public static final int FORMAT_VERSION = 1;
    public static final String WHAT = "snapshot artifact";

    /** A decoded artifact: the network and its metadata. */
    public record Loaded(CompactNetwork network, ObjectNode metadata) {}

    private SnapshotArtifact() {}

    public static byte[] write(CompactNetwork network, ObjectNode metadata) {
        ObjectNode header = TensorArchive.json().createObjectNode();
        header.put("format", "l0stream-snapshot");
        header.set("architecture", ArchitectureJson.write(network.architecture()));
        header.set("metadata", metadata == null ? TensorArchive.json().createObjectNode() : metadata.deepCopy());
        return TensorArchive.write(MAGIC, FORMAT_VERSION, header, network.tensors().values());
    }

    public static Loaded read(byte[] bytes) throws ArtifactFormatException {
        TensorArchive.Contents c = TensorArchive.read(bytes, MAGIC, FORMAT_VERSION, WHAT);
        if (!"l0stream-snapshot".equals(c.header().path("format").asText())) {
            throw new ArtifactFormatException(WHAT + " header has format '" + c.header().path("format").asText()
                    + "', expected 'l0stream-snapshot'");
        }
        try {
            CompactNetwork net = new CompactNetwork(ArchitectureJson.read(c.header().get("architecture")), c.tensors());
            JsonNode meta = c.header().get("metadata");
            return new Loaded(net, meta instanceof ObjectNode o ? o : TensorArchive.json().createObjectNode());
        } catch (IllegalArgumentException e) {
            throw new ArtifactFormatException(WHAT + " is inconsistent: " + e.getMessage(), e);
        }
    }
}
