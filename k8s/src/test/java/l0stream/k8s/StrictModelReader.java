package l0stream.k8s;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.cfg.MapperConfig;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.type.LogicalType;

import java.util.List;
import java.util.Optional;

/**
 * Reads a manifest into its Java model class (fabric8's Kubernetes model, Strimzi's API model)
 * and reports what the API server would refuse: a field the kind does not have, or a value of
 * the wrong type.
 *
 * <p>Both models are lenient on purpose (they keep unknown fields in an
 * {@code additionalProperties} map through {@code @JsonAnySetter}, and some classes ignore
 * unknown properties). This reader turns both off, disables scalar coercion (Kubernetes refuses
 * {@code replicas: "3"} and an env value of {@code 1}), and, for Strimzi, hides the properties
 * that the manifest's API version does not have ({@link StrimziApiVersions}).
 * Thread-safe once built.
 */
final class StrictModelReader {

    private final ObjectMapper mapper;

    /** @param apiVersion the version part of the manifests' apiVersion (e.g. {@code v1}); used for Strimzi kinds */
    StrictModelReader(String apiVersion) {
        JsonMapper m = JsonMapper.builder()
                .annotationIntrospector(new StrictIntrospector())
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .build();
        m.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        m.coercionConfigFor(LogicalType.Integer).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        m.coercionConfigFor(LogicalType.Boolean).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        m.registerModule(new SimpleModule("strimzi-api-versions").setDeserializerModifier(new StrimziApiVersions(apiVersion)));
        this.mapper = m;
    }

    /** The problem with {@code node} as a {@code type}, or empty when it reads cleanly. */
    Optional<String> violation(JsonNode node, Class<?> type) {
        try {
            mapper.treeToValue(node, type);
            return Optional.empty();
        } catch (UnrecognizedPropertyException e) {
            return Optional.of(path(e.getPath()) + ": unknown field \"" + e.getPropertyName() + "\" (" + e.getReferringClass().getSimpleName()
                    + " has " + e.getKnownPropertyIds() + ")");
        } catch (JsonMappingException e) {
            return Optional.of(path(e.getPath()) + ": " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            return Optional.of(e.getOriginalMessage());
        }
    }

    /** {@code spec.template.spec.containers[0].image} from Jackson's reference chain. */
    static String path(List<JsonMappingException.Reference> refs) {
        StringBuilder b = new StringBuilder();
        for (JsonMappingException.Reference r : refs) {
            if (r.getFieldName() != null) {
                b.append(b.length() == 0 ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                b.append('[').append(r.getIndex()).append(']');
            }
        }
        return b.length() == 0 ? "(root)" : b.toString();
    }

    /** Jackson's introspector without the models' leniency: no any-setters, no ignoreUnknown. */
    private static final class StrictIntrospector extends JacksonAnnotationIntrospector {

        private static final long serialVersionUID = 1L;

        @Override
        public Boolean hasAnySetter(Annotated a) {
            return Boolean.FALSE;
        }

        @Override
        public JsonIgnoreProperties.Value findPropertyIgnoralByName(MapperConfig<?> config, Annotated a) {
            return super.findPropertyIgnoralByName(config, a).withoutIgnoreUnknown();
        }
    }
}
