package l0stream.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

import java.util.Map;

/**
 * An optimiser over one named parameter group, with its state (buffers by parameter name, plus
 * scalars) open for checkpointing. {@link #step} reads each parameter's gradient, updates the
 * parameter in place, and zeroes the gradient (PyTorch's autograd accumulates otherwise). Must be
 * called with autograd off, i.e. after the gradient collector is closed.
 */
public interface ParameterOptimizer extends AutoCloseable {

    /** Applies one update; temporaries are owned by {@code scope}. */
    void step(NDManager scope, Map<String, NDArray> parameters);

    /**
     * State tensors by name, in PyTorch's convention (what {@link #restore} takes back); either
     * owned by {@code scope} or live views of the optimiser's own arrays: read, do not close.
     */
    Map<String, NDArray> stateTensors(NDManager scope);

    /** Scalar state (e.g. Adam's step count). */
    long steps();

    /** Restores state: the tensors are copied into optimiser-owned arrays. */
    void restore(Map<String, float[]> tensors, Map<String, long[]> shapes, long steps);

    @Override
    void close();

    /** The gradient of {@code p}, as an array owned by {@code scope}. */
    static NDArray gradient(NDManager scope, NDArray p) {
        return own(scope, p.getGradient());
    }

    /** Moves {@code a} into {@code scope} and returns it. */
    static NDArray own(NDManager scope, NDArray a) {
        a.attach(scope);
        return a;
    }

    /** Sets p's accumulated gradient to zero (NaN included, unlike g − g). */
    static void zeroGradient(NDArray p) {
        JniUtils.zeroGrad((PtNDArray) p);
    }
}
