package l0stream.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The Grafana dashboards folder (dashboards/grafana: *.json and the kustomization that turns
 * them into the {@value #NAME} ConfigMap), and what a rendered ConfigMap must hold to match it.
 */
final class DashboardGenerator {

    static final String NAME = "l0stream-grafana-dashboards";

    private DashboardGenerator() {}

    /** The dashboard files in {@code dir}. */
    static Set<String> jsonFiles(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json"))
                    .collect(Collectors.toCollection(TreeSet::new));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list " + dir, e);
        }
    }

    /** The files the {@value #NAME} generator of {@code dir}/kustomization.yaml lists, each under its own name. */
    static Set<String> listedFiles(Path dir) {
        JsonNode k;
        try {
            k = new YAMLMapper().readTree(dir.resolve("kustomization.yaml").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + dir.resolve("kustomization.yaml"), e);
        }
        List<JsonNode> generators = new ArrayList<>();
        k.path("configMapGenerator").forEach(g -> {
            if (g.path("name").asText().equals(NAME)) {
                generators.add(g);
            }
        });
        assertEquals(1, generators.size(), "configMapGenerator " + NAME + " in " + dir);
        Set<String> listed = new TreeSet<>();
        for (JsonNode f : generators.get(0).path("files")) {
            String entry = f.asText();
            int eq = entry.indexOf('=');
            String key = eq < 0 ? entry : entry.substring(0, eq);
            String path = eq < 0 ? entry : entry.substring(eq + 1);
            // from its own folder (kustomize's load restrictor), under its file name (what Grafana shows)
            assertEquals(key, path, "list dashboards by file name, from their own folder: " + entry);
            listed.add(key);
        }
        return listed;
    }

    /** How {@code configMap} differs from the dashboards in {@code dir}: missing, extra or changed files; empty when identical. */
    static List<String> differences(Path dir, JsonNode configMap) {
        List<String> out = new ArrayList<>();
        Set<String> files = jsonFiles(dir);
        Set<String> keys = new TreeSet<>();
        configMap.path("data").fieldNames().forEachRemaining(keys::add);
        files.stream().filter(f -> !keys.contains(f)).forEach(f -> out.add(f + ": not in the ConfigMap"));
        keys.stream().filter(k -> !files.contains(k)).forEach(k -> out.add(k + ": in the ConfigMap, not in " + dir));
        for (String f : files) {
            if (keys.contains(f)) {
                byte[] want = read(dir.resolve(f));
                byte[] got = configMap.path("data").path(f).asText().getBytes(StandardCharsets.UTF_8);
                if (!Arrays.equals(want, got)) {
                    out.add(f + ": the ConfigMap's copy differs from the file (" + got.length + " vs " + want.length + " bytes)");
                }
            }
        }
        if (!configMap.path("binaryData").isMissingNode()) {
            out.add("binaryData: dashboards must be UTF-8 text");
        }
        return out;
    }

    /** The {@value #NAME} ConfigMap among {@code manifests}. */
    static JsonNode configMap(List<Manifest> manifests) {
        return manifests.stream().filter(m -> m.kind().equals("ConfigMap") && m.name().equals(NAME)).findFirst()
                .orElseThrow(() -> new AssertionError("no ConfigMap " + NAME)).body();
    }

    private static byte[] read(Path f) {
        try {
            return Files.readAllBytes(f);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + f, e);
        }
    }
}
