package l0stream.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam with the semantics of {@code torch.optim.Adam} (no weight decay, no AMSGrad):
 * m = β₁m + (1−β₁)g, v = β₂v + (1−β₂)g², p −= lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).
 * State tensors are named {@code <param>.exp_avg} and {@code <param>.exp_avg_sq}. Not thread-safe.
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
        double bc2 = 1 - Math.pow(BETA2, steps);
        for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
            NDArray p = e.getValue();
            NDArray g = ParameterOptimizer.gradient(scope, p);
            NDArray m = state(e.getKey() + ".exp_avg", p);
            NDArray v = state(e.getKey() + ".exp_avg_sq", p);
            m.muli(BETA1).addi(g.mul(1 - BETA1));
            v.muli(BETA2).addi(g.square().mul(1 - BETA2));
            // v.sqrt() and m.div(...) would attach to the state manager: own them in scope.
            NDArray denom = scope.create((float) (1 / Math.sqrt(bc2))).mul(ParameterOptimizer.own(scope, v.sqrt()))
                    .addi(EPSILON);
            NDArray update = scope.create((float) (learningRate / bc1)).mul(m).divi(denom);
            p.subi(update);
            ParameterOptimizer.zeroGradient(p);
        }
    }

    private NDArray state(String name, NDArray like) {
        return state.computeIfAbsent(name, k -> manager.zeros(like.getShape(), like.getDataType()));
    }

    @Override
    public Map<String, NDArray> stateTensors() {
        return Collections.unmodifiableMap(state);
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
