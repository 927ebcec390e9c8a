package l0stream.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * SGD with momentum and weight decay, with the semantics of {@code torch.optim.SGD} (dampening 0,
 * no Nesterov): d = g + wd·p; buf = d on the first step, else buf = μ·buf + d; p −= lr·buf.
 *
 * <p>The update runs as one fused native op per parameter (DJL's {@code sgdUpdate}), which keeps
 * S = μ·S + lr·d and applies p −= S. With a constant learning rate S = lr·buf exactly (S starts
 * at 0, so the first step gives lr·d), so the state is exported and restored in PyTorch's
 * convention, buf = S/lr: a checkpoint is independent of this implementation detail, and a
 * restore with a different learning rate continues as PyTorch would. (DJL's own {@code Sgd}
 * keeps its state private.) Not thread-safe.
 */
public final class MomentumSgd implements ParameterOptimizer {

    private float learningRate;
    private final float momentum;
    private final float weightDecay;
    private final NDManager manager;
    private final Map<String, NDArray> scaledBuffers = new LinkedHashMap<>();
    private long steps;

    public MomentumSgd(NDManager parent, double learningRate, double momentum, double weightDecay) {
        this.learningRate = (float) learningRate;
        this.momentum = (float) momentum;
        this.weightDecay = (float) weightDecay;
        this.manager = parent.newSubManager();
        manager.setName("sgd-state");
    }

    @Override
    public void step(NDManager scope, Map<String, NDArray> parameters) {
        for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
            NDArray p = e.getValue();
            NDArray g = ParameterOptimizer.gradient(scope, p);
            NDArray s = momentum == 0 ? p
                    : scaledBuffers.computeIfAbsent(e.getKey(), k -> manager.zeros(p.getShape(), p.getDataType()));
            JniUtils.sgdUpdate((PtNDArray) p, (PtNDArray) g, (PtNDArray) s, learningRate, weightDecay, 1f, -1f, momentum);
            ParameterOptimizer.zeroGradient(p);
        }
        steps++;
    }

    @Override
    public Map<String, NDArray> stateTensors(NDManager scope) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        NDArray inv = scope.create(1f / learningRate);
        scaledBuffers.forEach((k, v) -> out.put(k, inv.mul(v)));
        return out;
    }

    /**
     * The buffers as this optimiser holds them (lr·buf), bit for bit: what a checkpoint stores, so a
     * restore with the same learning rate continues exactly ((buf ÷ lr)·lr is not buf in float).
     */
    Map<String, NDArray> scaledStateTensors() {
        return new LinkedHashMap<>(scaledBuffers);
    }

    float learningRate() {
        return learningRate;
    }

    /**
     * Uses {@code lr} from the next step on, as setting a param group's {@code lr} in PyTorch does:
     * PyTorch keeps buf, so the buffers held here as lr·buf are rescaled to the new rate.
     */
    void setLearningRate(double lr) {
        float f = (float) lr;
        if (f != learningRate) {
            for (NDArray s : scaledBuffers.values()) {
                s.muli(f / learningRate);
            }
            learningRate = f;
        }
    }

    /** Restores {@link #scaledStateTensors} that were scaled by {@code scaledBy}; rescaled if the learning rate changed. */
    void restoreScaled(Map<String, float[]> tensors, Map<String, long[]> shapes, long steps, float scaledBy) {
        scaledBuffers.values().forEach(NDArray::close);
        scaledBuffers.clear();
        tensors.forEach((name, v) -> {
            NDArray a = manager.create(v, new Shape(shapes.get(name)));
            if (scaledBy != learningRate) {
                a.muli(learningRate / scaledBy);
            }
            scaledBuffers.put(name, a);
        });
        this.steps = steps;
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public void restore(Map<String, float[]> tensors, Map<String, long[]> shapes, long steps) {
        scaledBuffers.values().forEach(NDArray::close);
        scaledBuffers.clear();
        tensors.forEach((name, v) -> {
            NDArray a = manager.create(v, new Shape(shapes.get(name)));
            a.muli(learningRate);
            scaledBuffers.put(name, a);
        });
        this.steps = steps;
    }

    @Override
    public void close() {
        manager.close();
    }
}
