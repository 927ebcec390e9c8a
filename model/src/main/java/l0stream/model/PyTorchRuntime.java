package l0stream.model;

import ai.djl.engine.Engine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Loads DJL's PyTorch engine strictly offline, from the {@code pytorch-native-cpu} jar on the
 * classpath, extracting it into a cache directory the project owns.
 *
 * <p>DJL reads its settings from system properties the first time the engine is touched, so
 * {@link #engine()} must run before any other DJL call; it is idempotent and thread-safe. The cache
 * directory is, in order: the {@code DJL_CACHE_DIR} system property, the {@code DJL_CACHE_DIR}
 * environment variable, {@code $L0STREAM_HOME/var/djl-cache}, {@code ./var/djl-cache}.
 */
public final class PyTorchRuntime {

    private static final Logger LOG = LoggerFactory.getLogger(PyTorchRuntime.class);
    private static volatile Engine engine;

    private PyTorchRuntime() {}

    /**
     * Returns the PyTorch engine, configuring offline mode and the cache on the first call, and
     * checking that its convolution is right on this processor ({@link KernelSelfCheck}).
     */
    public static Engine engine() {
        Engine e = engine;
        if (e == null) {
            synchronized (PyTorchRuntime.class) {
                if (engine == null) {
                    Engine loaded = loadUnchecked();
                    KernelSelfCheck.verify(loaded);
                    engine = loaded;
                }
                e = engine;
            }
        }
        return e;
    }

    private static volatile Engine unchecked;

    /** The engine without the kernel check: for the check itself. */
    static Engine loadUnchecked() {
        Engine e = unchecked;
        if (e == null) {
            synchronized (PyTorchRuntime.class) {
                e = unchecked;
                if (e == null) {
                    configure();
                    e = Engine.getEngine("PyTorch");
                    LOG.info("PyTorch engine {} loaded (cache {}, GPUs {})",
                            e.getVersion(), System.getProperty("DJL_CACHE_DIR"), e.getGpuCount());
                    unchecked = e;
                }
            }
        }
        return e;
    }

    private static void configure() {
        // Before libtorch allocates anything: tensor buffers are reused instead of re-faulted every step.
        NativeHeapTuning.apply();
        // Offline: DJL must never try to download a native library at run time.
        System.setProperty("ai.djl.offline", "true");
        setIfAbsent("OPT_OUT_TRACKING", "true");
        String pv = System.getenv("PYTORCH_VERSION");
        if (pv != null && !pv.equals("2.7.1")) {
            // Any other version makes DJL look for a download, which fails offline.
            throw new IllegalStateException("Invalid value " + pv + " for environment variable"
                    + " PYTORCH_VERSION: only 2.7.1 is shipped; unset it");
        }
        Path cache = cacheDir();
        try {
            Files.createDirectories(cache);
        } catch (java.io.IOException ex) {
            throw new IllegalStateException("Cannot create the DJL cache directory " + cache, ex);
        }
        System.setProperty("DJL_CACHE_DIR", cache.toString());
        setIfAbsent("ENGINE_CACHE_DIR", cache.toString());
        setIfAbsent("ai.djl.pytorch.num_interop_threads", "1");
    }

    static Path cacheDir() {
        String p = System.getProperty("DJL_CACHE_DIR");
        if (p == null || p.isBlank()) {
            p = System.getenv("DJL_CACHE_DIR");
        }
        if (p == null || p.isBlank()) {
            String home = System.getenv("L0STREAM_HOME");
            p = Paths.get(home == null ? "." : home, "var", "djl-cache").toString();
        }
        return Paths.get(p).toAbsolutePath().normalize();
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
