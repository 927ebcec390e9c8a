package l0stream.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The Grafana dashboards reach the cluster unchanged: the ConfigMap that the overlays deploy is
 * generated from dashboards/grafana/*.json, holds each file byte for byte, and no file is left out.
 */
class DashboardConfigMapTest {

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu"})
    void testConfigMapHoldsEveryDashboardByteIdentical(String overlay) {
        Path dir = Repository.grafanaDashboards();
        assertFalse(DashboardGenerator.jsonFiles(dir).isEmpty(), "no dashboards in " + dir);
        JsonNode cm = DashboardGenerator.configMap(KustomizeRender.manifests(Repository.overlay(overlay)));
        assertEquals(List.of(), DashboardGenerator.differences(dir, cm), "ConfigMap of overlay " + overlay + " vs " + dir);
        assertEquals("1", cm.at("/metadata/labels/grafana_dashboard").asText(), "Grafana sidecar label");
        // every object must stay under 1 MiB in etcd: split the ConfigMap well before that
        long bytes = DashboardGenerator.jsonFiles(dir).stream()
                .mapToLong(f -> cm.path("data").path(f).asText().getBytes(StandardCharsets.UTF_8).length).sum();
        assertTrue(bytes < 900 * 1024, "dashboards total " + bytes + " bytes");
    }

    @Test
    void testEveryDashboardIsListedInTheGenerator() {
        Path dir = Repository.grafanaDashboards();
        assertEquals(DashboardGenerator.jsonFiles(dir), DashboardGenerator.listedFiles(dir),
                "dashboards/grafana/*.json vs the files listed in dashboards/grafana/kustomization.yaml");
    }

    @Test
    void testForgottenOrChangedDashboardIsCaught(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("grafana");
        Files.createDirectories(dir);
        try (var files = Files.list(Repository.grafanaDashboards())) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        Files.writeString(dir.resolve("zz-new-dashboard.json"), "{\"title\": \"new\"}\n");
        assertNotEquals(DashboardGenerator.jsonFiles(dir), DashboardGenerator.listedFiles(dir), "an unlisted dashboard");
        JsonNode cm = DashboardGenerator.configMap(KustomizeRender.manifests(dir));
        assertTrue(DashboardGenerator.differences(dir, cm).contains("zz-new-dashboard.json: not in the ConfigMap"),
                DashboardGenerator.differences(dir, cm).toString());
        String first = DashboardGenerator.listedFiles(dir).iterator().next();
        Files.writeString(dir.resolve(first), Files.readString(dir.resolve(first)) + " ");
        assertTrue(DashboardGenerator.differences(dir, cm).stream().anyMatch(d -> d.startsWith(first + ": the ConfigMap's copy differs")),
                DashboardGenerator.differences(dir, cm).toString());
    }

    @Test
    void testEveryDashboardIsJson() throws IOException {
        for (String f : DashboardGenerator.jsonFiles(Repository.grafanaDashboards())) {
            JsonNode d = new ObjectMapper().readTree(Repository.grafanaDashboards().resolve(f).toFile());
            assertTrue(d.isObject() && d.hasNonNull("title"), f + " is not a Grafana dashboard object");
        }
    }
}
