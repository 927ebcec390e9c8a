package l0stream.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/** Both overlays render with kustomize, and every object they deploy is valid for its kind. */
class OverlayManifestsTest {

    /** What each overlay deploys, as "Kind name". */
    private static final Set<String> EXPECTED = new TreeSet<>(List.of(
            "Namespace l0stream", "ServiceAccount l0stream-flink", "Role l0stream-flink", "RoleBinding l0stream-flink",
            "FlinkDeployment l0stream-trainer", "ConfigMap l0stream-kafka-client", "ConfigMap l0stream-grafana-dashboards",
            "Kafka l0stream", "KafkaNodePool dual-role", "KafkaTopic images", "KafkaTopic images-dlq", "KafkaTopic snapshots",
            "KafkaUser l0stream-job", "KafkaUser l0stream-serving", "KafkaUser l0stream-producer",
            "Deployment l0stream-serving", "Service l0stream-serving", "PodMonitor l0stream-flink", "PodMonitor l0stream-serving"));

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu"})
    void testOverlayRendersEveryExpectedObject(String overlay) {
        List<Manifest> ms = KustomizeRender.manifests(Repository.overlay(overlay));
        Set<String> got = ms.stream().map(m -> m.kind() + " " + m.name()).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(EXPECTED, got, "objects of overlay " + overlay);
        for (Manifest m : ms) {
            if (!m.kind().equals("Namespace")) {
                assertEquals("l0stream", m.body().path("metadata").path("namespace").asText(), m + " namespace");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu"})
    void testEveryObjectIsValidForItsKind(String overlay) {
        List<String> violations = KustomizeRender.manifests(Repository.overlay(overlay)).stream()
                .flatMap(m -> ManifestSchemas.violations(m).stream()).toList();
        assertEquals(List.of(), violations, "schema violations in overlay " + overlay);
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu"})
    void testImagesPointAtTheRegistryNotTheBaseNames(String overlay) {
        List<Manifest> ms = KustomizeRender.manifests(Repository.overlay(overlay));
        JsonNode flink = only(ms, "FlinkDeployment").body();
        assertEquals("registry.example.com/l0stream/job:0.1.0-" + overlay, flink.at("/spec/image").asText());
        JsonNode serving = only(ms, "Deployment").body().at("/spec/template/spec/containers/0/image");
        assertEquals("registry.example.com/l0stream/serving:0.1.0", serving.asText());
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu"})
    void testJobRunsOnTheOverlaysDevice(String overlay) {
        JsonNode flink = only(KustomizeRender.manifests(Repository.overlay(overlay)), "FlinkDeployment").body();
        List<String> args = CliArgs.of(flink.at("/spec/job/args"));
        assertEquals(overlay, CliArgs.option(args, "device"), "--device of overlay " + overlay);
        assertEquals(1, args.stream().filter(a -> a.equals("--device")).count(), "--device given once: " + args);
        JsonNode conf = flink.at("/spec/flinkConfiguration");
        assertEquals("1", conf.path("taskmanager.numberOfTaskSlots").asText(), "one slot per TaskManager");
        assertTrue(conf.path("taskmanager.memory.task.off-heap.size").asText().matches("\\d+g"), "off-heap budget for libtorch");
        assertTrue(conf.path("env.java.opts.taskmanager").asText().contains("-Dai.djl.pytorch.num_threads="), "libtorch threads");
        assertEquals("ai.djl.", conf.path("classloader.parent-first-patterns.additional").asText());
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu"})
    void testCheckpointsAndHighAvailabilityUseDurableStorage(String overlay) {
        JsonNode conf = only(KustomizeRender.manifests(Repository.overlay(overlay)), "FlinkDeployment").body()
                .at("/spec/flinkConfiguration");
        for (String key : List.of("execution.checkpointing.dir", "execution.checkpointing.savepoint-dir", "high-availability.storageDir")) {
            assertTrue(conf.path(key).asText().matches("(s3|gs|abfss|hdfs)://.+"), key + " = " + conf.path(key));
        }
        assertEquals("kubernetes", conf.path("high-availability.type").asText());
        assertTrue(conf.path("restart-strategy.type").asText().equals("exponential-delay"), "restart strategy");
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu"})
    void testOnlyTheGpuOverlayRequestsGpus(String overlay) {
        JsonNode flink = only(KustomizeRender.manifests(Repository.overlay(overlay)), "FlinkDeployment").body();
        JsonNode conf = flink.at("/spec/flinkConfiguration");
        JsonNode tm = flink.at("/spec/taskManager/podTemplate/spec");
        if (overlay.equals("gpu")) {
            assertEquals("gpu", conf.path("external-resources").asText());
            assertEquals("1", conf.path("external-resource.gpu.amount").asText());
            assertEquals("nvidia.com/gpu", conf.path("external-resource.gpu.kubernetes.config-key").asText());
            assertEquals("org.apache.flink.externalresource.gpu.GPUDriverFactory",
                    conf.path("external-resource.gpu.driver-factory.class").asText());
            assertEquals("/opt/flink/plugins/external-resource-gpu/nvidia-gpu-discovery.sh",
                    conf.path("external-resource.gpu.param.discovery-script.path").asText());
            assertEquals("true", tm.at("/nodeSelector/nvidia.com~1gpu.present").asText());
            assertEquals("nvidia.com/gpu", tm.at("/tolerations/0/key").asText());
            // only the TaskManagers: the JobManager needs no GPU node
            assertTrue(flink.at("/spec/jobManager/podTemplate").isMissingNode(), "JobManager pod template");
            assertTrue(flink.at("/spec/podTemplate/spec/nodeSelector").isMissingNode(), "shared pod template nodeSelector");
        } else {
            assertTrue(conf.path("external-resources").isMissingNode(), "no external resources on cpu");
            assertTrue(tm.isMissingNode(), "no TaskManager placement on cpu");
        }
    }

    static Manifest only(List<Manifest> ms, String kind) {
        List<Manifest> of = ms.stream().filter(m -> m.kind().equals(kind)).toList();
        assertEquals(1, of.size(), "objects of kind " + kind);
        return of.get(0);
    }
}
