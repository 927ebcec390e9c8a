package l0stream.pipeline;

import com.fasterxml.jackson.databind.node.ObjectNode;

import l0stream.connectors.snapshot.SnapshotManifest;
import l0stream.connectors.snapshot.SnapshotRecord;
import l0stream.model.artifact.SnapshotArtifact;
import l0stream.model.artifact.TensorArchive;
import l0stream.model.nn.CompactNetwork;
import l0stream.model.nn.NetworkCost;
import l0stream.model.train.L0Trainer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Cuts a snapshot of a model: deterministic gates → compact network (closed channels removed) →
 * artifact + manifest. Shared by the trainer (every snapshot of a single trainer, the merged ones
 * of data-parallel trainers) and by the end-of-input merge of data-parallel trainers.
 */
final class SnapshotCutter {

    /** The manifest's view of a learner. */
    static SnapshotManifest.Continual continual(l0stream.model.continual.ContinualLearner l) {
        return new SnapshotManifest.Continual(l.driftCount(), l.recordsSinceDrift() < 0 ? null : l.recordsSinceDrift(),
                known(l.retentionAccuracy()), known(l.metrics().windowed()), known(l.metrics().fading()), l.replay().size(),
                l.heldOut());
    }

    private static Double known(double v) {
        return Double.isNaN(v) ? null : v;
    }

    /** The cut snapshot and the open channels per gated layer it was cut with. */
    record Cut(ModelSnapshot snapshot, SnapshotManifest manifest, int[] openChannels, Map<String, Integer> open) {}

    private SnapshotCutter() {}

    /**
     * @param step     training steps behind the model (summed over trainers when data-parallel)
     * @param records  records trained into it
     * @param offsets  next input offset per topic-partition
     * @param accuracy prequential accuracy since the previous snapshot
     */
    static Cut cut(PipelineConfig config, L0Trainer model, long version, long step, long records,
                   Map<String, Long> offsets, double accuracy) {
        return cut(config, model, version, step, records, offsets, accuracy, null);
    }

    /** @param continual the learner's figures for the manifest, or null */
    static Cut cut(PipelineConfig config, L0Trainer model, long version, long step, long records,
                   Map<String, Long> offsets, double accuracy, SnapshotManifest.Continual continual) {
        long cutNanos = System.nanoTime();
        CompactNetwork compact = model.compact();
        int[] openChannels = model.network().openChannels();
        NetworkCost expected = model.network().expectedCost();
        NetworkCost actual = compact.cost();
        double denseFlops = NetworkCost.of(model.network().architecture()).flops();
        ObjectNode meta = TensorArchive.json().createObjectNode()
                .put("modelId", config.modelId()).put("version", version).put("step", step)
                .put("network", config.network()).put("gates", config.gates().id());
        byte[] artifact = SnapshotArtifact.write(compact, meta);
        Map<String, Integer> open = new LinkedHashMap<>();
        int[] gated = model.network().architecture().gatedLayers();
        for (int i = 0; i < gated.length; i++) {
            open.put("layer" + gated[i], openChannels[i]);
        }
        SnapshotManifest manifest = new SnapshotManifest(SnapshotManifest.CURRENT_VERSION, config.modelId(), version,
                version - 1, step, records, System.currentTimeMillis(), new LinkedHashMap<>(offsets), open,
                expected.flops(), actual.flops(), expected.params(), actual.params(), denseFlops, accuracy,
                artifact.length, SnapshotRecord.sha256Hex(artifact),
                SnapshotRecord.chunksFor(artifact.length, config.chunkBytes()), continual);
        return new Cut(new ModelSnapshot(config.modelId(), version, manifest.toJson(), artifact, cutNanos), manifest,
                openChannels, open);
    }
}
