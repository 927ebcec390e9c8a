package l0stream.serving;

import l0stream.connectors.snapshot.SnapshotManifest;
import l0stream.model.ImageClassifier;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One loaded snapshot version, reference-counted so that a hot swap never closes a model under an
 * in-flight request: {@link #acquire} before use, {@link #release} after; {@link #retire} marks
 * it for closing, which happens when the last user releases it. Thread-safe.
 */
public final class LoadedModel {

    private final SnapshotManifest manifest;
    private final ImageClassifier predictor;
    private final BatchedInference inference;
    /** Default largest inference batch; beyond it a request waits for the next batch. */
    static final int DEFAULT_MAX_BATCH = 32;
    /** 1 for the catalog's own reference, +1 per in-flight request. */
    private final AtomicInteger refs = new AtomicInteger(1);

    LoadedModel(SnapshotManifest manifest, ImageClassifier predictor, int maxBatch) {
        this.manifest = manifest;
        this.predictor = predictor;
        this.inference = new BatchedInference(predictor, maxBatch, "v" + manifest.version());
    }

    /** Class probabilities for one image, batched with concurrent requests to this version. */
    float[] predict(float[] pixels) throws InterruptedException {
        return inference.predict(pixels);
    }

    public SnapshotManifest manifest() {
        return manifest;
    }

    public long version() {
        return manifest.version();
    }

    public ImageClassifier predictor() {
        return predictor;
    }

    /** Takes a reference; false if the model was already closed (the caller picks another). */
    boolean acquire() {
        while (true) {
            int r = refs.get();
            if (r == 0) {
                return false;
            }
            if (refs.compareAndSet(r, r + 1)) {
                return true;
            }
        }
    }

    void release() {
        if (refs.decrementAndGet() == 0) {
            inference.close();
            predictor.close();
        }
    }

    /** Drops the catalog's reference. */
    void retire() {
        release();
    }
}
