package l0stream.model.gate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Named parameters laid out in one contiguous tensor, each parameter a view of its segment, so that
 * an optimiser can update all of them with one native call: Adam over Dep-L0's six generator
 * tensors was six calls of about twelve kernels each, a fifth of what gates add to a LeNet step's
 * native ops. Each view is a leaf that requires a gradient and gets a gradient of its own; writes to
 * the storage (the optimiser's in-place update, an in-place load) are seen through the views. So
 * values must be loaded in place ({@code GatedNetwork.assign}); replacing a view's data would cut
 * it off from the storage.
 */
public final class ParameterStorage {

    private final List<String> names = new ArrayList<>();
    private final List<Shape> shapes = new ArrayList<>();
    private final List<float[]> values = new ArrayList<>();

    /** The view of {@code flat}'s elements from {@code offset} on, shaped {@code shape} (flat's manager owns it). */
    public static NDArray segment(NDArray flat, long offset, Shape shape) {
        return flat.get(new NDIndex(offset + ":" + (offset + shape.size()))).reshape(shape);
    }

    /** Appends a parameter; segments follow in the order they are added. */
    ParameterStorage add(String name, Shape shape, float[] v) {
        if (v.length != shape.size()) {
            throw new IllegalArgumentException("Invalid values for " + name + ": " + v.length + " for shape " + shape);
        }
        names.add(name);
        shapes.add(shape);
        values.add(v);
        return this;
    }

    /** The storage, owned by {@code owner}, and its views by name (in order) put into {@code views}. */
    NDArray build(NDManager owner, Map<String, NDArray> views) {
        int total = values.stream().mapToInt(v -> v.length).sum();
        float[] all = new float[total];
        int off = 0;
        for (float[] v : values) {
            System.arraycopy(v, 0, all, off, v.length);
            off += v.length;
        }
        NDArray storage = owner.create(all, new Shape(total));
        off = 0;
        for (int i = 0; i < names.size(); i++) {
            int n = values.get(i).length;
            NDArray view = segment(storage, off, shapes.get(i));
            view.setRequiresGradient(true);
            views.put(names.get(i), view);
            off += n;
        }
        return storage;
    }
}
