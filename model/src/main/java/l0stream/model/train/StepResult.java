package l0stream.model.train;

/**
 * What one training step did: its 1-based step number, the loss and its two parts. The penalty is
 * the expected-L0 term already multiplied by λ.
 */
public record StepResult(long step, double loss, double crossEntropy, double penalty) {}
