package l0stream.model;

import ai.djl.Device;
import ai.djl.engine.Engine;

import java.util.Locale;

/**
 * Where the model trains: {@code auto} takes the first GPU when the engine sees one and the CPU
 * otherwise; {@code gpu} fails fast when there is none rather than silently training on the CPU.
 */
public enum DeviceChoice {
    AUTO,
    CPU,
    GPU;

    /** Parses {@code auto|cpu|gpu} (case-insensitive); the error names the accepted values. */
    public static DeviceChoice parse(String value, String field) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException(
                    "Invalid value " + value + " for " + field + ": expected one of auto, cpu, gpu", e);
        }
    }

    /** Resolves to a DJL device on the given engine (the first GPU when it picks one). */
    public Device resolve(Engine engine) {
        return resolve(engine, -1);
    }

    /**
     * Resolves to a DJL device on the given engine.
     *
     * @param gpuIndex the GPU to take when this picks one; -1 for the first. An index the engine does
     *                 not see fails fast rather than training elsewhere.
     */
    public Device resolve(Engine engine, int gpuIndex) {
        int gpus = engine.getGpuCount();
        if (this != CPU && gpus > 0 && gpuIndex >= gpus) {
            throw new IllegalStateException("GPU " + gpuIndex + " was assigned but the PyTorch engine sees " + gpus
                    + " GPU(s) (CUDA_VISIBLE_DEVICES?)");
        }
        switch (this) {
            case CPU:
                return Device.cpu();
            case GPU:
                if (gpus == 0) {
                    throw new IllegalStateException(
                            "device=gpu was requested but the PyTorch engine sees no GPU"
                                    + " (the CPU native library is on the classpath?)");
                }
                return gpuIndex < 0 ? Device.gpu() : Device.gpu(gpuIndex);
            default:
                return gpus == 0 ? Device.cpu() : gpuIndex < 0 ? Device.gpu() : Device.gpu(gpuIndex);
        }
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
