package l0stream.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

import l0stream.model.gate.ParameterStorage;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam with the semantics of {@code torch.optim.Adam} (no weight decay, no AMSGrad):
 * m = β₁m + (1−β₁)g, v = β₂v + (1−β₂)g², p −= lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).
 *
 * <p>Runs as one fused native op per parameter (DJL's {@code adamUpdate}, which computes
 * p −= c·m/(√v + ε')): with c = lr·√(1−β₂ᵗ)/(1−β₁ᵗ) and ε' = ε·√(1−β₂ᵗ) that is exactly PyTorch's
 * update. State tensors are named {@code <param>.exp_avg} and {@code <param>.exp_avg_sq}, as in
 * PyTorch. When the parameters are views of one contiguous tensor ({@link #step(NDManager, Map, NDArray)}),
 * the update is one call over that tensor, and the state is one tensor per moment whose named
 * entries are views of it. Not thread-safe.
 */
public final class AdamOptimizer implements ParameterOptimizer {

    public static final double BETA1 = 0.9;
    public static final double BETA2 = 0.999;
    public static final double EPSILON = 1e-8;

    private final double learningRate;
    private final NDManager manager;
    private final Map<String, NDArray> state = new LinkedHashMap<>();
    private long steps;
    /** The moments as one tensor each when stepping over a parameter storage; null until the first such step. */
    private NDArray flatMean;
    private NDArray flatVariance;

    public AdamOptimizer(NDManager parent, double learningRate) {
        this.learningRate = learningRate;
        this.manager = parent.newSubManager();
        manager.setName("adam-state");
    }

    /**
     * One update of {@code parameters}, which are consecutive views of {@code storage} in map order
     * (a {@link l0stream.model.gate.GateParameters#storage()}), as one fused call over the storage:
     * element for element the same arithmetic as one call per parameter. With a null storage, the
     * per-parameter {@link #step(NDManager, Map)}.
     */
    public void step(NDManager scope, Map<String, NDArray> parameters, NDArray storage) {
        if (storage == null) {
            step(scope, parameters);
            return;
        }
        if (flatMean == null) {
            flatMean = flatten(".exp_avg", parameters, storage);
            flatVariance = flatten(".exp_avg_sq", parameters, storage);
        }
        steps++;
        Scalars k = scalars();
        NDArray[] grads = new NDArray[parameters.size()];
        int i = 0;
        for (NDArray p : parameters.values()) {
            grads[i++] = ParameterOptimizer.gradient(scope, p).reshape(-1);
        }
        NDArray g = NDArrays.concat(new NDList(grads));
        update(k, storage, g, flatMean, flatVariance);
        parameters.values().forEach(ParameterOptimizer::zeroGradient);
    }

    /**
     * One tensor holding the named state of every parameter (restored values, or zeros), laid out
     * like the storage; the named entries become views of it, so checkpoints keep PyTorch's names.
     */
    private NDArray flatten(String suffix, Map<String, NDArray> parameters, NDArray storage) {
        float[] all = new float[Math.toIntExact(storage.size())];
        int off = 0;
        for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
            int n = Math.toIntExact(e.getValue().size());
            NDArray restored = state.get(e.getKey() + suffix);
            if (restored != null) {
                System.arraycopy(restored.toFloatArray(), 0, all, off, n);
                restored.close();
            }
            off += n;
        }
        if (off != all.length) {
            throw new IllegalArgumentException("Invalid storage: " + all.length + " values for parameters of " + off);
        }
        NDArray flat = manager.create(all, new Shape(all.length));
        off = 0;
        for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
            int n = Math.toIntExact(e.getValue().size());
            state.put(e.getKey() + suffix, ParameterStorage.segment(flat, off, e.getValue().getShape()));
            off += n;
        }
        return flat;
    }

    @Override
    public void step(NDManager scope, Map<String, NDArray> parameters) {
        steps++;
        Scalars k = scalars();
        for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
            NDArray p = e.getValue();
            NDArray g = ParameterOptimizer.gradient(scope, p);
            update(k, p, g, state(e.getKey() + ".exp_avg", p), state(e.getKey() + ".exp_avg_sq", p));
            ParameterOptimizer.zeroGradient(p);
        }
    }

    /** The bias-corrected step size and ε of step {@link #steps} (already counted), as DJL's update takes them. */
    private record Scalars(float stepSize, float eps) {}

    private Scalars scalars() {
        double bc1 = 1 - Math.pow(BETA1, steps);
        double sqrtBc2 = Math.sqrt(1 - Math.pow(BETA2, steps));
        return new Scalars((float) (learningRate * sqrtBc2 / bc1), (float) (EPSILON * sqrtBc2));
    }

    /** One update of {@code p} with gradient {@code g} and moments {@code m}, {@code v}. */
    private void update(Scalars k, NDArray p, NDArray g, NDArray m, NDArray v) {
        JniUtils.adamUpdate((PtNDArray) p, (PtNDArray) g, (PtNDArray) m, (PtNDArray) v, (float) learningRate,
                k.stepSize(), 0f, 1f, -1f, (float) BETA1, (float) BETA2, k.eps(), false);
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
        closeFlat();
        tensors.forEach((name, v) -> state.put(name, manager.create(v, new Shape(shapes.get(name)))));
        this.steps = steps;
    }

    private void closeFlat() {
        if (flatMean != null) {
            flatMean.close();
            flatVariance.close();
            flatMean = null;
            flatVariance = null;
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
