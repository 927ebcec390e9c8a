package l0stream.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * SGD with momentum and weight decay, with the semantics of {@code torch.optim.SGD} (dampening 0,
 * no Nesterov): d = g + wd·p; buf = d on the first step, else buf = μ·buf + d; p −= lr·buf.
 * (DJL's own Sgd keeps its state private and applies momentum differently.) Not thread-safe.
 */
public final class MomentumSgd implements ParameterOptimizer {

    private final double learningRate;
    private final double momentum;
    private final double weightDecay;
    private final NDManager manager;
    private final Map<String, NDArray> buffers = new LinkedHashMap<>();
    private long steps;

    public MomentumSgd(NDManager parent, double learningRate, double momentum, double weightDecay) {
        this.learningRate = learningRate;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.manager = parent.newSubManager();
        manager.setName("sgd-state");
    }

    @Override
    public void step(NDManager scope, Map<String, NDArray> parameters) {
        for (Map.Entry<String, NDArray> e : parameters.entrySet()) {
            NDArray p = e.getValue();
            NDArray d = ParameterOptimizer.gradient(scope, p);
            if (weightDecay != 0) {
                NDArray decay = scope.create((float) weightDecay).mul(p);
                d = d.add(decay);
            }
            NDArray buf = buffers.get(e.getKey());
            if (momentum != 0) {
                if (buf == null) {
                    buf = d.duplicate();
                    buf.attach(manager);
                    buffers.put(e.getKey(), buf);
                } else {
                    buf.muli(momentum).addi(d);
                }
                d = buf;
            }
            p.subi(scope.create((float) learningRate).mul(d));
            ParameterOptimizer.zeroGradient(p);
        }
        steps++;
    }

    @Override
    public Map<String, NDArray> stateTensors() {
        return Collections.unmodifiableMap(buffers);
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public void restore(Map<String, float[]> tensors, Map<String, long[]> shapes, long steps) {
        buffers.values().forEach(NDArray::close);
        buffers.clear();
        tensors.forEach((name, v) -> buffers.put(name, manager.create(v, new Shape(shapes.get(name)))));
        this.steps = steps;
    }

    @Override
    public void close() {
        manager.close();
    }
}
