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
    /** The last verified snapshots, loaded or not: a rollout may need an older one back. */
    private final TreeMap<Long, VerifiedSnapshot> archive = new TreeMap<>();
    private static final int ARCHIVE = 16;
    private static final long ARCHIVE_BYTES = 256L << 20;
    private volatile java.util.Set<Long> retained = java.util.Set.of();
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
        synchronized (this) {
            archive.put(s.manifest().version(), s);
            while (archive.size() > ARCHIVE || archiveBytes() > ARCHIVE_BYTES) {
                Long oldest = archive.keySet().stream().filter(v -> !retained.contains(v) && v != pinned).findFirst().orElse(null);
                if (oldest == null) {
                    break;
                }
                archive.remove(oldest);
            }
        }
        if (load(s)) {
            LOG.info("snapshot v{} loaded in {} (step {}, FLOPs reduction {})", s.manifest().version(), engine,
                    s.manifest().step(), String.format("%.3f", s.manifest().flopsReduction()));
        }
    }

    private boolean load(VerifiedSnapshot s) {
        ImageClassifier p;
        try {
            p = engine.load(s.artifact(), device);
            // one pass on a blank image before any request: the engine's first call allocates and plans,
            // and a user (or a rollout's latency guard) should not pay for it
            l0stream.model.nn.Architecture a = p.architecture();
            p.predict(new float[a.inputChannels() * a.inputHeight() * a.inputWidth()], 1);
        } catch (ArtifactFormatException | RuntimeException e) {
            refused("unloadable").increment();
            LOG.warn("snapshot {} v{} refused: {}", s.manifest().modelId(), s.manifest().version(), e.getMessage());
            synchronized (this) {
                archive.remove(s.manifest().version());
            }
            return false;
        }
        List<LoadedModel> retired;
        synchronized (this) {
            LoadedModel before = models.put(s.manifest().version(), new LoadedModel(s.manifest(), p, maxBatch));
            retired = retireBeyondKeep();
            if (before != null) {
                retired.add(before);
            }
        }
        loaded.increment();
        retired.forEach(LoadedModel::retire);
        return true;
    }

    private long archiveBytes() {
        return archive.values().stream().mapToLong(v -> v.manifest().artifactBytes()).sum();
    }

    /** Retires loaded versions beyond the newest {@code keep}, except the pinned and retained ones. */
    private List<LoadedModel> retireBeyondKeep() {
        List<LoadedModel> retired = new ArrayList<>();
        int newest = 0;
        for (Long v : new ArrayList<>(models.descendingKeySet())) {
            if (v == pinned || retained.contains(v)) {
                continue;
            }
            if (++newest > keep) {
                retired.add(models.remove(v));
            }
        }
        return retired;
    }

    /**
     * Keeps these versions loaded whatever arrives later (a rollout's stable and candidate), and
     * loads any of them that was retired before, if it is still among the last verified snapshots.
     *
     * @return the versions asked for that cannot be served (never seen, or too old to be kept)
     */
    public List<Long> retain(java.util.Collection<Long> versions) {
        List<VerifiedSnapshot> toLoad = new ArrayList<>();
        List<Long> missing = new ArrayList<>();
        List<LoadedModel> retired;
        synchronized (this) {
            retained = java.util.Set.copyOf(versions);
            for (Long v : versions) {
                if (!models.containsKey(v)) {
                    VerifiedSnapshot s = archive.get(v);
                    if (s != null) {
                        toLoad.add(s);
                    } else {
                        missing.add(v);
                    }
                }
            }
            retired = retireBeyondKeep();
        }
        retired.forEach(LoadedModel::retire);
        toLoad.forEach(this::load);
        return missing;
    }

    /** The given version, acquired (release it), or null if it is not loaded. */
    public synchronized LoadedModel acquireVersion(long version) {
        LoadedModel m = models.get(version);
        return m != null && m.acquire() ? m : null;
    }

    /** The model id of the newest loaded snapshot, or null before the first. */
    public synchronized String modelId() {
        return models.isEmpty() ? null : models.lastEntry().getValue().manifest().modelId();
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
