package l0stream.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import l0stream.model.gate.GateKind;

import org.junit.jupiter.api.Test;

class ModelConfigTest {

    private static String error(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void testInvalidValuesNameTheField() {
        ModelConfig.Builder ok = ModelConfig.builder().setNetwork("lenet5").setGates(GateKind.HC);
        assertEquals("Invalid value -1.0 for lambda: must be a finite number >= 0",
                error(() -> ok.optLambda(-1).build()));
        assertEquals("Invalid value 1.0 for momentum: must be in [0, 1)",
                error(() -> ModelConfig.builder().setNetwork("lenet5").setGates(GateKind.HC).optMomentum(1).build()));
        assertEquals("Invalid value 0.0 for weightLr: must be > 0",
                error(() -> ModelConfig.builder().setNetwork("lenet5").setGates(GateKind.HC).optWeightLr(0).build()));
        assertEquals("Invalid value resnet for network: expected one of lenet5, vgg16, vgg-narrow",
                error(() -> ModelConfig.builder().setNetwork("resnet").setGates(GateKind.HC).build()));
        assertEquals("Invalid value null for gates: it is required",
                error(() -> ModelConfig.builder().setNetwork("lenet5").build()));
        assertEquals("Invalid value dep for gates: expected one of dep-forward, dep-backward, hc, none",
                error(() -> GateKind.parse("dep", "gates")));
        assertEquals("Invalid value tpu for device: expected one of auto, cpu, gpu",
                error(() -> DeviceChoice.parse("tpu", "device")));
    }

    @Test
    void testDefaultsAreThePaperRecipe() {
        ModelConfig c = ModelConfig.builder().setNetwork("vgg16").setGates(GateKind.DEP_FORWARD).build();
        assertEquals(0.9, c.momentum());
        assertEquals(5e-4, c.weightDecay());
        assertEquals(1e-3, c.gateLr());
        assertEquals(DeviceChoice.AUTO, c.device());
        assertEquals(13, c.architecture().gatedWidths().length);
        assertEquals(c, c.toBuilder().build());
    }
}
