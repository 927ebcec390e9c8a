package l0stream.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One Kubernetes object of a rendered multi-document YAML stream.
 *
 * @param apiVersion its {@code apiVersion}, e.g. {@code apps/v1}
 * @param kind       its {@code kind}
 * @param name       {@code metadata.name}
 * @param body       the whole object, as parsed
 */
record Manifest(String apiVersion, String kind, String name, ObjectNode body) {

    private static final YAMLMapper YAML = new YAMLMapper();

    /** {@code apiVersion/kind}, the key schemas are looked up by. */
    String type() {
        return apiVersion + "/" + kind;
    }

    @Override
    public String toString() {
        return kind + " " + name + " (" + apiVersion + ")";
    }

    /** Every non-empty document of {@code yaml}; each must be an object with apiVersion, kind and metadata.name. */
    static List<Manifest> parseAll(String yaml, String source) {
        List<Manifest> out = new ArrayList<>();
        try (MappingIterator<JsonNode> docs = YAML.readerFor(JsonNode.class).readValues(yaml)) {
            while (docs.hasNextValue()) {
                JsonNode doc = docs.nextValue();
                if (doc == null || doc.isNull() || doc.isMissingNode()) {
                    continue;
                }
                if (!(doc instanceof ObjectNode o)) {
                    throw new IllegalArgumentException("Invalid document in " + source + ": not an object: " + doc);
                }
                out.add(new Manifest(text(o, "apiVersion", source), text(o, "kind", source),
                        text(o.path("metadata"), "name", source), o));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Invalid YAML in " + source + ": " + e.getMessage(), e);
        }
        return out;
    }

    private static String text(JsonNode node, String field, String source) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new IllegalArgumentException("Invalid value " + v + " for " + field + " in a document of " + source);
        }
        return v.asText();
    }
}
