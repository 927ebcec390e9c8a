package l0stream.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Set;

/** k8s/examples (applied by hand, outside the overlays) is held to the same schemas and wiring. */
class ExamplesTest {

    @Test
    void testReplayProducerJobIsValidAndWired() throws IOException {
        List<Manifest> ms = Manifest.parseAll(Files.readString(Repository.k8s().resolve("examples/replay-producer-job.yaml")),
                "examples/replay-producer-job.yaml");
        Manifest job = OverlayManifestsTest.only(ms, "Job");
        assertEquals(List.of(), ManifestSchemas.violations(job));

        JsonNode container = job.body().at("/spec/template/spec/containers/0");
        List<String> args = CliArgs.of(container.path("args"));
        String main = container.at("/command/3").asText();
        Set<String> known = SourceOptions.cliOptions(main, "connectors");
        for (String key : CliArgs.keys(args)) {
            assertTrue(known.contains("--" + key), "--" + key + " is not an option of " + main + " " + known);
        }
        List<Manifest> deployed = KustomizeRender.manifests(Repository.overlay("cpu"));
        Manifest serving = OverlayManifestsTest.only(deployed, "Deployment");
        assertEquals(serving.body().at("/spec/template/spec/containers/0/image").asText(), container.path("image").asText(),
                "the example runs the serving image of the overlays");
        assertEquals(CliArgs.option(CliArgs.of(serving.body().at("/spec/template/spec/containers/0/args")), "bootstrap"),
                CliArgs.option(args, "bootstrap"));
        String user = "";
        for (JsonNode v : job.body().at("/spec/template/spec/volumes")) {
            if (v.path("name").asText().equals("kafka-user")) {
                user = v.at("/secret/secretName").asText();
            }
        }
        String producer = user;
        assertTrue(deployed.stream().anyMatch(m -> m.kind().equals("KafkaUser") && m.name().equals(producer)
                && m.body().at("/spec/authorization/acls/0/resource/name").asText().equals(CliArgs.option(args, "topic"))),
                "KafkaUser " + user + " with an ACL on topic " + CliArgs.option(args, "topic"));
    }
}
