package l0stream.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A real Prometheus (Debian's {@code prometheus} binary) on 127.0.0.1 with a given config, its TSDB
 * and log in a scratch directory, and the two HTTP API calls the dashboard check needs.
 */
final class PrometheusServer implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final int port;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private PrometheusServer(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    static String binary() {
        String bin = System.getenv().getOrDefault("L0STREAM_PROMETHEUS", "/usr/bin/prometheus");
        if (!Files.isExecutable(Path.of(bin))) {
            throw new IllegalStateException("Prometheus is not installed (" + bin + "): apt-get install -y --no-install-recommends"
                    + " prometheus (bin/l0stream test installs it)");
        }
        return bin;
    }

    static PrometheusServer start(Path config, Path dir) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path log = dir.resolve("prometheus.log");
        Process p = new ProcessBuilder(binary(), "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("tsdb"),
                "--web.listen-address=127.0.0.1:" + port, "--log.level=warn")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        PrometheusServer server = new PrometheusServer(p, port, log);
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("prometheus exited: " + Files.readString(log));
            }
            try {
                if (server.get("/-/ready").statusCode() == 200) {
                    return server;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        server.close();
        throw new IllegalStateException("prometheus not ready in 30 s: " + Files.readString(log));
    }

    private HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode api(String pathAndQuery) {
        try {
            HttpResponse<String> r = get(pathAndQuery);
            JsonNode j = JSON.readTree(r.body());
            if (r.statusCode() != 200 || !"success".equals(j.path("status").asText())) {
                throw new IllegalArgumentException(pathAndQuery + " -> HTTP " + r.statusCode() + ": " + r.body());
            }
            return j.get("data");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** The result vector of an instant query at "now" (an invalid query throws with Prometheus's error). */
    JsonNode query(String promql) {
        return api("/api/v1/query?query=" + enc(promql)).get("result");
    }

    /** The series matching a selector within the last hour (what Grafana's label_values() asks). */
    JsonNode series(String selector) {
        long now = System.currentTimeMillis() / 1000;
        return api("/api/v1/series?match[]=" + enc(selector) + "&start=" + (now - 3600) + "&end=" + now);
    }

    /** Health of each scrape target, "job instance: health (lastError)". */
    String targets() {
        StringBuilder b = new StringBuilder();
        for (JsonNode t : api("/api/v1/targets").path("activeTargets")) {
            b.append(t.path("labels").path("job").asText()).append(' ').append(t.path("labels").path("instance").asText())
                    .append(": ").append(t.path("health").asText()).append(' ').append(t.path("lastError").asText()).append('\n');
        }
        return b.toString();
    }

    /** Every metric name Prometheus holds (for failure messages: what could a panel have asked for). */
    String metricNames() {
        StringBuilder b = new StringBuilder();
        for (JsonNode n : api("/api/v1/label/__name__/values")) {
            b.append(n.asText()).append('\n');
        }
        return b.toString();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    Path log() {
        return log;
    }
}
