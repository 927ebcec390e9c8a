package l0stream.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;

import l0stream.model.artifact.ArtifactFormatException;
import l0stream.model.artifact.SnapshotArtifact;
import l0stream.model.nn.Architecture;
import l0stream.model.nn.CompactNetwork;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A ready-to-use classifier built from a snapshot artifact: input images as float32 NCHW, output
 * class probabilities. Thread-safe for concurrent {@link #predict} calls (each runs in its own
 * scope; inference does not touch shared state). Close it to free native memory.
 */
public final class SnapshotPredictor implements ImageClassifier {

    private final NDManager manager;
    private final SequentialBlock block;
    private final Architecture architecture;
    private final ObjectNode metadata;
    private final ParameterStore parameters;

    private SnapshotPredictor(CompactNetwork network, ObjectNode metadata, Device device) {
        this.manager = PyTorchRuntime.engine().newBaseManager(device);
        manager.setName("snapshot-predictor");
        this.block = network.toBlock(manager);
        // Inference only: parameters that require gradients make every op record an autograd
        // graph, which costs more than the arithmetic itself for a batch of a few small images.
        block.freezeParameters(true);
        this.architecture = network.architecture();
        this.metadata = metadata;
        this.parameters = new ParameterStore(manager, false);
    }

    /** Verifies and loads an artifact; refuses anything {@link SnapshotArtifact#read} refuses. */
    public static SnapshotPredictor load(byte[] artifact, DeviceChoice device) throws ArtifactFormatException {
        SnapshotArtifact.Loaded loaded = SnapshotArtifact.read(artifact);
        return of(loaded.network(), loaded.metadata(), device);
    }

    public static SnapshotPredictor of(CompactNetwork network, ObjectNode metadata, DeviceChoice device) {
        return new SnapshotPredictor(network, metadata, device.resolve(PyTorchRuntime.engine()));
    }

    @Override
    public Architecture architecture() {
        return architecture;
    }

    public ObjectNode metadata() {
        return metadata.deepCopy();
    }

    /** Logits for {@code n} images laid out NCHW in {@code images}; row-major (n × classes). */
    public float[] logits(float[] images, int n) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray x = scope.create(images, new Shape(n, architecture.inputChannels(),
                    architecture.inputHeight(), architecture.inputWidth()));
            return block.forward(parameters, new NDList(x), false).singletonOrThrow().toFloatArray();
        }
    }

    /** Class probabilities (softmax of the logits), row-major (n × classes). */
    @Override
    public float[] predict(float[] images, int n) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray x = scope.create(images, new Shape(n, architecture.inputChannels(),
                    architecture.inputHeight(), architecture.inputWidth()));
            return block.forward(parameters, new NDList(x), false).singletonOrThrow().softmax(1).toFloatArray();
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
