package l0stream.model.train;

import ai.djl.ndarray.NDArray;

import com.fasterxml.jackson.databind.node.ObjectNode;

import l0stream.model.ModelConfig;
import l0stream.model.artifact.ArtifactFormatException;
import l0stream.model.artifact.TensorArchive;
import l0stream.model.artifact.TensorArchive.Tensor;
import l0stream.model.nn.GatedNetwork;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The full training state of an {@link L0Trainer} as bytes: a {@link TensorArchive} with magic
 * {@code L0CK}, format version 2 (version 1 is read too).
 *
 * <p>Header: {@code {"format":"l0stream-checkpoint","network","gates","seed","step",
 * "noiseState","sgdSteps","adamSteps","sgdScaledBy"}}. Tensors: {@code model/<name>} for every tensor of
 * {@link l0stream.model.nn.GatedNetwork#state()} (weights, BN statistics, gate parameters),
 * {@code sgd-scaled/<param>} momentum buffers as the optimiser holds them (lr·buf, lr = sgdScaledBy),
 * {@code adam/<param>.exp_avg|exp_avg_sq}. Version 1 stored {@code sgd/<param>} in PyTorch's
 * convention (buf), which loses the last bit on the way back ((buf ÷ lr)·lr), so a restored trainer
 * drifted from an uninterrupted one by a few ULPs.
 *
 * <p>A trainer restored from a checkpoint and trained on the same batches produces the same
 * parameters as one that never stopped: the gate noise state (a single long) is part of it.
 * Learning rates and λ come from the restoring config, so they may be changed on restore;
 * network and gate kind must match.
 */
public final class TrainingCheckpoint {

    public static final String MAGIC = "L0CK";
    public static final int FORMAT_VERSION = 2;
    public static final String WHAT = "training checkpoint";

    private TrainingCheckpoint() {}

    static byte[] write(L0Trainer t) {
        ModelConfig cfg = t.config();
        ObjectNode h = TensorArchive.json().createObjectNode();
        h.put("format", "l0stream-checkpoint");
        h.put("network", cfg.network());
        h.put("gates", cfg.gates().id());
        h.put("seed", cfg.seed());
        h.put("step", t.step());
        h.put("noiseState", t.noise().state());
        h.put("sgdSteps", t.sgd().steps());
        h.put("adamSteps", t.adam().steps());
        h.put("sgdScaledBy", (double) t.sgd().learningRate());
        List<Tensor> tensors = new ArrayList<>();
        t.network().state().forEach((n, a) -> tensors.add(tensor("model/" + n, a)));
        try (ai.djl.ndarray.NDManager scope = t.network().manager().newSubManager()) {
            t.sgd().scaledStateTensors().forEach((n, a) -> tensors.add(tensor("sgd-scaled/" + n, a)));
            t.adam().stateTensors(scope).forEach((n, a) -> tensors.add(tensor("adam/" + n, a)));
        }
        return TensorArchive.write(MAGIC, FORMAT_VERSION, h, tensors);
    }

    static void restoreInto(L0Trainer t, byte[] bytes) throws ArtifactFormatException {
        TensorArchive.Contents c = TensorArchive.read(bytes, MAGIC, FORMAT_VERSION, WHAT);
        ObjectNode h = c.header();
        ModelConfig cfg = t.config();
        requireEqual(h, "network", cfg.network());
        requireEqual(h, "gates", cfg.gates().id());
        Map<String, NDArray> state = t.network().state();
        for (Map.Entry<String, NDArray> e : state.entrySet()) {
            Tensor saved = c.tensors().get("model/" + e.getKey());
            if (saved == null) {
                throw new ArtifactFormatException(WHAT + " lacks tensor model/" + e.getKey());
            }
            if (saved.data().length != e.getValue().getShape().size()) {
                throw new ArtifactFormatException(WHAT + " tensor model/" + e.getKey() + " has "
                        + saved.data().length + " values, the model needs " + e.getValue().getShape());
            }
            GatedNetwork.assign(e.getValue(), saved.data());
        }
        if (c.version() >= 2) {
            Map<String, float[]> values = new HashMap<>();
            Map<String, long[]> shapes = new HashMap<>();
            select(c.tensors(), "sgd-scaled/", values, shapes);
            t.sgd().restoreScaled(values, shapes, h.path("sgdSteps").asLong(), (float) h.path("sgdScaledBy").asDouble());
        } else {
            restoreOptimizer(t.sgd(), c.tensors(), "sgd/", h.path("sgdSteps").asLong());
        }
        restoreOptimizer(t.adam(), c.tensors(), "adam/", h.path("adamSteps").asLong());
        t.noise().restore(h.path("noiseState").asLong());
        t.restoreStep(h.path("step").asLong());
    }

    private static void restoreOptimizer(ParameterOptimizer o, Map<String, Tensor> all, String prefix, long steps) {
        Map<String, float[]> values = new HashMap<>();
        Map<String, long[]> shapes = new HashMap<>();
        select(all, prefix, values, shapes);
        o.restore(values, shapes, steps);
    }

    private static void select(Map<String, Tensor> all, String prefix, Map<String, float[]> values, Map<String, long[]> shapes) {
        all.forEach((name, t) -> {
            if (name.startsWith(prefix)) {
                values.put(name.substring(prefix.length()), t.data());
                shapes.put(name.substring(prefix.length()), t.shape());
            }
        });
    }

    private static void requireEqual(ObjectNode h, String field, String expected) throws ArtifactFormatException {
        String got = h.path(field).asText();
        if (!got.equals(expected)) {
            throw new ArtifactFormatException("Invalid value " + got + " for " + field + " in " + WHAT
                    + ": the restoring config has " + field + "=" + expected);
        }
    }

    private static Tensor tensor(String name, NDArray a) {
        return new Tensor(name, a.getShape().getShape(), a.toFloatArray());
    }
}
