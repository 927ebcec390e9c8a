package l0stream.model.artifact;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import l0stream.model.nn.Architecture;
import l0stream.model.nn.LayerSpec;

import java.util.ArrayList;
import java.util.List;

/**
 * The JSON form of an {@link Architecture} inside artifacts:
 * {@code {"name":..,"input":[C,H,W],"layers":[{"type":"conv","width":..,"kernel":..,"padding":..,
 * "batchNorm":..,"pool":..,"gated":..} | {"type":"dense","width":..,"gated":..,"relu":..}]}}.
 */
public final class ArchitectureJson {

    private ArchitectureJson() {}

    public static ObjectNode write(Architecture a) {
        ObjectNode o = TensorArchive.json().createObjectNode();
        o.put("name", a.name());
        o.putArray("input").add(a.inputChannels()).add(a.inputHeight()).add(a.inputWidth());
        ArrayNode layers = o.putArray("layers");
        for (LayerSpec l : a.layers()) {
            ObjectNode n = layers.addObject();
            if (l instanceof LayerSpec.Conv c) {
                n.put("type", "conv").put("width", c.width()).put("kernel", c.kernel())
                        .put("padding", c.padding()).put("batchNorm", c.batchNorm()).put("pool", c.pool())
                        .put("gated", c.gated());
            } else {
                LayerSpec.Dense d = (LayerSpec.Dense) l;
                n.put("type", "dense").put("width", d.width()).put("gated", d.gated()).put("relu", d.relu());
            }
        }
        return o;
    }

    public static Architecture read(JsonNode o) throws ArtifactFormatException {
        try {
            JsonNode in = required(o, "input");
            List<LayerSpec> layers = new ArrayList<>();
            for (JsonNode n : required(o, "layers")) {
                String type = required(n, "type").asText();
                int width = required(n, "width").asInt();
                if (type.equals("conv")) {
                    layers.add(new LayerSpec.Conv(width, required(n, "kernel").asInt(),
                            required(n, "padding").asInt(), required(n, "batchNorm").asBoolean(),
                            required(n, "pool").asBoolean(), required(n, "gated").asBoolean()));
                } else if (type.equals("dense")) {
                    layers.add(new LayerSpec.Dense(width, required(n, "gated").asBoolean(),
                            required(n, "relu").asBoolean()));
                } else {
                    throw new ArtifactFormatException("Invalid value " + type + " for layers[].type: expected conv or dense");
                }
            }
            return new Architecture(required(o, "name").asText(), in.get(0).asInt(), in.get(1).asInt(),
                    in.get(2).asInt(), layers);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new ArtifactFormatException("Invalid architecture in artifact: " + e.getMessage(), e);
        }
    }

    private static JsonNode required(JsonNode o, String field) throws ArtifactFormatException {
        JsonNode v = o == null ? null : o.get(field);
        if (v == null || v.isNull()) {
            throw new ArtifactFormatException("Invalid artifact: architecture field '" + field + "' is missing");
        }
        return v;
    }
}
