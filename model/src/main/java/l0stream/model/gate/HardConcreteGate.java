package l0stream.model.gate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The hard-concrete distribution of Louizos et al. (2018) as used by Dep-L0, with
 * β = 2/3, γ = −0.1, ζ = 1.1.
 *
 * <ul>
 *   <li>training sample, per (example, channel): s = σ((log u − log(1−u) + log α)/β),
 *       z = clamp(s·(ζ−γ)+γ, 0, 1), with u ~ U(ε, 1−ε);
 *   <li>test time (deterministic): z = clamp(σ(log α)·(ζ−γ)+γ, 0, 1);
 *   <li>P(z ≠ 0) = 1 − Q(0) = σ(log α − β·log(−γ/ζ)).
 * </ul>
 *
 * <p>Shapes: {@code logAlpha} is (C) for one layer; {@code noiseLogit} (the precomputed
 * log u − log(1−u)) is (N, C); a training sample is (N, C), a test-time gate (C).
 *
 * <p>Every result is owned by {@code scope}: the first operand of each op is an array created in
 * {@code scope}, because DJL attaches a result to its left operand's manager and log α may be a
 * long-lived parameter. Constants are arrays, never Java scalars, because DJL's scalar overloads
 * free their operand while autograd still refers to it (see shared/STACK.md).
 */
public final class HardConcreteGate {

    public static final double BETA = 2.0 / 3.0;
    public static final double GAMMA = -0.1;
    public static final double ZETA = 1.1;
    /** Bounds of the uniform noise, keeping log u and log(1−u) finite. */
    public static final double EPSILON = 1e-6;
    /** −β·log(−γ/ζ): the shift that turns log α into the logit of P(z ≠ 0). */
    public static final double OPEN_LOGIT_SHIFT = -BETA * Math.log(-GAMMA / ZETA);

    private HardConcreteGate() {}

    /**
     * The distribution's scalars as float32 arrays, created once by an owner (a network) and used
     * by every step, instead of small allocations on every step. Used only as right operands, so a
     * result still belongs to its left operand's manager.
     */
    public record Constants(NDArray invBeta, NDArray stretch, NDArray gamma, NDArray openShift, NDArray one) {
        public static Constants in(NDManager owner) {
            return new Constants(constant(owner, 1.0 / BETA), constant(owner, ZETA - GAMMA), constant(owner, GAMMA),
                    constant(owner, OPEN_LOGIT_SHIFT), constant(owner, 1));
        }
    }


    /** Stochastic training gate from precomputed logistic noise, owned by {@code scope}. */
    public static NDArray sample(NDManager scope, NDArray logAlpha, NDArray noiseLogit) {
        return sample(Constants.in(scope), logAlpha, noiseLogit);
    }

    /**
     * Stochastic training gate; {@code noiseLogit} must be owned by the caller's scope, as the result will be.
     *
     * <p>The clamp to [0, 1] is written as relu(y) − relu(y − 1): the same values (y − 1 is exact for
     * y in [1, 2), so y − (y − 1) is exactly 1), the same gradient except at y = 0 exactly, where
     * relu passes 0 and clamp 1 (either is a subgradient). PyTorch's clamp backward takes four
     * kernels over the (N, C) sample (two comparisons, an and, a where); relu's is one fused kernel
     * each, and the step with gates over 64 × 570 values was 0.6–0.7 % faster (two runs of 800 and
     * 1,000 steps, interleaved in one process).
     */
    public static NDArray sample(Constants k, NDArray logAlpha, NDArray noiseLogit) {
        NDArray s = Activation.sigmoid(noiseLogit.add(logAlpha).mul(k.invBeta()));
        NDArray y = s.mul(k.stretch()).add(k.gamma());
        return Activation.relu(y).sub(Activation.relu(y.sub(k.one())));
    }

    /** Deterministic test-time gate, owned by {@code scope}. */
    public static NDArray deterministic(NDManager scope, NDArray logAlpha) {
        return deterministic(Constants.in(scope), scope.zeros(new Shape()).add(logAlpha));
    }

    /** Deterministic test-time gate; {@code logAlpha} must be owned by the caller's scope, as the result will be. */
    public static NDArray deterministic(Constants k, NDArray logAlpha) {
        NDArray s = Activation.sigmoid(logAlpha);
        return s.mul(k.stretch()).add(k.gamma()).clip(0, 1);
    }

    /** P(z ≠ 0) per channel, owned by {@code scope}; differentiable in log α. */
    public static NDArray probabilityNonZero(NDManager scope, NDArray logAlpha) {
        return probabilityNonZero(Constants.in(scope), scope.zeros(new Shape()).add(logAlpha));
    }

    /** P(z ≠ 0); {@code logAlpha} must be owned by the caller's scope, as the result will be. */
    public static NDArray probabilityNonZero(Constants k, NDArray logAlpha) {
        return Activation.sigmoid(logAlpha.add(k.openShift()));
    }

    /**
     * Logistic noise log u − log(1−u), u ~ U(ε, 1−ε), shape (n, width), owned by {@code scope}.
     * Drawn by PyTorch (one vectorised op instead of a Java loop) from its global generator,
     * re-seeded with {@code seed} first so that the draw is a pure function of the seed: the
     * caller's {@link GateNoise} state, a single long, is all a checkpoint needs. Callers must
     * not interleave other draws from PyTorch's generator; {@code L0Trainer} calls this under
     * its JVM-wide lock. (Drawing the uniforms in Java instead was measured slower: the loop
     * over 36,480 floats runs interpreted for the first ~1,000 steps, and is no faster after.)
     */
    public static NDArray logisticNoise(NDManager scope, long n, long width, long seed) {
        JniUtils.setSeed(seed);
        NDArray u = scope.randomUniform((float) EPSILON, (float) (1 - EPSILON), new Shape(n, width));
        return u.log().sub(constant(scope, 1).sub(u).log());
    }

    /** A float32 scalar array in {@code scope}; safe to keep in an autograd graph. */
    public static NDArray constant(NDManager scope, double value) {
        return scope.full(new Shape(), (float) value);
    }

    // Scalar reference versions, used for tests and for reporting from plain floats.

    public static double sample(double logAlpha, double u) {
        double s = sigmoid((Math.log(u) - Math.log(1 - u) + logAlpha) / BETA);
        return clamp01(s * (ZETA - GAMMA) + GAMMA);
    }

    public static double deterministic(double logAlpha) {
        return clamp01(sigmoid(logAlpha) * (ZETA - GAMMA) + GAMMA);
    }

    public static double probabilityNonZero(double logAlpha) {
        return sigmoid(logAlpha + OPEN_LOGIT_SHIFT);
    }

    static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    static double clamp01(double x) {
        return Math.max(0.0, Math.min(1.0, x));
    }
}
