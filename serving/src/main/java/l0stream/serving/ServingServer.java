package l0stream.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import l0stream.connectors.image.DecodeError;
import l0stream.connectors.image.DecodeException;
import l0stream.connectors.image.DecodePolicy;
import l0stream.connectors.image.ImageDecoder;
import l0stream.connectors.image.ImageHeaders;
import l0stream.model.nn.Architecture;

import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The A/B serving HTTP API, on the JDK's built-in {@code com.sun.net.httpserver} (no third-party
 * server, no hand-written HTTP parsing):
 *
 * <ul>
 *   <li>{@code POST /v1/predict} (image body, same content types as the input topic) →
 *       {@code {request_id, label, probabilities, variant, model_version}}. The variant is sticky
 *       per {@code X-Request-Key} (hash bucket &lt; split → B), random without one;
 *   <li>{@code POST /v1/feedback {"request_id", "label"}} → per-variant correct/incorrect;
 *   <li>{@code GET /v1/models}, {@code GET /metrics} (Prometheus), {@code GET /health}.
 * </ul>
 * Until a first snapshot is loaded, prediction answers 503 with a message. Bad requests get a 4xx
 * with a JSON {@code error}; bodies over the limit are refused (413) before they are read whole.
 */
public final class ServingServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ServingServer.class);

    static {
        // Without TCP_NODELAY, headers and body go out in two small writes and the client's
        // delayed ACK adds ~40 ms to every request. Read once when the JDK server's config loads:
        // if something started a JDK HTTP server earlier in this JVM (Flink's Prometheus reporter
        // does), this comes too late, so bin/l0stream also sets it on the command line.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Server settings; {@code splitToB} is the percentage of traffic variant B gets. */
    public record Options(String host, int port, VariantSpec a, VariantSpec b, int splitToB, int maxBodyBytes, int threads) {
        public Options {
            if (splitToB < 0 || splitToB > 100) {
                throw new IllegalArgumentException("Invalid value " + splitToB + " for --split: must be in [0, 100]");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("Invalid value " + port + " for --port: must be a TCP port");
            }
        }
    }

    private final ModelCatalog catalog;
    private final Options options;
    private final PrometheusMeterRegistry metrics;
    private final HttpServer server;
    private final ExecutorService pool;
    private final Map<String, Outcome> outcomes = new LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Outcome> e) {
            return size() > 200_000;
        }
    };
    private final MultiGauge modelInfo;
    private final RolloutRouting routing;

    private record Outcome(String variant, long version, int label) {}

    public ServingServer(ModelCatalog catalog, Options options, PrometheusMeterRegistry metrics) throws IOException {
        this(catalog, options, metrics, null);
    }

    /** @param routing the replica's rollout side (prediction log, rollout topic, admin); null for none */
    public ServingServer(ModelCatalog catalog, Options options, PrometheusMeterRegistry metrics, RolloutRouting routing) throws IOException {
        this.catalog = catalog;
        this.routing = routing;
        this.options = options;
        this.metrics = metrics;
        this.server = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 128);
        this.pool = Executors.newFixedThreadPool(options.threads());
        server.setExecutor(pool);
        server.createContext("/v1/predict", guard(this::predict));
        server.createContext("/v1/feedback", guard(this::feedback));
        server.createContext("/v1/models", guard(this::models));
        server.createContext("/metrics", guard(this::metrics));
        server.createContext("/health", guard(this::health));
        server.createContext("/v1/rollout", guard(this::rollout));
        this.modelInfo = MultiGauge.builder("serving_model").description("1 for the version each variant serves").register(metrics);
        // Both variants' counters exist from the start, at 0: a dashboard's accuracy ratio
        // (correct / (correct + incorrect)) then has a series before the first wrong answer arrives.
        for (String v : List.of("A", "B")) {
            Counter.builder("serving_requests").tag("variant", v).register(metrics);
            Counter.builder("serving_predictions_correct").tag("variant", v).register(metrics);
            Counter.builder("serving_predictions_incorrect").tag("variant", v).register(metrics);
        }
        server.start();
        LOG.info("serving on http://{}:{} (A = {}, B = {}, {}% to B)", options.host(), port(), options.a(), options.b(), options.splitToB());
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private interface Handler {
        void handle(HttpExchange ex) throws Exception;
    }

    private HttpHandler guard(Handler h) {
        return ex -> {
            try {
                h.handle(ex);
            } catch (Exception e) {
                LOG.error("request {} {} failed", ex.getRequestMethod(), ex.getRequestURI(), e);
                send(ex, 500, error("internal error: " + e, null));
            } finally {
                ex.close();
            }
        };
    }

    private void predict(HttpExchange ex) throws IOException {
        if (!ex.getRequestMethod().equals("POST")) {
            send(ex, 405, error("use POST with an image body", null));
            return;
        }
        long start = System.nanoTime();
        String key = ex.getRequestHeaders().getFirst("X-Request-Key");
        String variant;
        LoadedModel model;
        LoadedModel shadow = null;
        if (routing != null && routing.mode() != RolloutRouting.Mode.MANUAL) {
            RolloutRouting.Route r = routing.route(key);
            if (r == null) {
                send(ex, 503, error("no snapshot loaded yet; waiting for the snapshot topic", null));
                return;
            }
            variant = r.variant();
            model = r.model();
            shadow = r.shadow();
        } else {
            boolean toB = key != null ? bucket(key) < options.splitToB() : ThreadLocalRandom.current().nextInt(100) < options.splitToB();
            variant = toB ? "B" : "A";
            model = catalog.acquire(toB ? options.b() : options.a());
            if (model == null) {
                send(ex, 503, error("no snapshot loaded yet for variant " + variant + " ("
                        + (toB ? options.b() : options.a()) + "); waiting for the snapshot topic", null));
                return;
            }
        }
        boolean shadowHandedOver = false;
        try {
            byte[] body = readBody(ex);
            if (body == null) {
                return;
            }
            Architecture arch = model.predictor().architecture();
            DecodePolicy policy = new DecodePolicy(arch.inputChannels(), arch.inputHeight(), arch.inputWidth(),
                    arch.numClasses(), DecodePolicy.SizePolicy.EXACT, DecodePolicy.ChannelPolicy.CONVERT,
                    options.maxBodyBytes(), 4096L * 4096);
            RecordHeaders h = new RecordHeaders();
            copyHeader(ex, "Content-Type", ImageHeaders.CONTENT_TYPE, h);
            copyHeader(ex, "X-Image-Shape", ImageHeaders.SHAPE, h);
            if (h.lastHeader(ImageHeaders.SHAPE) == null) {
                // A raw body without X-Image-Shape is taken to be the model's own input shape.
                h.add(ImageHeaders.SHAPE, (arch.inputHeight() + "x" + arch.inputWidth() + "x" + arch.inputChannels())
                        .getBytes(StandardCharsets.UTF_8));
            }
            float[] pixels;
            try {
                pixels = new ImageDecoder(policy).decodePixels(body, h);
            } catch (DecodeException e) {
                int status = e.errorClass() == DecodeError.UNKNOWN_CONTENT_TYPE ? 415 : e.errorClass() == DecodeError.OVERSIZE ? 413 : 400;
                send(ex, status, error(e.getMessage(), e.errorClass().id()));
                return;
            }
            float[] probs;
            String id = UUID.randomUUID().toString();
            long modelStart = System.nanoTime();
            try {
                probs = model.predict(pixels);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                send(ex, 503, error("server shutting down", null));
                return;
            } catch (RuntimeException e) {
                if (routing != null) {
                    routing.logPrediction(id, variant, model, -1, (System.nanoTime() - modelStart) / 1000);
                }
                throw e;
            }
            long modelMicros = (System.nanoTime() - modelStart) / 1000;
            int label = argmax(probs);
            synchronized (outcomes) {
                outcomes.put(id, new Outcome(variant, model.version(), label));
            }
            ObjectNode out = JSON.createObjectNode().put("request_id", id).put("label", label);
            ArrayNode p = out.putArray("probabilities");
            for (float f : probs) {
                p.add(f);
            }
            out.put("variant", variant).put("model_version", model.version());
            send(ex, 200, out);
            long nanos = System.nanoTime() - start;
            if (routing != null) {
                routing.logPrediction(id, variant, model, label, modelMicros);
                if (shadow != null) {
                    routing.shadow(id, pixels, shadow);
                    shadowHandedOver = true;
                }
            }
            Counter.builder("serving_requests").tag("variant", variant).register(metrics).increment();
            Counter.builder("serving_answers").tag("variant", variant).tag("version", Long.toString(model.version()))
                    .description("answers by variant and snapshot version").register(metrics).increment();
            Timer.builder("serving_request_latency").tag("variant", variant).publishPercentileHistogram()
                    .register(metrics).record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        } finally {
            model.release();
            if (shadow != null && !shadowHandedOver) {
                shadow.release();
            }
        }
    }

    static int argmax(float[] probs) {
        int label = 0;
        for (int c = 1; c < probs.length; c++) {
            if (probs[c] > probs[label]) {
                label = c;
            }
        }
        return label;
    }

    private void feedback(HttpExchange ex) throws IOException {
        if (!ex.getRequestMethod().equals("POST")) {
            send(ex, 405, error("use POST {\"request_id\": ..., \"label\": ...}", null));
            return;
        }
        byte[] body = readBody(ex);
        if (body == null) {
            return;
        }
        JsonNode j;
        try {
            j = JSON.readTree(body);
        } catch (IOException e) {
            send(ex, 400, error("body is not JSON: " + e.getMessage(), null));
            return;
        }
        if (j == null || !j.path("request_id").isTextual() || !j.path("label").canConvertToInt()) {
            send(ex, 400, error("expected {\"request_id\": \"...\", \"label\": <integer>}", null));
            return;
        }
        String requestId = j.get("request_id").asText();
        int given = j.get("label").asInt();
        if (given < 0 || requestId.isEmpty()) {
            send(ex, 400, error("expected a non-empty request_id and a label >= 0", null));
            return;
        }
        boolean forwarded = routing != null && routing.forwardsLabels() && routing.logLabel(requestId, given);
        Outcome o;
        synchronized (outcomes) {
            o = outcomes.get(requestId);
        }
        if (o == null) {
            if (routing != null && routing.forwardsLabels()) {
                // another replica may have answered it: the evaluator joins labels with every replica's answers
                send(ex, 202, JSON.createObjectNode().put("request_id", requestId).put("forwarded", forwarded));
            } else {
                send(ex, 404, error("unknown request_id " + requestId, null));
            }
            return;
        }
        boolean correct = o.label() == given;
        Counter.builder(correct ? "serving_predictions_correct" : "serving_predictions_incorrect")
                .tag("variant", o.variant()).register(metrics).increment();
        send(ex, 200, JSON.createObjectNode().put("variant", o.variant()).put("model_version", o.version()).put("correct", correct)
                .put("forwarded", forwarded));
    }

    /**
     * {@code GET /v1/rollout}: the rollout as this replica follows it. {@code POST /v1/rollout
     * {"action": "promote|rollback|pause|resume", "note": "..."}} with {@code Authorization: Bearer
     * <token>}: sends an admin command to the evaluator (202 with its id); 401 without the header,
     * 403 with a wrong token or when no token file was configured.
     */
    private void rollout(HttpExchange ex) throws IOException {
        if (routing == null) {
            send(ex, 404, error("this replica does not log predictions, so it takes no part in a rollout", null));
            return;
        }
        if (ex.getRequestMethod().equals("GET")) {
            send(ex, 200, routing.state());
            return;
        }
        if (!ex.getRequestMethod().equals("POST")) {
            send(ex, 405, error("use GET, or POST {\"action\": \"promote|rollback|pause|resume\"}", null));
            return;
        }
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (!routing.adminEnabled()) {
            send(ex, 403, error("the admin API is off on this replica: start serve with --admin-token-file", null));
            return;
        }
        if (auth == null) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
            send(ex, 401, error("missing Authorization: Bearer <admin token>", null));
            return;
        }
        if (!routing.adminAccepts(auth)) {
            LOG.warn("rejected an admin call with a wrong token from {}", ex.getRemoteAddress());
            send(ex, 403, error("wrong admin token", null));
            return;
        }
        byte[] body = readBody(ex);
        if (body == null) {
            return;
        }
        l0stream.connectors.rollout.RolloutCommand.Action action;
        String note;
        try {
            JsonNode j = JSON.readTree(body);
            action = l0stream.connectors.rollout.RolloutCommand.Action.parse(j == null ? null : j.path("action").asText(null));
            note = j.path("note").isTextual() ? j.get("note").asText() : null;
        } catch (IOException | IllegalArgumentException e) {
            send(ex, 400, error("expected {\"action\": \"promote|rollback|pause|resume\"}: " + e.getMessage(), null));
            return;
        }
        try {
            String id = routing.command(action, note);
            send(ex, 202, JSON.createObjectNode().put("command_id", id).put("action", action.id())
                    .put("status", "sent to the evaluator; GET /v1/rollout shows the decision it causes"));
        } catch (Exception e) {
            send(ex, 503, error("could not send the command: " + e.getMessage(), null));
        }
    }

    private void models(HttpExchange ex) throws IOException {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode arr = out.putArray("models");
        for (LoadedModel m : catalog.loaded()) {
            arr.add(JSON.valueToTree(m.manifest()));
        }
        out.put("a", options.a().toString()).put("b", options.b().toString()).put("split_to_b", options.splitToB());
        send(ex, 200, out);
    }

    private void metrics(HttpExchange ex) throws IOException {
        updateModelInfo();
        byte[] body = metrics.scrape().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        ex.sendResponseHeaders(200, body.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(body);
        }
    }

    private void health(HttpExchange ex) throws IOException {
        int n = catalog.loaded().size();
        send(ex, n > 0 ? 200 : 503, JSON.createObjectNode().put("status", n > 0 ? "ok" : "waiting for a first snapshot")
                .put("models_loaded", n));
    }

    private void updateModelInfo() {
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        for (String v : new String[] {"A", "B"}) {
            LoadedModel m = catalog.acquire(v.equals("A") ? options.a() : options.b());
            if (m != null) {
                rows.add(MultiGauge.Row.of(Tags.of("variant", v, "version", Long.toString(m.version())), 1));
                m.release();
            }
        }
        modelInfo.register(rows, true);
    }

    /** Reads the body up to the limit; answers 413 and returns null when it is larger. */
    private byte[] readBody(HttpExchange ex) throws IOException {
        String len = ex.getRequestHeaders().getFirst("Content-Length");
        if (len != null) {
            try {
                if (Long.parseLong(len.trim()) > options.maxBodyBytes()) {
                    send(ex, 413, error("body of " + len + " bytes exceeds the limit of " + options.maxBodyBytes(), DecodeError.OVERSIZE.id()));
                    return null;
                }
            } catch (NumberFormatException e) {
                send(ex, 400, error("invalid Content-Length " + len, null));
                return null;
            }
        }
        try (InputStream in = ex.getRequestBody()) {
            byte[] body = in.readNBytes(options.maxBodyBytes() + 1);
            if (body.length > options.maxBodyBytes()) {
                send(ex, 413, error("body exceeds the limit of " + options.maxBodyBytes() + " bytes", DecodeError.OVERSIZE.id()));
                return null;
            }
            return body;
        }
    }

    /** Stable bucket 0..99 for a request key (the same key always lands in the same variant). */
    static int bucket(String key) {
        long h = 1125899906842597L;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h = 31 * h + b;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return (int) Math.floorMod(h, 100L);
    }

    private static void copyHeader(HttpExchange ex, String http, String kafka, RecordHeaders h) {
        String v = ex.getRequestHeaders().getFirst(http);
        if (v != null) {
            h.add(kafka, v.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static ObjectNode error(String message, String cls) {
        ObjectNode o = JSON.createObjectNode().put("error", message);
        if (cls != null) {
            o.put("error_class", cls);
        }
        return o;
    }

    private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
        byte[] b = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }

    @Override
    public void close() {
        server.stop(1);
        pool.shutdownNow();
    }
}
