package l0stream.serving;

import l0stream.model.DeviceChoice;
import l0stream.model.ImageClassifier;
import l0stream.model.SnapshotPredictor;
import l0stream.model.artifact.ArtifactFormatException;
import l0stream.model.artifact.SnapshotArtifact;

import java.util.Locale;

/**
 * What runs a snapshot's forward pass in {@code serve}: DJL's PyTorch engine on the native
 * tensors, or ONNX Runtime on the snapshot's ONNX form. Both answer the same (the exporter's tests
 * hold them to 1e-5); they differ in fixed cost per call (docs/performance.md, {@code bench serve}).
 */
public enum ServingEngine {
    DJL("djl"),
    ONNXRUNTIME("onnxruntime");

    /** The engine {@code serve} uses unless told otherwise (measured: README "Serving engines"). */
    public static final ServingEngine DEFAULT = ONNXRUNTIME;

    private final String id;

    ServingEngine(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /**
     * {@code --engine-threads N}: ONNX Runtime's intra-op threads per model (default 1, see
     * {@link OnnxRuntimeClassifier#THREADS_PROPERTY}); null leaves the default. DJL's PyTorch
     * threads are set per JVM by {@code ai.djl.pytorch.num_threads}.
     */
    static void threads(String value) {
        if (value == null) {
            return;
        }
        try {
            if (Integer.parseInt(value.trim()) < 1) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid value " + value + " for --engine-threads: must be an integer >= 1", e);
        }
        System.setProperty(OnnxRuntimeClassifier.THREADS_PROPERTY, value.trim());
    }

    /** Parses {@code djl | onnxruntime}; the error names {@code option}. */
    public static ServingEngine parse(String value, String option) {
        if (value != null) {
            for (ServingEngine e : values()) {
                if (e.id.equals(value.trim().toLowerCase(Locale.ROOT))) {
                    return e;
                }
            }
        }
        throw new IllegalArgumentException("Invalid value " + value + " for " + option + ": expected djl or onnxruntime");
    }

    /** Loads a verified artifact; refuses what {@link SnapshotArtifact#read} refuses. */
    public ImageClassifier load(byte[] artifact, DeviceChoice device) throws ArtifactFormatException {
        SnapshotArtifact.Loaded loaded = SnapshotArtifact.read(artifact);
        return load(loaded, device);
    }

    public ImageClassifier load(SnapshotArtifact.Loaded loaded, DeviceChoice device) throws ArtifactFormatException {
        return switch (this) {
            case DJL -> SnapshotPredictor.of(loaded.network(), loaded.metadata(), device);
            case ONNXRUNTIME -> OnnxRuntimeClassifier.of(loaded, device);
        };
    }

    @Override
    public String toString() {
        return id;
    }
}
