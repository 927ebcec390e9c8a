package l0stream.serving;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import l0stream.connectors.rollout.LabelEvent;
import l0stream.connectors.rollout.PredictionEvent;
import l0stream.connectors.rollout.RolloutCommand;
import l0stream.connectors.rollout.RolloutDecision;
import l0stream.connectors.rollout.RolloutTopics;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A replica's side of the closed loop: it logs every answer and every label it is given to Kafka
 * (asynchronously: a request never waits for the broker), follows the rollout topic, and routes
 * requests by the decision in force:
 *
 * <ul>
 *   <li>{@code canary}: a request whose key falls in the first {@code canary-percent} buckets goes to
 *       the candidate, the rest to stable. The same key always lands in the same bucket, so a key
 *       that saw the candidate keeps seeing that version after it is promoted;
 *   <li>{@code shadow}: stable answers every request; a copy goes to the candidate on a bounded
 *       background queue, and its answer is logged (variant {@code shadow}), never returned;
 *   <li>{@code manual}: the A/B split named on the command line; answers are still logged.
 * </ul>
 * Admin commands are forwarded to the commands topic; only the evaluator writes decisions.
 */
public final class RolloutRouting implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RolloutRouting.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    public enum Mode {
        MANUAL, CANARY, SHADOW;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Mode parse(String s, String key) {
            for (Mode m : values()) {
                if (m.id().equals(s)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("Invalid value " + s + " for " + key + ": expected manual, canary or shadow");
        }
    }

    /**
     * @param mode           how requests are split between stable and candidate
     * @param canaryPercent  share of request keys the candidate gets in canary mode
     * @param predictionLog  log every answer to the predictions topic
     * @param adminTokenFile the token that guards {@code POST /v1/rollout}; null disables it
     * @param replicaId      this replica's name in the prediction log
     * @param logCapacity    records the prediction log holds while the broker is slow or away; beyond, they are dropped
     * @param shadowQueue    shadow requests waiting for the candidate; beyond, they are dropped
     */
    public record Options(Mode mode, int canaryPercent, boolean predictionLog, Path adminTokenFile, String replicaId, int logCapacity,
                   int shadowQueue) {
        public Options {
            if (canaryPercent < 0 || canaryPercent > 100) {
                throw new IllegalArgumentException("Invalid value " + canaryPercent + " for --canary-percent: must be in [0, 100]");
            }
            if (mode != Mode.MANUAL && !predictionLog) {
                throw new IllegalArgumentException("Invalid value off for --prediction-log: --rollout " + mode.id()
                        + " judges candidates by the logged answers");
            }
        }
    }

    /** Where a request goes: the model that answers, and a shadow model that gets a copy (or null). */
    record Route(String variant, LoadedModel model, LoadedModel shadow) {}

    private final Options options;
    private final RolloutTopics topics;
    private final ModelCatalog catalog;
    private final TopicLog predictions;
    private final TopicLog labels;
    private final RolloutFollower follower;
    private final KafkaProducer<byte[], byte[]> commands;
    private final AdminToken adminToken;
    private final ThreadPoolExecutor shadowPool;
    private final Counter shadowDropped;
    private final MeterRegistry metrics;

    /** Creates the rollout's topics where missing, then starts logging and following. */
    public RolloutRouting(Properties client, RolloutTopics topics, Options options, ModelCatalog catalog, MeterRegistry metrics) {
        this(client, topics, options, catalog, metrics, true);
    }

    /** @param ensureTopics false when the topics are known to exist (or the broker is known to be away, in a test) */
    RolloutRouting(Properties client, RolloutTopics topics, Options options, ModelCatalog catalog, MeterRegistry metrics,
                   boolean ensureTopics) {
        this.options = options;
        this.topics = topics;
        this.catalog = catalog;
        this.metrics = metrics;
        if (ensureTopics) {
            try (Admin admin = Admin.create(client)) {
                topics.ensure(admin, 1, Duration.ofSeconds(30));
            } catch (RuntimeException e) {
                if (options.mode() != Mode.MANUAL) {
                    throw new IllegalStateException("--rollout " + options.mode().id() + " needs the rollout topics (" + topics.rollout()
                            + " and the others of docs/rollout.md): " + e.getMessage(), e);
                }
                // manual A/B serves without them: the logs then count their records as failed
                LOG.warn("could not create or check the rollout topics ({}); answers and labels will not be logged: {}",
                        topics.predictions(), e.getMessage());
            }
        }
        this.adminToken = options.adminTokenFile() == null ? null : AdminToken.fromFile(options.adminTokenFile());
        this.predictions = options.predictionLog() ? new TopicLog(client, topics.predictions(), options.logCapacity(), metrics) : null;
        this.labels = options.predictionLog() ? new TopicLog(client, topics.labels(), options.logCapacity(), metrics) : null;
        Properties p = new Properties();
        p.putAll(client);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "5000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "10000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        this.commands = adminToken != null ? new KafkaProducer<>(p) : null;
        this.shadowPool = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(Math.max(1, options.shadowQueue())),
                r -> {
                    Thread t = new Thread(r, "shadow");
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy());
        this.shadowDropped = Counter.builder("serving_shadow_dropped")
                .description("shadow copies not run because the candidate's queue was full").register(metrics);
        for (RolloutDecision.Kind k : RolloutDecision.Kind.values()) {
            Counter.builder("serving_rollout_decisions").tag("kind", k.id()).register(metrics);
        }
        this.follower = options.mode() == Mode.MANUAL ? null : new RolloutFollower(client, topics.rollout(), this::applied);
        Gauge.builder("serving_rollout_stable_version", () -> decided(RolloutDecision::stableVersion)).register(metrics);
        Gauge.builder("serving_rollout_candidate_version", () -> decided(RolloutDecision::candidateVersion)).register(metrics);
        Gauge.builder("serving_rollout_seq", () -> decided(RolloutDecision::seq)).register(metrics);
        Gauge.builder("serving_rollout_paused", () -> decided(d -> d.paused() ? 1 : 0)).register(metrics);
    }

    private double decided(java.util.function.ToLongFunction<RolloutDecision> f) {
        RolloutDecision d = follower == null ? null : follower.current();
        return d == null ? Double.NaN : f.applyAsLong(d);
    }

    private void applied(RolloutDecision d) {
        Counter.builder("serving_rollout_decisions").tag("kind", d.kind().id()).register(metrics).increment();
        List<Long> keep = new ArrayList<>();
        keep.add(d.stableVersion());
        if (d.hasCandidate()) {
            keep.add(d.candidateVersion());
        }
        List<Long> missing = catalog.retain(keep);
        if (!missing.isEmpty()) {
            // usually the snapshot is still on its way to this replica's catalog; until it is loaded, stable answers
            LOG.info("rollout #{} names versions {} not loaded here yet; stable answers until they are", d.seq(), missing);
        }
    }

    Mode mode() {
        return options.mode();
    }

    /**
     * The route of a request under canary or shadow. Before the first decision, or while the stable
     * version is not loaded here yet, the newest loaded version answers as {@code stable} (its answers
     * are logged with their true version, so the evidence stays right). Null if nothing is loaded.
     */
    Route route(String key) {
        RolloutDecision d = follower.current();
        LoadedModel stable = d == null ? null : catalog.acquireVersion(d.stableVersion());
        if (stable == null) {
            stable = catalog.acquire(VariantSpec.parse("latest", "latest"));
            if (stable == null) {
                return null;
            }
        }
        if (d == null || !d.hasCandidate() || d.paused()) {
            return new Route(PredictionEvent.STABLE, stable, null);
        }
        if (options.mode() == Mode.CANARY) {
            boolean toCandidate = key != null ? ServingServer.bucket(key) < options.canaryPercent()
                    : java.util.concurrent.ThreadLocalRandom.current().nextInt(100) < options.canaryPercent();
            if (toCandidate) {
                LoadedModel c = catalog.acquireVersion(d.candidateVersion());
                if (c != null) {
                    stable.release();
                    return new Route(PredictionEvent.CANDIDATE, c, null);
                }
            }
            return new Route(PredictionEvent.STABLE, stable, null);
        }
        return new Route(PredictionEvent.STABLE, stable, catalog.acquireVersion(d.candidateVersion()));
    }

    /** Logs an answer (never blocks). */
    void logPrediction(String requestId, String variant, LoadedModel m, int predicted, long latencyMicros) {
        if (predictions != null) {
            predictions.offer(requestId, new PredictionEvent(requestId, m.manifest().modelId(), variant, m.version(), predicted,
                    latencyMicros, System.currentTimeMillis(), options.replicaId()).toJson());
        }
    }

    /**
     * Runs a shadow copy of a request on the candidate in the background and logs its answer; the
     * shadow model is released when done. Dropped (and counted) when the queue is full.
     */
    void shadow(String requestId, float[] pixels, LoadedModel shadow) {
        try {
            shadowPool.execute(() -> {
                long start = System.nanoTime();
                int predicted = -1;
                try {
                    predicted = ServingServer.argmax(shadow.predict(pixels));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (RuntimeException e) {
                    LOG.debug("shadow v{} failed on {}: {}", shadow.version(), requestId, e.toString());
                } finally {
                    shadow.release();
                }
                logPrediction(requestId, PredictionEvent.SHADOW, shadow, predicted, (System.nanoTime() - start) / 1000);
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            shadow.release();
            shadowDropped.increment();
        }
    }

    /** Forwards a label to the labels topic, where the evaluator joins it with every replica's answers. */
    boolean logLabel(String requestId, int label) {
        return labels != null && labels.offer(requestId, new LabelEvent(requestId, label, System.currentTimeMillis()).toJson());
    }

    boolean forwardsLabels() {
        return labels != null;
    }

    boolean adminEnabled() {
        return adminToken != null;
    }

    boolean adminAccepts(String authorization) {
        return adminToken != null && adminToken.accepts(authorization);
    }

    /** Sends an admin command and waits for the broker's acknowledgement; returns its id. */
    String command(RolloutCommand.Action action, String note) throws Exception {
        String model = catalog.modelId();
        if (model == null) {
            throw new IllegalStateException("no snapshot loaded yet: there is no rollout to act on");
        }
        RolloutCommand c = new RolloutCommand(model, action, UUID.randomUUID().toString(), System.currentTimeMillis(), note);
        commands.send(new ProducerRecord<>(topics.commands(), model.getBytes(StandardCharsets.UTF_8), c.toJson()))
                .get(10, TimeUnit.SECONDS);
        LOG.info("rollout command {} ({}) sent for {}", c.commandId(), action.id(), model);
        return c.commandId();
    }

    /** {@code GET /v1/rollout}: the decision in force, the last decisions, the logs' counts. */
    public ObjectNode state() {
        ObjectNode o = JSON.createObjectNode().put("mode", options.mode().id()).put("canary_percent", options.canaryPercent())
                .put("replica", options.replicaId());
        RolloutDecision d = follower == null ? null : follower.current();
        o.set("current", d == null ? null : JSON.valueToTree(jsonOf(d)));
        ArrayNode h = o.putArray("history");
        if (follower != null) {
            for (RolloutDecision x : follower.history()) {
                h.add(jsonOf(x));
            }
        }
        ArrayNode u = o.putArray("versions_not_loaded");
        if (d != null) {
            java.util.Set<Long> loaded = new java.util.HashSet<>();
            catalog.loaded().forEach(m -> loaded.add(m.version()));
            for (long v : new long[] {d.stableVersion(), d.candidateVersion()}) {
                if (v > 0 && !loaded.contains(v)) {
                    u.add(v);
                }
            }
        }
        ObjectNode logs = o.putObject("logs");
        for (TopicLog l : new TopicLog[] {predictions, labels}) {
            if (l != null) {
                logs.putObject(l.topic()).put("sent", (long) l.sent()).put("dropped", (long) l.dropped()).put("failed", (long) l.failed());
            }
        }
        return o;
    }

    private static com.fasterxml.jackson.databind.JsonNode jsonOf(RolloutDecision d) {
        try {
            return JSON.readTree(d.toJson());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        if (follower != null) {
            follower.close();
        }
        shadowPool.shutdownNow();
        for (TopicLog l : new TopicLog[] {predictions, labels}) {
            if (l != null) {
                l.close();
            }
        }
        if (commands != null) {
            commands.close(Duration.ofSeconds(2));
        }
    }
}
