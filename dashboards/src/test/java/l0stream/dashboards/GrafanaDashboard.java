package l0stream.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A Grafana dashboard JSON read the way Grafana reads it for the checks: its panels (collapsed rows'
 * nested panels included), their PromQL targets, and its query template variables.
 */
record GrafanaDashboard(Path file, JsonNode root) {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** label_values(selector, label) or label_values(label) — the variable queries Grafana's Prometheus source supports. */
    private static final Pattern LABEL_VALUES = Pattern.compile("^\\s*label_values\\((?:(.*),\\s*)?(\\w+)\\)\\s*$");

    /** One PromQL query of one panel. */
    record Target(int panelId, String panelTitle, String refId, String expr, JsonNode datasource) {
        @Override
        public String toString() {
            return "panel " + panelId + " '" + panelTitle + "' target " + refId;
        }
    }

    /** A query variable: {@code label_values(selector, label)}; selector may be empty. */
    record QueryVariable(String name, String selector, String label, boolean multi, boolean includeAll) {}

    static GrafanaDashboard read(Path file) throws IOException {
        return new GrafanaDashboard(file, JSON.readTree(file.toFile()));
    }

    static List<GrafanaDashboard> all(Path dir) throws IOException {
        List<GrafanaDashboard> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                out.add(read(f));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalStateException("no dashboard JSON in " + dir);
        }
        return out;
    }

    /** Every panel, rows included, with a collapsed row's nested panels after the row. */
    List<JsonNode> panels() {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : root.path("panels")) {
            out.add(p);
            for (JsonNode nested : p.path("panels")) {
                out.add(nested);
            }
        }
        return out;
    }

    List<Target> targets() {
        List<Target> out = new ArrayList<>();
        for (JsonNode p : panels()) {
            for (JsonNode t : p.path("targets")) {
                out.add(new Target(p.path("id").asInt(), p.path("title").asText(), t.path("refId").asText(),
                        t.path("expr").asText(), t.path("datasource")));
            }
        }
        return out;
    }

    /** The PromQL annotations (e.g. drift detections), as targets of panel −1 named after the annotation. */
    List<Target> annotations() {
        List<Target> out = new ArrayList<>();
        for (JsonNode a : root.path("annotations").path("list")) {
            if (a.hasNonNull("expr")) {
                out.add(new Target(-1, "annotation " + a.path("name").asText(), "-", a.path("expr").asText(), a.path("datasource")));
            }
        }
        return out;
    }

    /** The template variables of type "query", in dashboard order (later ones may use earlier ones). */
    List<QueryVariable> queryVariables() {
        List<QueryVariable> out = new ArrayList<>();
        for (JsonNode v : root.path("templating").path("list")) {
            if (!"query".equals(v.path("type").asText())) {
                continue;
            }
            JsonNode q = v.path("query");
            String text = q.isObject() ? q.path("query").asText() : q.asText();
            Matcher m = LABEL_VALUES.matcher(text);
            if (!m.matches()) {
                throw new IllegalArgumentException(file + ": variable " + v.path("name").asText()
                        + " is not label_values(...): " + text);
            }
            out.add(new QueryVariable(v.path("name").asText(), m.group(1) == null ? "" : m.group(1).trim(), m.group(2),
                    v.path("multi").asBoolean(), v.path("includeAll").asBoolean()));
        }
        return out;
    }

    /**
     * Substitutes variables as Grafana does for a Prometheus query: a multi-value variable becomes a
     * regex alternation {@code (a|b)}; {@code $__rate_interval} and {@code $__interval} become fixed
     * windows; names are replaced longest first so {@code $job} never eats {@code $jobs}.
     */
    static String substitute(String expr, Map<String, List<String>> values, String rateInterval) {
        Map<String, String> repl = new LinkedHashMap<>();
        repl.put("__rate_interval", rateInterval);
        repl.put("__interval", rateInterval);
        values.forEach((k, v) -> repl.put(k, v.size() == 1 ? escapeRegex(v.get(0))
                : "(" + String.join("|", v.stream().map(GrafanaDashboard::escapeRegex).toList()) + ")"));
        String out = expr;
        for (String name : repl.keySet().stream().sorted((a, b) -> b.length() - a.length()).toList()) {
            out = out.replace("${" + name + "}", repl.get(name)).replace("$" + name, repl.get(name));
        }
        return out;
    }

    private static String escapeRegex(String s) {
        return s.replaceAll("[.*+?^${}()|\\[\\]\\\\]", "\\\\\\\\$0");
    }
}
