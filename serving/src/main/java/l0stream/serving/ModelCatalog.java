package l0stream.serving;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import l0stream.connectors.snapshot.SnapshotReader;
import l0stream.connectors.snapshot.VerifiedSnapshot;
import l0stream.connectors.trust.SnapshotTrust;
import l0stream.model.DeviceChoice;
import l0stream.model.ImageClassifier;
import l0stream.model.artifact.ArtifactFormatException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The snapshot versions this server can answer with. A background thread reads the snapshot
 * topic (read_committed, through {@link SnapshotReader}), loads every whole and verified snapshot,
 * and keeps the newest few plus any pinned version; older ones are retired (closed once no
 * request uses them). Manifests must be signed by a key of the catalog's {@link SnapshotTrust}.
 * Snapshots that fail verification or loading are refused, logged and counted in
 * {@code serving_snapshots_refused_total{reason}}; the models already loaded keep serving.
 */
public final class ModelCatalog implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ModelCatalog.class);

    private final TreeMap<Long, LoadedModel> models = new TreeMap<>();
    private final long pinned;
    private final int keep;
    private final int maxBatch;
    private final DeviceChoice device;
    private final ServingEngine engine;
    private final MeterRegistry metrics;
    private final Map<String, Long> refusedSeen = new java.util.HashMap<>();
    private final Counter loaded;
    private final Thread reader;
    private volatile boolean running = true;

    /**
     * @param pinned a version never retired (0 for none)
     * @param keep   how many of the newest versions stay loaded (≥ 2: latest and previous)
     * @param maxBatch the most concurrent requests one forward pass serves (1: no batching)
     */
    public ModelCatalog(Properties client, String topic, SnapshotTrust trust, long pinned, int keep, int maxBatch,
                        DeviceChoice device, MeterRegistry metrics) {
        this(client, topic, trust, pinned, keep, maxBatch, ServingEngine.DEFAULT, device, metrics);
    }

    /** @param engine what runs the forward passes */
    public ModelCatalog(Properties client, String topic, SnapshotTrust trust, long pinned, int keep, int maxBatch,
                        ServingEngine engine, DeviceChoice device, MeterRegistry metrics) {
        this(new SnapshotReader(client, topic, java.util.Objects.requireNonNull(trust, "trust")), pinned, keep, maxBatch,
                engine, device, metrics);
    }

    private ModelCatalog(SnapshotReader snapshots, long pinned, int keep, int maxBatch, ServingEngine engine,
                         DeviceChoice device, MeterRegistry metrics) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("Invalid value " + maxBatch + " for --max-batch: must be >= 1");
        }
        this.maxBatch = maxBatch;
        this.pinned = pinned;
        this.keep = Math.max(2, keep);
        this.device = device;
        this.engine = java.util.Objects.requireNonNull(engine, "engine");
        this.metrics = metrics;
        for (String reason : new String[] {"corrupt", "artifact-mismatch", "incomplete", "unsigned", "untrusted-key",
                "bad-signature", "unloadable"}) {
            refused(reason); // registered at 0, so dashboards and alerts see the series before the first refusal
        }
        this.loaded = Counter.builder("serving_snapshots_loaded").register(metrics);
        if (snapshots != null) {
            this.reader = new Thread(() -> run(snapshots), "snapshot-catalog");
            reader.setDaemon(true);
            reader.start();
        } else {
            this.reader = null;
        }
    }

    /**
     * A catalog of the given snapshots only, with no topic behind it: for benchmarks that measure
     * the HTTP path without a broker in the loop.
     */
    public static ModelCatalog ofSnapshots(List<VerifiedSnapshot> snapshots, int maxBatch, ServingEngine engine,
                                           DeviceChoice device, MeterRegistry metrics) {
        ModelCatalog c = new ModelCatalog(null, 0, snapshots.size(), maxBatch, engine, device, metrics);
        snapshots.forEach(c::add);
        return c;
    }

    private void run(SnapshotReader snapshots) {
        try (snapshots) {
            while (running) {
                for (VerifiedSnapshot s : snapshots.poll(Duration.ofMillis(200))) {
                    add(s);
                }
                snapshots.assembler().refusals().forEach((reason, n) -> {
                    long before = refusedSeen.getOrDefault(reason, 0L);
                    if (n > before) {
                        refused(reason).increment(n - before);
                        refusedSeen.put(reason, n);
                    }
                });
            }
        } catch (RuntimeException e) {
            LOG.error("snapshot catalog stopped: {}", e.toString(), e);
        }
    }

    void add(VerifiedSnapshot s) {
        ImageClassifier p;
        try {
            p = engine.load(s.artifact(), device);
        } catch (ArtifactFormatException | RuntimeException e) {
            refused("unloadable").increment();
            LOG.warn("snapshot {} v{} refused: {}", s.manifest().modelId(), s.manifest().version(), e.getMessage());
            return;
        }
        List<LoadedModel> retired = new ArrayList<>();
        synchronized (this) {
            models.put(s.manifest().version(), new LoadedModel(s.manifest(), p, maxBatch));
            while (models.size() > keep) {
                Map.Entry<Long, LoadedModel> oldest = models.firstEntry();
                if (oldest.getKey() == pinned) {
                    // keep the pinned one; retire the next oldest instead
                    Map.Entry<Long, LoadedModel> next = models.higherEntry(oldest.getKey());
                    if (next == null || models.size() <= keep + 1) {
                        break;
                    }
                    retired.add(models.remove(next.getKey()));
                } else {
                    retired.add(models.remove(oldest.getKey()));
                }
            }
        }
        loaded.increment();
        retired.forEach(LoadedModel::retire);
        LOG.info("snapshot v{} loaded in {} (step {}, FLOPs reduction {})", s.manifest().version(), engine,
                s.manifest().step(), String.format("%.3f", s.manifest().flopsReduction()));
    }

    private Counter refused(String reason) {
        return Counter.builder("serving_snapshots_refused").tag("reason", reason)
                .description("snapshots refused, by reason; the loaded models keep serving").register(metrics);
    }

    /** The model for a variant spec, acquired (release it), or null if none matches yet. */
    public synchronized LoadedModel acquire(VariantSpec spec) {
        LoadedModel m = resolve(spec);
        return m != null && m.acquire() ? m : null;
    }

    private LoadedModel resolve(VariantSpec spec) {
        if (models.isEmpty()) {
            return null;
        }
        return switch (spec.kind()) {
            case LATEST -> models.lastEntry().getValue();
            case PREVIOUS -> {
                Map.Entry<Long, LoadedModel> prev = models.lowerEntry(models.lastKey());
                yield prev != null ? prev.getValue() : models.lastEntry().getValue();
            }
            case PINNED -> models.get(spec.version());
        };
    }

    public synchronized List<LoadedModel> loaded() {
        return new ArrayList<>(models.values());
    }

    @Override
    public void close() {
        running = false;
        try {
            if (reader != null) {
                reader.join(5000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            models.values().forEach(LoadedModel::retire);
            models.clear();
        }
    }
}
