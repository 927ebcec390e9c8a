package l0stream.model.train;

import com.fasterxml.jackson.databind.node.ObjectNode;

import l0stream.model.artifact.ArtifactFormatException;
import l0stream.model.artifact.TensorArchive;
import l0stream.model.artifact.TensorArchive.Tensor;
import l0stream.model.nn.GatedNetwork;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's parameters without its optimiser state: every tensor of
 * {@link GatedNetwork#state()} (weights, BN statistics, gate and generator
 * parameters) as a {@link TensorArchive} with magic {@code L0PM}, format version 1. Header:
 * {@code {"format":"l0stream-parameters","network","gates"}}.
 *
 * <p>This is what data-parallel trainers exchange: each sends its parameters, receives the
 * weighted mean of all of them ({@link #weightedMean}), and keeps its own optimiser state. The
 * mean is plain Java over float arrays, so it needs no native engine (it runs on Flink's
 * JobManager).
 */
public final class ModelParameters {

    public static final String MAGIC = "L0PM";
    public static final int FORMAT_VERSION = 1;
    public static final String WHAT = "model parameters";

    private ModelParameters() {}

    static byte[] write(L0Trainer t) {
        ObjectNode h = header(t.config().network(), t.config().gates().id());
        List<Tensor> tensors = new ArrayList<>();
        t.network().state().forEach((n, a) -> tensors.add(new Tensor(n, a.getShape().getShape(), a.toFloatArray())));
        return TensorArchive.write(MAGIC, FORMAT_VERSION, h, tensors);
    }

    static void loadInto(L0Trainer t, byte[] bytes) throws ArtifactFormatException {
        TensorArchive.Contents c = read(bytes);
        requireEqual(c.header(), "network", t.config().network());
        requireEqual(c.header(), "gates", t.config().gates().id());
        for (Map.Entry<String, ai.djl.ndarray.NDArray> e : t.network().state().entrySet()) {
            Tensor saved = c.tensors().get(e.getKey());
            if (saved == null) {
                throw new ArtifactFormatException(WHAT + " lack tensor " + e.getKey());
            }
            if (saved.data().length != e.getValue().getShape().size()) {
                throw new ArtifactFormatException(WHAT + " tensor " + e.getKey() + " has " + saved.data().length
                        + " values, the model needs " + e.getValue().getShape());
            }
            GatedNetwork.assign(e.getValue(), saved.data());
        }
    }

    /**
     * The weighted mean of several parameter sets of one architecture, tensor by tensor. Weights
     * are normalised; when they sum to 0 (no trainer saw data) every set counts the same.
     *
     * @throws ArtifactFormatException when the sets differ in network, gates, tensor names or shapes
     */
    public static byte[] weightedMean(List<byte[]> sets, double[] weights) throws ArtifactFormatException {
        if (sets.isEmpty() || sets.size() != weights.length) {
            throw new IllegalArgumentException("Invalid arguments: " + sets.size() + " parameter sets and "
                    + weights.length + " weights");
        }
        double total = 0;
        for (double w : weights) {
            if (w < 0 || Double.isNaN(w)) {
                throw new IllegalArgumentException("Invalid weight " + w + ": must be >= 0");
            }
            total += w;
        }
        double[] norm = new double[weights.length];
        for (int i = 0; i < weights.length; i++) {
            norm[i] = total > 0 ? weights[i] / total : 1.0 / weights.length;
        }
        return linearCombination(sets, norm);
    }

    /**
     * {@code Σ coefficients[i] · sets[i]}, tensor by tensor: with {@code (1, 1, -1)} over
     * {@code (merged, now, sent)} it is the asynchronous merge {@code θ_merged + (θ_now − θ_sent)},
     * which keeps what a trainer learnt while its merge was on the way.
     *
     * @throws ArtifactFormatException when the sets differ in network, gates, tensor names or shapes
     */
    public static byte[] linearCombination(List<byte[]> sets, double[] coefficients) throws ArtifactFormatException {
        if (sets.isEmpty() || sets.size() != coefficients.length) {
            throw new IllegalArgumentException("Invalid arguments: " + sets.size() + " parameter sets and "
                    + coefficients.length + " coefficients");
        }
        TensorArchive.Contents first = read(sets.get(0));
        Map<String, double[]> sums = new LinkedHashMap<>();
        first.tensors().forEach((n, t) -> sums.put(n, new double[t.data().length]));
        for (int s = 0; s < sets.size(); s++) {
            TensorArchive.Contents c = s == 0 ? first : read(sets.get(s));
            requireEqual(c.header(), "network", first.header().path("network").asText());
            requireEqual(c.header(), "gates", first.header().path("gates").asText());
            if (!c.tensors().keySet().equals(first.tensors().keySet())) {
                throw new ArtifactFormatException(WHAT + " " + s + " has tensors " + c.tensors().keySet()
                        + ", the first set has " + first.tensors().keySet());
            }
            for (Map.Entry<String, double[]> e : sums.entrySet()) {
                Tensor t = c.tensors().get(e.getKey());
                if (!Arrays.equals(t.shape(), first.tensors().get(e.getKey()).shape())) {
                    throw new ArtifactFormatException(WHAT + " " + s + " tensor " + e.getKey() + " has shape "
                            + Arrays.toString(t.shape()) + ", the first set has "
                            + Arrays.toString(first.tensors().get(e.getKey()).shape()));
                }
                double[] acc = e.getValue();
                float[] d = t.data();
                for (int k = 0; k < d.length; k++) {
                    acc[k] += coefficients[s] * d[k];
                }
            }
        }
        List<Tensor> out = new ArrayList<>();
        sums.forEach((n, acc) -> {
            float[] f = new float[acc.length];
            for (int k = 0; k < f.length; k++) {
                f[k] = (float) acc[k];
            }
            out.add(new Tensor(n, first.tensors().get(n).shape(), f));
        });
        return TensorArchive.write(MAGIC, FORMAT_VERSION, first.header(), out);
    }

    /** Reads and verifies a parameter set. */
    public static TensorArchive.Contents read(byte[] bytes) throws ArtifactFormatException {
        return TensorArchive.read(bytes, MAGIC, FORMAT_VERSION, WHAT);
    }

    static ObjectNode header(String network, String gates) {
        return TensorArchive.json().createObjectNode().put("format", "l0stream-parameters")
                .put("network", network).put("gates", gates);
    }

    private static void requireEqual(ObjectNode h, String field, String expected) throws ArtifactFormatException {
        String got = h.path(field).asText();
        if (!got.equals(expected)) {
            throw new ArtifactFormatException("Invalid value " + got + " for " + field + " in " + WHAT
                    + ": expected " + expected);
        }
    }
}
