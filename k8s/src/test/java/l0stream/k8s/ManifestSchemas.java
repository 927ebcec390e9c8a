package l0stream.k8s;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.nodepool.KafkaNodePool;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import io.strimzi.api.kafka.model.user.KafkaUser;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The schema of every kind l0stream deploys, and the check of one manifest against it:
 * <ul>
 *   <li>Kubernetes kinds and the Prometheus Operator's PodMonitor: fabric8's model, read
 *       strictly ({@link StrictModelReader});
 *   <li>Strimzi's Kafka, KafkaNodePool, KafkaTopic, KafkaUser: Strimzi's API model (io.strimzi:api),
 *       read strictly, with the fields that the manifest's API version lacks refused;
 *   <li>FlinkDeployment: the CRD schema shipped in flink-kubernetes-operator-api ({@link CrdSchema}),
 *       its metadata and pod templates also through fabric8's model.
 * </ul>
 * A kind with no schema here is a violation, so nothing is deployed unchecked.
 */
final class ManifestSchemas {

    /** The Flink version the job image runs; see {@link #flinkDeploymentSchema()}. */
    static final String FLINK_VERSION = "v2_2";
    static final String FLINK_VERSION_ENUM = "/properties/spec/properties/flinkVersion";

    private static final Map<String, Class<?>> MODELS = Map.ofEntries(
            Map.entry("v1/Namespace", Namespace.class),
            Map.entry("v1/ServiceAccount", ServiceAccount.class),
            Map.entry("v1/ConfigMap", ConfigMap.class),
            Map.entry("v1/Secret", Secret.class),
            Map.entry("v1/Service", Service.class),
            Map.entry("apps/v1/Deployment", Deployment.class),
            Map.entry("batch/v1/Job", Job.class),
            Map.entry("rbac.authorization.k8s.io/v1/Role", Role.class),
            Map.entry("rbac.authorization.k8s.io/v1/RoleBinding", RoleBinding.class),
            Map.entry("monitoring.coreos.com/v1/PodMonitor", PodMonitor.class),
            Map.entry("kafka.strimzi.io/v1/Kafka", Kafka.class),
            Map.entry("kafka.strimzi.io/v1/KafkaNodePool", KafkaNodePool.class),
            Map.entry("kafka.strimzi.io/v1/KafkaTopic", KafkaTopic.class),
            Map.entry("kafka.strimzi.io/v1/KafkaUser", KafkaUser.class));

    private static final CrdSchema FLINK_DEPLOYMENT = flinkDeploymentSchema();
    /** One strict reader per API version (they differ only for Strimzi kinds). */
    private static final Map<String, StrictModelReader> READERS = new ConcurrentHashMap<>();

    private ManifestSchemas() {}

    /**
     * The FlinkDeployment schema of flink-kubernetes-operator-api 1.10.0 (the only version
     * Maven Central serves here that knows FlinkDeployment v1beta1 with Flink 1.20), with one
     * deliberate change: its {@code flinkVersion} enum stops at {@code v1_20}, and we deploy
     * Flink 2.2, which newer operators accept as {@code v2_2}. Only that value is added; every
     * other field is checked as the CRD says. {@link #violations} also refuses any flinkVersion
     * other than {@value #FLINK_VERSION}.
     */
    static CrdSchema flinkDeploymentSchema() {
        return CrdSchema.fromClasspath("META-INF/fabric8/flinkdeployments.flink.apache.org-v1.yml", "v1beta1")
                .withEnumValue(FLINK_VERSION_ENUM, FLINK_VERSION);
    }

    /** Every violation of {@code m}, each naming the manifest and the field; empty when valid. */
    static List<String> violations(Manifest m) {
        List<String> out = new ArrayList<>();
        String version = m.apiVersion().substring(m.apiVersion().lastIndexOf('/') + 1);
        StrictModelReader reader = READERS.computeIfAbsent(version, StrictModelReader::new);
        Class<?> model = MODELS.get(m.type());
        if (model != null) {
            reader.violation(m.body(), model).ifPresent(out::add);
        } else if (m.type().equals("flink.apache.org/v1beta1/FlinkDeployment")) {
            out.addAll(FLINK_DEPLOYMENT.violations(m.body()));
            reader.violation(m.body().path("metadata"), ObjectMeta.class).ifPresent(v -> out.add("metadata." + v));
            Stream.of("/spec/podTemplate", "/spec/jobManager/podTemplate", "/spec/taskManager/podTemplate")
                    .filter(p -> !m.body().at(p).isMissingNode())
                    .forEach(p -> reader.violation(m.body().at(p), Pod.class).ifPresent(v -> out.add(p + ": " + v)));
            JsonNode flinkVersion = m.body().at("/spec/flinkVersion");
            if (!flinkVersion.asText().equals(FLINK_VERSION)) {
                out.add("spec.flinkVersion: " + flinkVersion + " is not " + FLINK_VERSION + ", the Flink version of the job image"
                        + " (the only value added to the 1.10.0 CRD's enum)");
            }
        } else {
            out.add("no schema for " + m.type() + ": add it to ManifestSchemas before deploying it");
        }
        return out.stream().map(v -> m + ": " + v).toList();
    }
}
