package l0stream.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.function.Consumer;

/**
 * The validators can fail: each takes a valid object of the rendered cpu overlay, breaks one
 * field the way people do (a typo, a wrong type, a field of another API version), and must
 * name that field.
 */
class ManifestSchemasTest {

    private static List<Manifest> rendered;

    @BeforeAll
    static void render() {
        rendered = KustomizeRender.manifests(Repository.overlay("cpu"));
    }

    /**
     * A misspelled field, per validator and kind: {@code kind, JSON pointer of its parent
     * object, field, misspelling}.
     */
    @ParameterizedTest(name = "{0}: {2} -> {3}")
    @CsvSource({
        // Kubernetes core kinds (fabric8 model)
        "Deployment, /spec/template/spec/containers/0, imagePullPolicy, imagePullPolcy",
        "Deployment, /spec/template/spec/containers/0/readinessProbe/httpGet, path, pth",
        "Service, /spec/ports/0, targetPort, targetport",
        "ConfigMap, '', data, datas",
        "Role, /rules/0, verbs, verb",
        // Prometheus Operator (fabric8's monitoring model)
        "PodMonitor, /spec/podMetricsEndpoints/0, port, prot",
        // FlinkDeployment (the operator CRD's schema; pod templates also through fabric8)
        "FlinkDeployment, /spec/job, upgradeMode, upgradeMod",
        "FlinkDeployment, /spec/taskManager, resource, resources",
        "FlinkDeployment, /spec/podTemplate/spec/containers/0, volumeMounts, volumeMount",
        "FlinkDeployment, /metadata, labels, label",
        // Strimzi (its API model)
        "Kafka, /spec/kafka, listeners, listners",
        "Kafka, /spec/kafka/listeners/0, authentication, authentification",
        "KafkaNodePool, /spec/storage/volumes/0, deleteClaim, deleteClaims",
        "KafkaTopic, /spec, partitions, partitons",
        "KafkaUser, /spec/authorization/acls/0, operations, operatons",
    })
    void testMisspelledFieldIsRefused(String kind, String parent, String field, String typo) {
        List<String> v = violationsAfter(kind, m -> {
            ObjectNode p = (ObjectNode) m.at(parent);
            assertTrue(p.has(field), kind + parent + " has no " + field + " to misspell");
            p.set(typo, p.remove(field));
        });
        assertFalse(v.isEmpty(), kind + " with " + typo + " passed validation");
        assertTrue(v.stream().anyMatch(s -> s.contains(typo)), "violation names " + typo + ": " + v);
    }

    @Test
    void testWrongScalarTypeIsRefused() {
        // Kubernetes refuses a number where a string goes (env values, label values) ...
        List<String> env = violationsAfter("Deployment",
                m -> ((ObjectNode) m.at("/spec/template/spec/containers/0/env/0")).put("value", 2));
        assertTrue(env.stream().anyMatch(s -> s.contains("env[0].value")), env.toString());
        // ... and the FlinkDeployment CRD wants every flinkConfiguration value as a string.
        List<String> conf = violationsAfter("FlinkDeployment",
                m -> ((ObjectNode) m.at("/spec/flinkConfiguration")).put("taskmanager.numberOfTaskSlots", 1));
        assertTrue(conf.stream().anyMatch(s -> s.contains("taskmanager.numberOfTaskSlots")), conf.toString());
        List<String> replicas = violationsAfter("KafkaTopic", m -> ((ObjectNode) m.at("/spec")).put("replicas", "3"));
        assertTrue(replicas.stream().anyMatch(s -> s.contains("replicas")), replicas.toString());
    }

    @Test
    void testEnumOutsideTheCrdIsRefused() {
        List<String> v = violationsAfter("FlinkDeployment", m -> ((ObjectNode) m.at("/spec/job")).put("upgradeMode", "last_state"));
        assertTrue(v.stream().anyMatch(s -> s.contains("upgradeMode")), v.toString());
    }

    @Test
    void testFlinkVersionMustBeTheImagesVersion() {
        CrdSchema crd = CrdSchema.fromClasspath("META-INF/fabric8/flinkdeployments.flink.apache.org-v1.yml", "v1beta1");
        // the 1.10.0 CRD really stops at v1_20: the one value we add is not in it
        List<String> shipped = crd.enumValues(ManifestSchemas.FLINK_VERSION_ENUM);
        assertEquals("v1_20", shipped.get(shipped.size() - 1), "last flinkVersion of the shipped CRD");
        assertFalse(shipped.contains(ManifestSchemas.FLINK_VERSION), shipped.toString());
        assertTrue(ManifestSchemas.flinkDeploymentSchema().enumValues(ManifestSchemas.FLINK_VERSION_ENUM)
                .contains(ManifestSchemas.FLINK_VERSION));
        // a version the CRD knows is still refused: the image runs Flink 2.2
        List<String> old = violationsAfter("FlinkDeployment", m -> ((ObjectNode) m.at("/spec")).put("flinkVersion", "v1_20"));
        assertTrue(old.stream().anyMatch(s -> s.contains("flinkVersion")), old.toString());
        // and one that neither knows fails the schema itself
        List<String> unknown = violationsAfter("FlinkDeployment", m -> ((ObjectNode) m.at("/spec")).put("flinkVersion", "v2_3"));
        assertTrue(unknown.stream().anyMatch(s -> s.contains("flinkVersion") && s.contains("enum")), unknown.toString());
    }

    @Test
    void testStrimziFieldOfAnotherApiVersionIsRefused() {
        // spec.kafka.replicas exists in kafka.strimzi.io/v1beta2 only (v1 takes it from node pools)
        List<String> v = violationsAfter("Kafka", m -> ((ObjectNode) m.at("/spec/kafka")).put("replicas", 3));
        assertTrue(v.stream().anyMatch(s -> s.contains("\"replicas\"")), v.toString());
        assertTrue(StrimziApiVersions.inRange("v1beta2", "v1alpha1-v1beta2"));
        assertTrue(StrimziApiVersions.inRange("v1", "v1beta2+"));
        assertFalse(StrimziApiVersions.inRange("v1", "v1beta2"));
        assertFalse(StrimziApiVersions.inRange("v1", "v1alpha1-v1beta2"));
    }

    @Test
    void testKindWithoutSchemaIsRefused() {
        Manifest m = Manifest.parseAll("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n", "test").get(0);
        List<String> v = ManifestSchemas.violations(m);
        assertEquals(1, v.size(), v.toString());
        assertTrue(v.get(0).contains("no schema for example.com/v1/Widget"), v.toString());
    }

    private static List<String> violationsAfter(String kind, Consumer<JsonNode> change) {
        Manifest original = rendered.stream().filter(m -> m.kind().equals(kind)).findFirst().orElseThrow();
        assertEquals(List.of(), ManifestSchemas.violations(original), "before the change");
        ObjectNode body = original.body().deepCopy();
        change.accept(body);
        return ManifestSchemas.violations(new Manifest(original.apiVersion(), original.kind(), original.name(), body));
    }
}
