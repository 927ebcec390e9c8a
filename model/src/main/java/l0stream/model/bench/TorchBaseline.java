package l0stream.model.bench;

import ai.djl.pytorch.jni.JniUtils;

import com.fasterxml.jackson.databind.node.ObjectNode;

import l0stream.model.ModelConfig;
import l0stream.model.artifact.TensorArchive;
import l0stream.model.gate.GateGenerator;
import l0stream.model.gate.HardConcreteGate;
import l0stream.model.train.Batch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The PyTorch side of {@code bench model --vs-torch}: a Python process ({@code torch_baseline.py},
 * shipped in this jar) that trains the same dense and Dep-L0 LeNet steps as {@code L0Trainer}, written
 * as a PyTorch user would, on the benchmark's own batches and at DJL's intra-op thread count. It is
 * driven one step at a time so that its steps interleave with the DJL arms; each step is timed inside
 * Python, around the step only.
 */
final class TorchBaseline implements AutoCloseable {

    /** The interpreter: {@code L0STREAM_TORCH_PYTHON}, else Debian's python3 (where {@code python3-torch} installs). */
    static final String PYTHON = System.getenv().getOrDefault("L0STREAM_TORCH_PYTHON", "/usr/bin/python3");

    private final Process process;
    private final Path dir;
    private final Writer in;
    private final BufferedReader out;
    private final String version;
    private final int threads;

    private TorchBaseline(Process process, Path dir, BufferedReader out, String ready) {
        this.process = process;
        this.dir = dir;
        this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        this.out = out;
        String[] r = ready.split(" ");
        this.version = r[1];
        this.threads = Integer.parseInt(r[2]);
    }

    /** Starts the baseline on {@code pool} (the batches the DJL arms train on, all of {@code batch} images). */
    static TorchBaseline start(Batch[] pool, int batch) throws IOException {
        Path dir = Files.createTempDirectory("l0stream-torch-baseline");
        try (InputStream script = TorchBaseline.class.getResourceAsStream("torch_baseline.py")) {
            Files.copy(script, dir.resolve("torch_baseline.py"));
        }
        ByteBuffer x = ByteBuffer.allocate(pool.length * batch * 784 * 4).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer y = ByteBuffer.allocate(pool.length * batch * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (Batch b : pool) {
            x.asFloatBuffer().put(b.images());
            x.position(x.position() + b.images().length * 4);
            for (int label : b.labels()) {
                y.putInt(label);
            }
        }
        Files.write(dir.resolve("x.bin"), x.array());
        Files.write(dir.resolve("y.bin"), y.array());
        ObjectNode cfg = TensorArchive.json().createObjectNode();
        cfg.put("threads", JniUtils.getNumThreads()).put("batch", batch).put("batches", pool.length).put("dir", dir.toString())
                .put("weight_lr", ModelConfig.DEFAULT_WEIGHT_LR).put("momentum", ModelConfig.DEFAULT_MOMENTUM)
                .put("weight_decay", ModelConfig.DEFAULT_WEIGHT_DECAY).put("gate_lr", ModelConfig.DEFAULT_GATE_LR)
                .put("lambda", ModelConfig.DEFAULT_LAMBDA).put("beta", HardConcreteGate.BETA).put("gamma", HardConcreteGate.GAMMA)
                .put("zeta", HardConcreteGate.ZETA).put("log_alpha_scale", GateGenerator.LOG_ALPHA_SCALE)
                .put("generator_input_dim", GateGenerator.DEFAULT_INPUT_DIM).put("seed", 7);
        Process p;
        try {
            p = new ProcessBuilder(PYTHON, dir.resolve("torch_baseline.py").toString(), TensorArchive.json().writeValueAsString(cfg))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            delete(dir);
            throw new IOException("--vs-torch needs " + PYTHON + " with PyTorch (Debian: apt-get install python3-torch; or set "
                    + "L0STREAM_TORCH_PYTHON): " + e.getMessage(), e);
        }
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String ready = out.readLine();
        if (ready == null || !ready.startsWith("ready ")) {
            p.destroyForcibly();
            delete(dir);
            throw new IOException("--vs-torch: the PyTorch baseline did not start (" + PYTHON + " needs PyTorch and numpy; Debian: "
                    + "apt-get install python3-torch; or set L0STREAM_TORCH_PYTHON); see its error above");
        }
        return new TorchBaseline(p, dir, out, ready);
    }

    /** Trains one step of {@code arm} ("dense" or "dep") on pool batch {@code k}; the step's seconds as Python timed it. */
    double step(String arm, int k) throws IOException {
        in.write(arm + " " + k + "\n");
        in.flush();
        String line = out.readLine();
        if (line == null) {
            throw new IOException("the PyTorch baseline stopped (exit " + (process.isAlive() ? "?" : process.exitValue()) + ")");
        }
        return Double.parseDouble(line.trim());
    }

    String version() {
        return version;
    }

    int threads() {
        return threads;
    }

    @Override
    public void close() throws IOException {
        try {
            in.write("quit\n");
            in.flush();
        } catch (IOException ignored) {
            // already gone: destroyed below
        }
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        delete(dir);
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
