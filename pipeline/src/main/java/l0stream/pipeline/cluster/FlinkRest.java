package l0stream.pipeline.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The few calls of Flink's REST API that the launcher and the tests need (JSON over HTTP). */
public final class FlinkRest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String address;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    /** @param address host:port of the JobManager's REST endpoint */
    public FlinkRest(String address) {
        this.address = address;
    }

    public String url() {
        return "http://" + address;
    }

    /** GET {@code path}; an IOException when nothing answers or the status is not 2xx. */
    public JsonNode get(String path, Duration timeout) throws IOException {
        return send(HttpRequest.newBuilder(URI.create(url() + path)).timeout(timeout).GET().build());
    }

    private JsonNode send(HttpRequest req) throws IOException {
        try {
            HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() / 100 != 2) {
                throw new IOException(req.method() + " " + req.uri() + " answered " + r.statusCode() + ": " + r.body());
            }
            return r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** Whether a Flink REST API answers {@code /overview} here. */
    public boolean answers(Duration timeout) {
        try {
            return get("/overview", timeout).has("taskmanagers");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** {@code /overview}: task managers, slots, jobs by state, Flink version. */
    public JsonNode overview() throws IOException {
        return get("/overview", Duration.ofSeconds(5));
    }

    /** The registered TaskManagers: id (resource id), slots and free slots. */
    public record TaskManager(String id, int slots, int freeSlots) {}

    public List<TaskManager> taskManagers() throws IOException {
        List<TaskManager> out = new ArrayList<>();
        for (JsonNode t : get("/taskmanagers", Duration.ofSeconds(5)).path("taskmanagers")) {
            out.add(new TaskManager(t.path("id").asText(), t.path("slotsNumber").asInt(), t.path("freeSlots").asInt()));
        }
        return out;
    }

    /** A job as {@code /jobs/overview} lists it. */
    public record Job(String id, String name, String state) {}

    public List<Job> jobs() throws IOException {
        List<Job> out = new ArrayList<>();
        for (JsonNode j : get("/jobs/overview", Duration.ofSeconds(5)).path("jobs")) {
            out.add(new Job(j.path("jid").asText(), j.path("name").asText(), j.path("state").asText()));
        }
        return out;
    }

    /** The TaskManager ids that run a subtask of {@code jobId} now (deployed, initializing or running). */
    public List<String> taskManagersRunning(String jobId) throws IOException {
        List<String> out = new ArrayList<>();
        for (JsonNode v : get("/jobs/" + jobId, Duration.ofSeconds(5)).path("vertices")) {
            JsonNode tms = get("/jobs/" + jobId + "/vertices/" + v.path("id").asText() + "/taskmanagers", Duration.ofSeconds(5));
            for (JsonNode t : tms.path("taskmanagers")) {
                JsonNode counts = t.path("status-counts");
                int active = counts.path("RUNNING").asInt() + counts.path("INITIALIZING").asInt() + counts.path("DEPLOYING").asInt();
                String id = t.path("taskmanager-id").asText();
                if (active > 0 && !out.contains(id)) {
                    out.add(id);
                }
            }
        }
        return out;
    }

    /** Cancels a job (PATCH /jobs/:id?mode=cancel). */
    public void cancel(String jobId) throws IOException {
        send(HttpRequest.newBuilder(URI.create(url() + "/jobs/" + jobId + "?mode=cancel")).timeout(Duration.ofSeconds(10))
                .method("PATCH", HttpRequest.BodyPublishers.noBody()).build());
    }
}
