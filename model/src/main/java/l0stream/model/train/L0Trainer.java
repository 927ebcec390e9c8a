package l0stream.model.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import l0stream.model.ModelConfig;
import l0stream.model.PyTorchRuntime;
import l0stream.model.gate.GateInit;
import l0stream.model.gate.GateNoise;
import l0stream.model.nn.Architecture;
import l0stream.model.nn.ChannelPruner;
import l0stream.model.nn.CompactNetwork;
import l0stream.model.nn.GatedNetwork;

import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Trains one gated network with Dep-L0 (or L0-HC, or densely): loss = cross-entropy + expected-L0
 * penalty; SGD with momentum and weight decay on the weights, Adam on the gate parameters.
 *
 * <p>Lifecycle: {@link #create} or {@link #restore}, then any number of {@link #evaluate} and
 * {@link #train} calls, then {@link #close}. Owns a base manager on the configured device; the
 * network and the optimisers own sub-managers of it, and each call runs in a scoped sub-manager
 * that is closed before it returns, so native memory stays flat over a long run.
 *
 * <p>Thread-safety: an instance is not thread-safe. Across instances, forward+backward is
 * serialised JVM-wide because PyTorch allows only one active gradient collector per JVM.
 */
public final class L0Trainer implements AutoCloseable {

    /** Guards PyTorch's single JVM-wide gradient collector. */
    private static final ReentrantLock GRADIENT_COLLECTOR = new ReentrantLock();

    private final ModelConfig config;
    private final Architecture architecture;
    private final Engine engine;
    private final NDManager manager;
    private final GatedNetwork network;
    private final MomentumSgd sgd;
    private final AdamOptimizer adam;
    private final GateNoise noise;
    private long step;
    /** Bumped whenever the parameters may have changed (a step, a load, a restore); see {@link #revision()}. */
    private long revision;

    private L0Trainer(ModelConfig config) {
        this.config = config;
        this.architecture = config.architecture();
        this.engine = PyTorchRuntime.engine();
        Device device = config.device().resolve(engine, config.gpuIndex());
        this.manager = engine.newBaseManager(device);
        manager.setName("l0-trainer");
        // One stream for initialisation, another (derived from the same seed) for gate noise,
        // so that changing the architecture's size does not shift the noise sequence.
        GateNoise init = new GateNoise(config.seed());
        this.network = new GatedNetwork(manager, architecture, config.gates(), config.gateInit(), init);
        this.sgd = new MomentumSgd(manager, config.weightLr(), config.momentum(), config.weightDecay());
        this.adam = new AdamOptimizer(manager, config.gateLr());
        this.noise = new GateNoise(new GateNoise(~config.seed()).nextLong());
    }

    public static L0Trainer create(ModelConfig config) {
        return new L0Trainer(config);
    }

    /** Rebuilds a trainer from {@link TrainingCheckpoint#write} bytes; see there. */
    public static L0Trainer restore(ModelConfig config, byte[] checkpoint)
            throws l0stream.model.artifact.ArtifactFormatException {
        L0Trainer t = new L0Trainer(config);
        try {
            TrainingCheckpoint.restoreInto(t, checkpoint);
            return t;
        } catch (RuntimeException | l0stream.model.artifact.ArtifactFormatException e) {
            t.close();
            throw e;
        }
    }

    public ModelConfig config() {
        return config;
    }

    public GatedNetwork network() {
        return network;
    }

    /** Number of training steps taken so far. */
    public long step() {
        return step;
    }

    /**
     * A number that changes whenever the model's parameters may have changed (training step,
     * {@link #loadParameters}, restore), so that a figure computed from the model can be reused while
     * it is the same. Not persistent: a restored trainer starts a new sequence.
     */
    public long revision() {
        return revision;
    }

    MomentumSgd sgd() {
        return sgd;
    }

    /** The weights' (SGD) learning rate in force: the configured one unless {@link #setWeightLearningRate} changed it. */
    public double weightLearningRate() {
        return sgd.learningRate();
    }

    /**
     * Changes the weights' learning rate from the next step on (a schedule over a replayed dataset,
     * see {@code StreamRun}); momentum is kept as PyTorch keeps it. Gates keep their Adam rate.
     */
    public void setWeightLearningRate(double lr) {
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("weight learning rate must be > 0, got " + lr);
        }
        sgd.setLearningRate(lr);
    }

    AdamOptimizer adam() {
        return adam;
    }

    GateNoise noise() {
        return noise;
    }

    void restoreStep(long step) {
        this.step = step;
        revision++;
    }

    /** One training step on {@code batch}. */
    public StepResult train(Batch batch) {
        return train(batch, config.lambda());
    }

    /**
     * One training step on {@code batch} with the L0 penalty weighted by {@code lambda} instead of the
     * configured λ (a continual learner relaxes it for a while after a drift).
     */
    public StepResult train(Batch batch, double lambda) {
        return train(batch, lambda, null);
    }

    /** What one training step computed before the optimisers ran: for tests that check the math. */
    public interface StepObserver {
        /**
         * @param logits    the training-mode logits, row-major (n × classes)
         * @param gradients d(loss)/d(parameter) for every weight and gate parameter, by name
         */
        void observe(float[] logits, Map<String, float[]> gradients);
    }

    /** {@link #train(Batch, double)}, reporting its logits and gradients to {@code observer} (null: none). */
    public StepResult train(Batch batch, double lambda, StepObserver observer) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray x = input(scope, batch);
            NDArray y = scope.create(toLong(batch.labels()), new Shape(batch.size()));
            float ce;
            float penalty;
            GRADIENT_COLLECTOR.lock();
            try (GradientCollector gc = engine.newGradientCollector()) {
                GatedNetwork.Forward f = network.forward(scope, x, true, noise);
                NDArray logp = f.logits().logSoftmax(1);
                NDArray ceArr = logp.mul(y.oneHot(architecture.numClasses())).sum(new int[] {1}).mean().neg();
                GatedNetwork.Penalty pen = network.penalty(scope, f, lambda);
                gc.backward(ceArr.add(pen.term()));
                ce = ceArr.getFloat();
                penalty = (float) pen.value();
                if (observer != null) {
                    Map<String, float[]> grads = new java.util.LinkedHashMap<>();
                    network.weights().forEach((k, v) -> grads.put(k, v.getGradient().toFloatArray()));
                    network.gateParameters().forEach((k, v) -> grads.put(k, v.getGradient().toFloatArray()));
                    observer.observe(f.logits().toFloatArray(), grads);
                }
            } finally {
                GRADIENT_COLLECTOR.unlock();
            }
            sgd.step(scope, network.weights());
            if (config.gates().gated()) {
                adam.step(scope, network.gateParameters(), network.gateStorage());
                if (config.gateInit() == GateInit.LOUIZOS) {
                    clampLogAlphas();
                }
            }
            step++;
            revision++;
            return new StepResult(step, (double) ce + penalty, ce, penalty);
        }
    }

    /** Louizos et al.'s constraint: log α back into [−log 100, log 100] after every step. */
    private void clampLogAlphas() {
        float bound = (float) GateInit.LOUIZOS_CLAMP;
        for (NDArray a : network.gateParameters().values()) {
            float[] v = a.toFloatArray();
            boolean changed = false;
            for (int i = 0; i < v.length; i++) {
                float c = Math.max(-bound, Math.min(bound, v[i]));
                changed |= c != v[i];
                v[i] = c;
            }
            if (changed) {
                GatedNetwork.assign(a, v);
            }
        }
    }

    /**
     * Scores {@code batch} with the current model at test time (deterministic gates, BN running
     * statistics) without changing anything: the "test" of test-then-train.
     *
     * @return the predicted class of each image
     */
    public int[] evaluate(Batch batch) {
        return argMax(logits(batch), batch.size(), architecture.numClasses());
    }

    /** Test-time logits, row-major (n × classes). */
    public float[] logits(Batch batch) {
        try (NDManager scope = manager.newSubManager()) {
            return network.forward(scope, input(scope, batch), false, null).logits().toFloatArray();
        }
    }

    /** Prunes the current model into a compact network (deterministic gates, channels removed). */
    public CompactNetwork compact() {
        return ChannelPruner.prune(network);
    }

    /** Serialises the whole training state; see {@link TrainingCheckpoint}. */
    public byte[] checkpoint() {
        return TrainingCheckpoint.write(this);
    }

    /**
     * The model's parameters without optimiser state ({@link ModelParameters}): what a
     * data-parallel trainer sends to be averaged.
     */
    public byte[] parameters() {
        return ModelParameters.write(this);
    }

    /**
     * Replaces the model's parameters (weights, BN statistics, gate parameters) with {@code bytes}
     * from {@link #parameters()} or {@link ModelParameters#weightedMean}; optimiser state, step and
     * gate noise stay as they are, as in local SGD with periodic averaging.
     */
    public void loadParameters(byte[] bytes) throws l0stream.model.artifact.ArtifactFormatException {
        revision++; // first: a load that fails half-way has changed the model too
        ModelParameters.loadInto(this, bytes);
    }

    /**
     * Gives this trainer its own gate-noise stream {@code index} (0 is the default one). Data-parallel
     * trainers start from the same seed, hence the same initial weights, which averaging needs; their
     * noise must still differ, or every replica would sample the same gates.
     */
    public void useNoiseStream(int index) {
        if (index != 0) {
            noise.restore(new GateNoise(noise.state() ^ (0x9E3779B97F4A7C15L * index)).nextLong());
        }
    }

    private NDArray input(NDManager scope, Batch batch) {
        int per = architecture.inputSize();
        if (batch.images().length != batch.size() * per) {
            throw new IllegalArgumentException("Invalid batch for " + architecture.name() + ": expected "
                    + per + " values per image (" + architecture.inputChannels() + "x"
                    + architecture.inputHeight() + "x" + architecture.inputWidth() + "), got "
                    + batch.images().length / batch.size());
        }
        return scope.create(batch.images(), new Shape(batch.size(), architecture.inputChannels(),
                architecture.inputHeight(), architecture.inputWidth()));
    }

    static int[] argMax(float[] logits, int n, int classes) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int c = 1; c < classes; c++) {
                if (logits[i * classes + c] > logits[i * classes + best]) {
                    best = c;
                }
            }
            out[i] = best;
        }
        return out;
    }

    private static long[] toLong(int[] v) {
        long[] r = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = v[i];
        }
        return r;
    }

    @Override
    public void close() {
        manager.close();
    }
}
