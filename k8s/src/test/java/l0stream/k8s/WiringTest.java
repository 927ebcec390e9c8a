package l0stream.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The pieces fit together: the job and serving get options they really have, the topics and
 * users they name exist with the rights they need, mounted files are where the arguments say,
 * Prometheus and the Service select the pods and ports that exist, and the image layout matches
 * the FlinkDeployment. (Schemas check each object alone; this checks them against each other.)
 */
class WiringTest {

    private static List<Manifest> ms;
    private static JsonNode flink;
    private static List<String> job;
    private static List<String> serve;

    @BeforeAll
    static void render() {
        ms = KustomizeRender.manifests(Repository.overlay("gpu"));
        flink = OverlayManifestsTest.only(ms, "FlinkDeployment").body();
        job = CliArgs.of(flink.at("/spec/job/args"));
        serve = CliArgs.of(serving().at("/spec/template/spec/containers/0/args"));
    }

    @Test
    void testJobGetsOnlyRealKeysFromARealEntryClass() {
        assertTrue(Files.isRegularFile(SourceOptions.sourceOf(flink.at("/spec/job/entryClass").asText(), "pipeline")),
                "entry class " + flink.at("/spec/job/entryClass") + " not in pipeline/src/main/java");
        Set<String> known = SourceOptions.jobKeys();
        assertTrue(known.contains("bootstrap") && known.contains("signing-key"), "job keys found in the sources: " + known);
        for (String key : CliArgs.keys(job)) {
            assertTrue(key.equals("target") || known.contains(key), "--" + key + " is not a job key " + known);
        }
    }

    @Test
    void testServingGetsOnlyRealOptions() {
        Set<String> known = SourceOptions.cliOptions("l0stream.serving.ServeCommand", "serving");
        for (String key : CliArgs.keys(serve)) {
            assertTrue(known.contains("--" + key), "--" + key + " is not a serve option " + known);
        }
    }

    @Test
    void testTopicsTheJobAndServingUseExist() {
        Map<String, JsonNode> topics = topics();
        String input = CliArgs.option(job, "input-topic");
        String snapshots = CliArgs.option(job, "snapshot-topic");
        for (String t : List.of(input, input + ".dlq", snapshots)) {
            assertTrue(topics.containsKey(t), "no KafkaTopic for " + t + " in " + topics.keySet());
        }
        assertEquals(snapshots, CliArgs.option(serve, "snapshots"), "serving reads the job's snapshot topic");
    }

    @Test
    void testSnapshotTopicFitsTheChunksAndKeepsThem() {
        JsonNode config = topics().get(CliArgs.option(job, "snapshot-topic")).at("/spec/config");
        int chunk = Integer.parseInt(CliArgs.option(job, "chunk-bytes"));
        // the job's own rule when it creates the topic (L0StreamJob.ensureTopics): chunk + 1 MiB
        assertEquals(chunk + (1 << 20), config.path("max.message.bytes").asInt(), "snapshots max.message.bytes");
        // all records of a model share one key: compaction would keep only the last chunk
        assertEquals("delete", config.path("cleanup.policy").asText(), "snapshots cleanup.policy");
        assertTrue(config.path("retention.ms").asLong() >= 7L * 24 * 3600 * 1000, "snapshots kept at least a week");
    }

    @Test
    void testClientsReachTheKafkaClusterOverItsTlsListener() {
        Manifest kafka = OverlayManifestsTest.only(ms, "Kafka");
        JsonNode listener = kafka.body().at("/spec/kafka/listeners/0");
        assertTrue(listener.path("tls").asBoolean(), "TLS listener");
        String bootstrap = kafka.name() + "-kafka-bootstrap:" + listener.path("port").asInt();
        assertEquals(bootstrap, CliArgs.option(job, "bootstrap"));
        assertEquals(bootstrap, CliArgs.option(serve, "bootstrap"));
        String mechanism = listener.at("/authentication/type").asText();
        for (Manifest u : kinds("KafkaUser")) {
            assertEquals(mechanism, u.body().at("/spec/authentication/type").asText(), u + " authentication");
            assertEquals(kafka.name(), u.body().at("/metadata/labels/strimzi.io~1cluster").asText(), u + " cluster");
        }
        JsonNode properties = OverlayManifestsTest.only(kinds("ConfigMap").stream().filter(c -> c.name().equals("l0stream-kafka-client"))
                .toList(), "ConfigMap").body().at("/data/client.properties");
        assertTrue(properties.asText().contains("sasl.mechanism=" + mechanism.toUpperCase()), properties.asText());
        // the CA the clients trust is the cluster CA Strimzi makes for this cluster
        assertEquals(kafka.name() + "-cluster-ca-cert", volume(flinkPod(), "kafka-ca").at("/secret/secretName").asText());
        assertEquals(kafka.name() + "-cluster-ca-cert", volume(servingPod(), "kafka-ca").at("/secret/secretName").asText());
    }

    @Test
    void testUsersHaveTheRightsTheirClientsNeed() {
        String input = CliArgs.option(job, "input-topic");
        String snapshots = CliArgs.option(job, "snapshot-topic");
        String jobUser = volume(flinkPod(), "kafka-user").at("/secret/secretName").asText();
        String servingUser = volume(servingPod(), "kafka-user").at("/secret/secretName").asText();
        Set<String> jobAcls = acls(jobUser);
        for (String need : List.of("topic:" + input + ":Read", "topic:" + input + ".dlq:Write", "topic:" + snapshots + ":Write",
                "group:l0stream-:Read", "transactionalId:l0stream:Write")) {
            assertTrue(jobAcls.contains(need), jobUser + " lacks " + need + ": " + jobAcls);
        }
        assertEquals(Set.of("topic:" + snapshots + ":Read", "topic:" + snapshots + ":Describe"), acls(servingUser), servingUser);
    }

    @Test
    void testFilesTheArgumentsNameAreMounted() {
        Map<String, String> flinkMounts = mounts(flinkPod());
        Map<String, String> servingMounts = mounts(servingPod());
        assertMounted(flinkMounts, CliArgs.option(job, "kafka-config"));
        assertMounted(flinkMounts, CliArgs.option(job, "signing-key"));
        assertMounted(servingMounts, CliArgs.option(serve, "kafka-config"));
        assertMounted(servingMounts, CliArgs.option(serve, "trusted-keys"));
        assertFalse(servingMounts.containsValue("signing-key"), "serving must not mount the signing key");
        Set<String> configMaps = new TreeSet<>();
        kinds("ConfigMap").forEach(c -> configMaps.add(c.name()));
        for (JsonNode pod : List.of(flinkPod(), servingPod())) {
            pod.path("volumes").forEach(v -> {
                if (v.has("configMap")) {
                    assertTrue(configMaps.contains(v.at("/configMap/name").asText()), "no ConfigMap " + v.at("/configMap/name"));
                }
            });
        }
    }

    @Test
    void testMonitorsAndServiceSelectRealPodsAndPorts() {
        Map<String, JsonNode> monitors = new TreeMap<>();
        kinds("PodMonitor").forEach(m -> monitors.put(m.name(), m.body()));
        assertSelects(monitors.get("l0stream-flink").at("/spec/selector/matchLabels"), flink.at("/spec/podTemplate/metadata/labels"));
        assertEquals("metrics", monitors.get("l0stream-flink").at("/spec/podMetricsEndpoints/0/port").asText());
        assertEquals(flink.at("/spec/flinkConfiguration/metrics.reporter.prom.port").asInt(),
                port(flinkPod().at("/containers/0"), "metrics"), "Prometheus reporter port");
        assertEquals("flink-main-container", flinkPod().at("/containers/0/name").asText(), "the operator's container name");
        JsonNode servingLabels = serving().at("/spec/template/metadata/labels");
        assertSelects(monitors.get("l0stream-serving").at("/spec/selector/matchLabels"), servingLabels);
        String port = monitors.get("l0stream-serving").at("/spec/podMetricsEndpoints/0/port").asText();
        assertEquals(Integer.parseInt(CliArgs.option(serve, "port")), port(servingPod().at("/containers/0"), port));
        JsonNode service = OverlayManifestsTest.only(ms, "Service").body();
        assertSelects(service.at("/spec/selector"), servingLabels);
        assertTrue(port(servingPod().at("/containers/0"), service.at("/spec/ports/0/targetPort").asText()) > 0, "Service targetPort");
    }

    @Test
    void testImageLayoutMatchesTheFlinkDeployment() throws IOException {
        String stage = Files.readString(Repository.k8s().resolve("docker/stage-jars.sh"));
        String dockerfile = Files.readString(Repository.k8s().resolve("docker/Dockerfile"));
        String jar = flink.at("/spec/job/jarURI").asText();
        assertTrue(jar.startsWith("local:///opt/flink/usrlib/"), jar);
        String name = jar.substring(jar.lastIndexOf('/') + 1);
        assertTrue(stage.contains("$out/usrlib/" + name), "stage-jars.sh does not write usrlib/" + name);
        assertTrue(dockerfile.contains("COPY --from=build /stage/usrlib/ /opt/flink/usrlib/"), "Dockerfile usrlib copy");
        String script = flink.at("/spec/flinkConfiguration/external-resource.gpu.param.discovery-script.path").asText();
        assertTrue(dockerfile.contains("test -x " + script), "the Dockerfile checks the discovery script " + script);
        assertTrue(dockerfile.contains("l0stream.serving.ServeCommand"), "serving entry point");
    }

    private static JsonNode serving() {
        return OverlayManifestsTest.only(ms, "Deployment").body();
    }

    private static JsonNode flinkPod() {
        return flink.at("/spec/podTemplate/spec");
    }

    private static JsonNode servingPod() {
        return serving().at("/spec/template/spec");
    }

    private static List<Manifest> kinds(String kind) {
        return ms.stream().filter(m -> m.kind().equals(kind)).toList();
    }

    /** Topic name (spec.topicName, else metadata.name) → KafkaTopic. */
    private static Map<String, JsonNode> topics() {
        Map<String, JsonNode> out = new TreeMap<>();
        for (Manifest t : kinds("KafkaTopic")) {
            JsonNode name = t.body().at("/spec/topicName");
            out.put(name.isMissingNode() ? t.name() : name.asText(), t.body());
        }
        return out;
    }

    /** {@code type:name:Operation} of each ACL of user {@code user}. */
    private static Set<String> acls(String user) {
        Manifest u = kinds("KafkaUser").stream().filter(m -> m.name().equals(user)).findFirst()
                .orElseThrow(() -> new AssertionError("no KafkaUser " + user));
        Set<String> out = new TreeSet<>();
        for (JsonNode acl : u.body().at("/spec/authorization/acls")) {
            acl.path("operations").forEach(op -> out.add(acl.at("/resource/type").asText() + ":"
                    + acl.at("/resource/name").asText() + ":" + op.asText()));
        }
        return out;
    }

    private static JsonNode volume(JsonNode pod, String name) {
        for (JsonNode v : pod.path("volumes")) {
            if (v.path("name").asText().equals(name)) {
                return v;
            }
        }
        throw new AssertionError("no volume " + name + " in " + pod.path("volumes"));
    }

    /** Mount path → volume name, of the first container. */
    private static Map<String, String> mounts(JsonNode pod) {
        Map<String, String> out = new TreeMap<>();
        pod.at("/containers/0/volumeMounts").forEach(m -> out.put(m.path("mountPath").asText(), m.path("name").asText()));
        return out;
    }

    private static void assertMounted(Map<String, String> mounts, String file) {
        assertTrue(mounts.keySet().stream().anyMatch(dir -> file.startsWith(dir + "/")), file + " is under no mount " + mounts.keySet());
    }

    private static void assertSelects(JsonNode selector, JsonNode labels) {
        assertTrue(selector.size() > 0, "empty selector");
        selector.fields().forEachRemaining(e -> assertEquals(e.getValue().asText(), labels.path(e.getKey()).asText(),
                "selector " + e.getKey() + " vs pod labels " + labels));
    }

    private static int port(JsonNode container, String name) {
        for (JsonNode p : container.path("ports")) {
            if (p.path("name").asText().equals(name)) {
                return p.path("containerPort").asInt();
            }
        }
        throw new AssertionError("no port " + name + " on container " + container.path("name"));
    }
}
