package l0stream.serving;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import l0stream.model.DeviceChoice;
import l0stream.model.ImageClassifier;
import l0stream.model.artifact.ArtifactFormatException;
import l0stream.model.artifact.SnapshotArtifact;
import l0stream.model.nn.Architecture;
import l0stream.model.onnx.OnnxExport;

import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Set;

/**
 * A snapshot run by ONNX Runtime from the artifact's own ONNX section (exported on demand for
 * format 1 artifacts). CPU only: the Maven Central {@code onnxruntime} jar has no GPU provider, so
 * {@code --device gpu} is refused rather than silently run on the CPU. {@link OrtSession#run} is
 * thread-safe, so concurrent {@link #predict} calls need no lock.
 */
final class OnnxRuntimeClassifier implements ImageClassifier {

    /**
     * Intra-op threads per session (default 1). Serving's parallelism is across requests: they are
     * batched per model, and HTTP threads parse and answer them. For LeNet-sized passes (~0.1 ms) a
     * second intra-op thread mostly spins on the core the HTTP threads need: on 2 cores, 1 thread
     * gave 3,638 / 4,252 HTTP requests/s (dense / compact) against 2,062 / 2,785 with 2
     * ({@code bench serve}, README "Serving engines"). Raise it for large networks.
     */
    static final String THREADS_PROPERTY = "l0stream.onnxruntime.threads";

    private final OrtEnvironment env;
    private final OrtSession session;
    private final Architecture architecture;
    private final long[] inputShape;
    private final Set<String> outputs = Set.of(OnnxExport.PROBABILITIES);

    private OnnxRuntimeClassifier(OrtEnvironment env, OrtSession session, Architecture architecture) {
        this.env = env;
        this.session = session;
        this.architecture = architecture;
        this.inputShape = new long[] {0, architecture.inputChannels(), architecture.inputHeight(), architecture.inputWidth()};
    }

    static OnnxRuntimeClassifier of(SnapshotArtifact.Loaded loaded, DeviceChoice device) throws ArtifactFormatException {
        if (device == DeviceChoice.GPU) {
            throw new IllegalArgumentException("Invalid value gpu for --device with --engine onnxruntime: this build's "
                    + "ONNX Runtime runs on the CPU only (use --engine djl for a GPU)");
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            o.setIntraOpNumThreads(threads());
            o.setInterOpNumThreads(1);
            return new OnnxRuntimeClassifier(env, env.createSession(loaded.onnx(), o), loaded.network().architecture());
        } catch (OrtException e) {
            throw new ArtifactFormatException("ONNX Runtime cannot load the snapshot's ONNX model: " + e.getMessage(), e);
        }
    }

    private static int threads() {
        String v = System.getProperty(THREADS_PROPERTY, "1");
        try {
            return Math.max(1, Integer.parseInt(v.trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid value " + v + " for " + THREADS_PROPERTY + ": expected a thread count", e);
        }
    }

    @Override
    public Architecture architecture() {
        return architecture;
    }

    @Override
    public float[] predict(float[] images, int n) {
        long[] shape = inputShape.clone();
        shape[0] = n;
        try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(images, 0, n * architecture.inputSize()), shape);
             OrtSession.Result r = session.run(Map.of(OnnxExport.INPUT, x), outputs)) {
            FloatBuffer p = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] out = new float[p.remaining()];
            p.get(out);
            return out;
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime inference failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("Cannot close the ONNX Runtime session: " + e.getMessage(), e);
        }
    }
}
