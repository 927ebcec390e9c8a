package l0stream.pipeline;

import l0stream.connectors.snapshot.SnapshotManifest;
import l0stream.connectors.snapshot.SnapshotRecord;

import l0stream.connectors.trust.SnapshotSigner;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;

/**
 * Turns a cut snapshot into its records on the snapshot topic (manifest, signed with the
 * configured Ed25519 key, then chunks 1..n) and
 * records what was published: {@code snapshot_published_version}, {@code snapshot_bytes} and
 * {@code snapshot_cut_to_publish_ms} (cut → handed to the transactional sink; visibility to
 * readers follows at the next checkpoint).
 */
public final class SnapshotPublisher extends RichFlatMapFunction<ModelSnapshot, SnapshotRecord> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotPublisher.class);

    private final String signingKey;
    private transient SnapshotSigner signer;
    private transient volatile long version;
    private transient volatile long bytes;
    private transient volatile double latencyMs;
    private transient volatile double compactFlops;
    private transient volatile double compactParams;
    private transient volatile double denseFlops;

    /** @param signingKey path of the Ed25519 private key that signs each manifest; empty: unsigned */
    public SnapshotPublisher(String signingKey) {
        this.signingKey = signingKey;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        if (!signingKey.isEmpty()) {
            signer = SnapshotSigner.load(Path.of(signingKey));
            LOG.info("snapshot manifests are signed with key {} ({})", signer.keyId(), signingKey);
        } else {
            LOG.warn("!!! snapshots are published UNSIGNED (allow-unsigned): serving refuses them unless it also runs"
                    + " with --allow-unsigned. Experiments only. !!!");
        }
        MeterRegistry m = FlinkMeterBridge.registry(getRuntimeContext().getMetricGroup());
        Gauge.builder("snapshot_published_version", () -> version).register(m);
        Gauge.builder("snapshot_bytes", () -> bytes).register(m);
        Gauge.builder("snapshot_cut_to_publish_ms", () -> latencyMs).register(m);
        // What the last published snapshot really costs once its closed channels are cut out, next to the
        // trainer's expected_flops / expected_params: the dashboard plots expected vs compact.
        Gauge.builder("compact_flops", () -> compactFlops).register(m);
        Gauge.builder("compact_params", () -> compactParams).register(m);
        Gauge.builder("dense_flops", () -> denseFlops).register(m);
    }

    @Override
    public void flatMap(ModelSnapshot s, Collector<SnapshotRecord> out) throws Exception {
        SnapshotManifest m = SnapshotManifest.fromJson(s.manifestJson());
        for (SnapshotRecord r : SnapshotRecord.of(m, s.artifact(), signer)) {
            out.collect(r);
        }
        version = s.version();
        bytes = s.artifact().length;
        latencyMs = (System.nanoTime() - s.cutNanos()) / 1e6;
        compactFlops = m.actualFlops();
        compactParams = m.actualParams();
        denseFlops = m.denseFlops();
    }
}
