package l0stream.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The shipped dashboards and Prometheus config, checked without starting anything. */
class DashboardLintTest {

    @Test
    void shippedDashboardsAreClean() throws Exception {
        Set<String> uids = new HashSet<>();
        for (GrafanaDashboard d : GrafanaDashboard.all(DashboardQueriesTest.DASHBOARDS)) {
            assertEquals(List.of(), DashboardLint.check(d), d.file().toString());
            assertTrue(uids.add(d.root().path("uid").asText()), "duplicate dashboard uid in " + d.file());
            assertTrue(d.queryVariables().stream().anyMatch(v -> v.name().equals("job")), d.file() + ": no $job variable");
        }
    }

    @Test
    void lintFindsDuplicateIdsOverlapsAndHardCodedDatasources() throws Exception {
        GrafanaDashboard good = GrafanaDashboard.read(DashboardQueriesTest.DASHBOARDS.resolve("l0stream.json"));
        ObjectNode bad = good.root().deepCopy();
        ArrayNode panels = (ArrayNode) bad.get("panels");
        ObjectNode second = (ObjectNode) panels.get(2);
        ((ObjectNode) panels.get(3)).put("id", second.get("id").asInt()); // duplicate id
        ((ObjectNode) panels.get(4).get("gridPos")).put("y", second.get("gridPos").get("y").asInt()); // overlap
        ((ObjectNode) panels.get(5).get("targets").get(0).get("datasource")).put("uid", "P1809F7CD0C75ACF3");
        List<String> problems = DashboardLint.check(new GrafanaDashboard(Path.of("bad.json"), bad));
        assertTrue(problems.stream().anyMatch(p -> p.contains("duplicate id")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("overlaps")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("datasource is not")), problems.toString());
    }

    @Test
    void variablesSubstituteAsGrafanaDoesForPrometheus() {
        Map<String, List<String>> v = Map.of("job", List.of("a.b"), "jobs", List.of("x", "y"));
        assertEquals("m{job_name=~\"a\\\\.b\", j=~\"(x|y)\"}[30s]",
                GrafanaDashboard.substitute("m{job_name=~\"$job\", j=~\"${jobs}\"}[$__rate_interval]", v, "30s"));
    }

    @Test
    void shippedPrometheusConfigPassesPromtool() throws Exception {
        Path promtool = Path.of(PrometheusServer.binary()).resolveSibling("promtool");
        Process p = new ProcessBuilder(promtool.toString(), "check", "config", DashboardQueriesTest.PROMETHEUS_CONFIG.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        // the test re-points exactly these two jobs; a renamed job would silently stop being checked
        String rewritten = DashboardQueriesTest.pointedAt(java.nio.file.Files.readString(DashboardQueriesTest.PROMETHEUS_CONFIG), 1, 2);
        assertTrue(rewritten.contains("['127.0.0.1:1']") && rewritten.contains("['127.0.0.1:2']"), rewritten);
    }
}
