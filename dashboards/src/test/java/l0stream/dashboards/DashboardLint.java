package l0stream.dashboards;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Structural rules a dashboard must keep so that it imports and renders as intended: unique panel
 * ids, panels inside the 24-column grid and not overlapping, and every query on the
 * {@code ${DS_PROMETHEUS}} datasource variable (a hard-coded datasource uid breaks on any other
 * Grafana). Returns the problems found; empty means clean.
 */
final class DashboardLint {

    static final String DATASOURCE = "${DS_PROMETHEUS}";

    private DashboardLint() {}

    static List<String> check(GrafanaDashboard d) {
        List<String> problems = new ArrayList<>();
        JsonNode root = d.root();
        if (root.path("uid").asText().isBlank()) {
            problems.add("dashboard has no uid");
        }
        if (root.path("schemaVersion").asInt() < 36) {
            problems.add("schemaVersion " + root.path("schemaVersion").asInt() + " is older than Grafana 9 (36)");
        }
        boolean dsVariable = false;
        for (JsonNode v : root.path("templating").path("list")) {
            if ("DS_PROMETHEUS".equals(v.path("name").asText()) && "datasource".equals(v.path("type").asText())
                    && "prometheus".equals(v.path("query").asText())) {
                dsVariable = true;
            }
            if ("query".equals(v.path("type").asText()) && !DATASOURCE.equals(v.path("datasource").path("uid").asText())) {
                problems.add("variable $" + v.path("name").asText() + " does not use " + DATASOURCE);
            }
        }
        if (!dsVariable) {
            problems.add("no datasource variable DS_PROMETHEUS of type prometheus");
        }
        Set<Integer> ids = new HashSet<>();
        List<int[]> boxes = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (JsonNode p : d.panels()) {
            String name = "panel " + p.path("id").asText("?") + " '" + p.path("title").asText() + "'";
            if (!p.path("id").canConvertToInt() || !ids.add(p.path("id").asInt())) {
                problems.add(name + ": missing or duplicate id");
            }
            JsonNode g = p.path("gridPos");
            int x = g.path("x").asInt(-1), y = g.path("y").asInt(-1), w = g.path("w").asInt(0), h = g.path("h").asInt(0);
            if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > 24) {
                problems.add(name + ": gridPos " + g + " is outside the 24-column grid");
            }
            int[] box = {x, y, w, h};
            for (int i = 0; i < boxes.size(); i++) {
                int[] o = boxes.get(i);
                if (box[0] < o[0] + o[2] && o[0] < box[0] + box[2] && box[1] < o[1] + o[3] && o[1] < box[1] + box[3]) {
                    problems.add(name + " overlaps " + names.get(i));
                }
            }
            boxes.add(box);
            names.add(name);
            if ("row".equals(p.path("type").asText())) {
                continue;
            }
            if (!DATASOURCE.equals(p.path("datasource").path("uid").asText())) {
                problems.add(name + ": panel datasource is not " + DATASOURCE);
            }
            if (p.path("targets").isEmpty()) {
                problems.add(name + ": no query");
            }
            for (JsonNode t : p.path("targets")) {
                if (!DATASOURCE.equals(t.path("datasource").path("uid").asText())) {
                    problems.add(name + " target " + t.path("refId").asText() + ": datasource is not " + DATASOURCE);
                }
                if (t.path("expr").asText().isBlank()) {
                    problems.add(name + " target " + t.path("refId").asText() + ": empty expr");
                }
            }
        }
        return problems;
    }
}
