package l0stream.model;

import l0stream.model.gate.GateInit;
import l0stream.model.gate.GateKind;
import l0stream.model.nn.Architecture;

import java.util.Objects;

/**
 * Everything that defines a Dep-L0 training run of one model. Validated when built; every error
 * names the field. Immutable.
 *
 * <pre>{@code
 * ModelConfig cfg = ModelConfig.builder().setNetwork("lenet5").setGates(GateKind.DEP_FORWARD)
 *         .optLambda(1e-4).optSeed(7).build();
 * }</pre>
 *
 * @param network        {@code lenet5 | vgg16 | vgg-narrow}
 * @param gates          how gates are parameterised
 * @param lambda         weight λ of the expected-L0 penalty (per expected parameter), ≥ 0
 * @param weightLr       SGD learning rate of the weights, > 0
 * @param momentum       SGD momentum, in [0, 1)
 * @param weightDecay    SGD weight decay (L2), ≥ 0
 * @param gateLr         Adam learning rate of the gate parameters, > 0
 * @param seed           seeds the initialisation and the gate noise
 * @param device         where to train
 * @param gpuIndex       which GPU, when {@code device} picks one: -1 for the engine's default (the
 *                       first); a Flink task manager's GPU from its external resource framework
 * @param gateInit       how the gate parameters start ({@link GateInit}; reference by default)
 */
public record ModelConfig(String network, GateKind gates, double lambda, double weightLr,
                          double momentum, double weightDecay, double gateLr, long seed,
                          DeviceChoice device, int gpuIndex, GateInit gateInit) {

    public static final double DEFAULT_LAMBDA = 1e-5;
    public static final double DEFAULT_WEIGHT_LR = 0.01;
    public static final double DEFAULT_MOMENTUM = 0.9;
    public static final double DEFAULT_WEIGHT_DECAY = 5e-4;
    public static final double DEFAULT_GATE_LR = 1e-3;

    public ModelConfig {
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(gates, "gates");
        Objects.requireNonNull(device, "device");
        Architecture.named(network, "network");
        check(lambda >= 0 && Double.isFinite(lambda), lambda, "lambda", "must be a finite number >= 0");
        check(weightLr > 0 && Double.isFinite(weightLr), weightLr, "weightLr", "must be > 0");
        check(momentum >= 0 && momentum < 1, momentum, "momentum", "must be in [0, 1)");
        check(weightDecay >= 0 && Double.isFinite(weightDecay), weightDecay, "weightDecay", "must be >= 0");
        check(gateLr > 0 && Double.isFinite(gateLr), gateLr, "gateLr", "must be > 0");
        check(gpuIndex >= -1, gpuIndex, "gpuIndex", "must be >= 0, or -1 for the default GPU");
        Objects.requireNonNull(gateInit, "gateInit");
        if (gates.gated()) {
            gateInit.checkFits(gates, "gateInit");
        }
    }

    public Architecture architecture() {
        return Architecture.named(network, "network");
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().setNetwork(network).setGates(gates).optLambda(lambda).optWeightLr(weightLr)
                .optMomentum(momentum).optWeightDecay(weightDecay).optGateLr(gateLr).optSeed(seed)
                .optDevice(device).optGpuIndex(gpuIndex).optGateInit(gateInit);
    }

    private static void check(boolean ok, Object value, String field, String rule) {
        if (!ok) {
            throw new IllegalArgumentException("Invalid value " + value + " for " + field + ": " + rule);
        }
    }

    /** Builder: {@code set*} are required, {@code opt*} have documented defaults. */
    public static final class Builder {
        private String network;
        private GateKind gates;
        private double lambda = DEFAULT_LAMBDA;
        private double weightLr = DEFAULT_WEIGHT_LR;
        private double momentum = DEFAULT_MOMENTUM;
        private double weightDecay = DEFAULT_WEIGHT_DECAY;
        private double gateLr = DEFAULT_GATE_LR;
        private long seed = 42;
        private DeviceChoice device = DeviceChoice.AUTO;
        private int gpuIndex = -1;
        private GateInit gateInit = GateInit.REFERENCE;

        private Builder() {}

        public Builder setNetwork(String network) {
            this.network = Objects.requireNonNull(network, "network");
            return this;
        }

        public Builder setGates(GateKind gates) {
            this.gates = Objects.requireNonNull(gates, "gates");
            return this;
        }

        public Builder optLambda(double lambda) {
            this.lambda = lambda;
            return this;
        }

        public Builder optWeightLr(double weightLr) {
            this.weightLr = weightLr;
            return this;
        }

        public Builder optMomentum(double momentum) {
            this.momentum = momentum;
            return this;
        }

        public Builder optWeightDecay(double weightDecay) {
            this.weightDecay = weightDecay;
            return this;
        }

        public Builder optGateLr(double gateLr) {
            this.gateLr = gateLr;
            return this;
        }

        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder optDevice(DeviceChoice device) {
            this.device = Objects.requireNonNull(device, "device");
            return this;
        }

        /** The GPU to use when the device is a GPU; -1 (default): the engine's first. */
        public Builder optGpuIndex(int gpuIndex) {
            this.gpuIndex = gpuIndex;
            return this;
        }

        /** How the gate parameters start (default {@link GateInit#REFERENCE}). */
        public Builder optGateInit(GateInit gateInit) {
            this.gateInit = Objects.requireNonNull(gateInit, "gateInit");
            return this;
        }

        public ModelConfig build() {
            if (network == null) {
                throw new IllegalArgumentException("Invalid value null for network: it is required");
            }
            if (gates == null) {
                throw new IllegalArgumentException("Invalid value null for gates: it is required");
            }
            return new ModelConfig(network, gates, lambda, weightLr, momentum, weightDecay, gateLr,
                    seed, device, gpuIndex, gateInit);
        }
    }
}
