package l0stream.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam with the semantics of {@code torch.optim.Adam} (no weight decay, no AMSGrad):
 * m = β₁m + (1−β₁)g, v = β₂v + (1−β₂)g², p −= lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).
 *
 * <p>Runs as one fused native op per parameter (DJL's {@code adamUpdate}, which computes
 * p −= c·m/(√v + ε')): with c = lr·√(1−β₂ᵗ)/(1−β₁ᵗ) and ε' = ε·√(1−β₂ᵗ) that is exactly PyTorch's
 * update. State tensors are named {@code <param>.exp_avg} and {@code <param>.exp_avg_sq}, as in
 * PyTorch. Not thread-safe.
 */
public final class AdamOptimizer implements ParameterOptimizer {

    public static final double BETA1 = 0.9;
    public static final double BETA2 = 0.999;
    public static final double EPSILON = 1e-8;

    private final double learningRate;
    private final NDManager manager;
    private final Map<String, NDArray> state = new LinkedHashMap<>();
    private long steps;

    public AdamOptimizer(NDManager parent, double learningRate) {
        this.learningRate = learningRate;
        this.manager = parent.newSubManager();
        manager.setName("adam-state");
    }

    @Override
    public void step(NDManager scope, Map<String, NDArray> parameters) {
        steps++;
        double bc1 = 1 - Math.pow(BETA1, steps);
        double sqrtBc2 = Math.sqrt(1 - Math.pow(BETA2, steps));
        float stepSize = (float) (learningRate * sqrtBc2 / bc1);
        float eps = (float) (EPSILON * sqrtBc2);
        for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
            NDArray p = e.getValue();
            NDArray g = ParameterOptimizer.gradient(scope, p);
            NDArray m = state(e.getKey() + ".exp_avg", p);
            NDArray v = state(e.getKey() + ".exp_avg_sq", p);
            JniUtils.adamUpdate((PtNDArray) p, (PtNDArray) g, (PtNDArray) m, (PtNDArray) v, (float) learningRate,
                    stepSize, 0f, 1f, -1f, (float) BETA1, (float) BETA2, eps, false);
            ParameterOptimizer.zeroGradient(p);
        }
    }

    private NDArray state(String name, NDArray like) {
        return state.computeIfAbsent(name, k -> manager.zeros(like.getShape(), like.getDataType()));
    }

    @Override
    public Map<String, NDArray> stateTensors(NDManager scope) {
        return new LinkedHashMap<>(state);
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public void restore(Map<String, float[]> tensors, Map<String, long[]> shapes, long steps) {
        state.values().forEach(NDArray::close);
        state.clear();
        tensors.forEach((name, v) -> state.put(name, manager.create(v, new Shape(shapes.get(name)))));
        this.steps = steps;
    }

    @Override
    public void close() {
        manager.close();
    }
}
