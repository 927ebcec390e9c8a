package l0stream.model;

import l0stream.model.nn.Architecture;

/**
 * A loaded snapshot model that turns images into class probabilities, whatever runs it (DJL's
 * PyTorch engine, ONNX Runtime). Implementations are thread-safe for concurrent {@link #predict}
 * calls; close once no call is in flight.
 */
public interface ImageClassifier extends AutoCloseable {

    /** The compact network's shape: input (C, H, W) and classes. */
    Architecture architecture();

    /** Class probabilities for {@code n} images laid out NCHW (pixels / 255), row-major (n × classes). */
    float[] predict(float[] images, int n);

    @Override
    void close();
}
