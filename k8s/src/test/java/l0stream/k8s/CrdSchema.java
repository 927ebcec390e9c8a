package l0stream.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.JsonMetaSchema;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.NonValidationKeyword;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Validates custom resources against the {@code openAPIV3Schema} of a CustomResourceDefinition,
 * the way the API server does with strict field validation: an object schema that lists its
 * {@code properties} accepts no other field (the API server would prune or, with
 * {@code kubectl apply --validate=strict}, refuse it), unless it says
 * {@code x-kubernetes-preserve-unknown-fields}. {@code apiVersion}, {@code kind} and
 * {@code metadata} are allowed at the top, as for every Kubernetes object (check
 * {@code metadata} with the ObjectMeta model). Immutable.
 */
final class CrdSchema {

    private static final YAMLMapper YAML = new YAMLMapper();
    /** The Kubernetes extensions a structural schema may carry; they do not validate anything here. */
    private static final List<String> KUBERNETES_KEYWORDS = List.of("x-kubernetes-int-or-string",
            "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource", "x-kubernetes-list-type",
            "x-kubernetes-list-map-keys", "x-kubernetes-map-type", "x-kubernetes-validations", "nullable");
    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4,
            b -> b.metaSchema(JsonMetaSchema.builder(JsonMetaSchema.getV4().getIri(), JsonMetaSchema.getV4())
                    .keywords(KUBERNETES_KEYWORDS.stream().map(NonValidationKeyword::new).toList()).build()));

    private final String kind;
    private final ObjectNode schema;
    private final JsonSchema compiled;

    private CrdSchema(String kind, ObjectNode schema) {
        this.kind = kind;
        this.schema = schema;
        this.compiled = FACTORY.getSchema(schema);
    }

    /** The schema of {@code version} in the CRD YAML at classpath {@code resource}. */
    static CrdSchema fromClasspath(String resource, String version) {
        JsonNode crd;
        try (InputStream in = CrdSchema.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("Invalid value " + resource + " for a CRD resource: not on the classpath");
            }
            crd = YAML.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the CRD " + resource + ": " + e.getMessage(), e);
        }
        String kind = crd.path("spec").path("names").path("kind").asText();
        for (JsonNode v : crd.path("spec").path("versions")) {
            if (v.path("name").asText().equals(version)) {
                ObjectNode s = ((ObjectNode) v.path("schema").path("openAPIV3Schema")).deepCopy();
                ObjectNode props = s.withObjectProperty("properties");
                props.set("apiVersion", JsonNodeFactory.instance.objectNode().put("type", "string"));
                props.set("kind", JsonNodeFactory.instance.objectNode().put("type", "string"));
                props.set("metadata", JsonNodeFactory.instance.objectNode().put("type", "object"));
                close(s);
                return new CrdSchema(kind, s);
            }
        }
        throw new IllegalStateException("Invalid value " + version + " for the version of " + resource + ": the CRD does not serve it");
    }

    /**
     * A copy that also accepts {@code value} in the enum at JSON pointer {@code pointer} (e.g.
     * {@code /properties/spec/properties/flinkVersion}). For a CRD that is older than a value
     * the operator that runs the resource accepts; say so where you use it.
     */
    CrdSchema withEnumValue(String pointer, String value) {
        ObjectNode copy = schema.deepCopy();
        JsonNode e = copy.at(pointer).path("enum");
        if (!(e instanceof ArrayNode values)) {
            throw new IllegalArgumentException("Invalid value " + pointer + " for an enum in the " + kind + " schema: no enum there");
        }
        values.add(value);
        return new CrdSchema(kind, copy);
    }

    /** The values the enum at {@code pointer} allows. */
    List<String> enumValues(String pointer) {
        List<String> values = new ArrayList<>();
        schema.at(pointer).path("enum").forEach(v -> values.add(v.asText()));
        return values;
    }

    /** Every schema violation of {@code resource}, as {@code /json/pointer: message}; empty when valid. */
    List<String> violations(JsonNode resource) {
        return compiled.validate(resource).stream()
                .map(ValidationMessage::getMessage)
                .sorted()
                .collect(Collectors.toList());
    }

    /** Adds additionalProperties: false to every object schema with properties and no other rule for extra fields. */
    private static void close(JsonNode node) {
        if (node instanceof ObjectNode o) {
            boolean preserves = o.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
            if (o.has("properties") && !o.has("additionalProperties") && !preserves) {
                o.put("additionalProperties", false);
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                close(it.next().getValue());
            }
        } else if (node instanceof ArrayNode a) {
            a.forEach(CrdSchema::close);
        }
    }
}
