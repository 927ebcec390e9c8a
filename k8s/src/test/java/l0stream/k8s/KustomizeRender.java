package l0stream.k8s;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders a kustomization exactly as {@code kubectl apply -k} would, with kubectl's built-in
 * kustomize ({@code kubectl kustomize DIR}, no cluster involved). A standalone kustomize v5 can
 * be used instead: {@code -Dl0stream.kustomize=/path/to/kustomize} ({@code kustomize build DIR}).
 * Renders each folder once per JVM (the tests only read the files).
 */
final class KustomizeRender {

    private static final Pattern KUSTOMIZE_VERSION = Pattern.compile("Kustomize Version: v(\\d+)\\.");
    private static final String INSTALL_HINT = "install kubectl >= 1.27 (its built-in kustomize is v5; Debian's"
            + " kubernetes-client 1.20 is too old), or build kustomize v5 (go install"
            + " sigs.k8s.io/kustomize/kustomize/v5@v5.5.0) and pass -Dl0stream.kustomize=<path>";

    private static final Map<Path, String> RENDERED = new ConcurrentHashMap<>();

    private KustomizeRender() {}

    /** The rendered YAML of {@code dir}; fails naming the tool's error output. */
    static String render(Path dir) {
        return RENDERED.computeIfAbsent(dir.toAbsolutePath().normalize(), KustomizeRender::renderNow);
    }

    private static String renderNow(Path dir) {
        String kustomize = System.getProperty("l0stream.kustomize", "");
        List<String> command = kustomize.isBlank()
                ? List.of(kubectl(), "kustomize", dir.toString())
                : List.of(kustomize, "build", dir.toString());
        Result r = run(command);
        if (r.exit != 0) {
            throw new AssertionError("Cannot render " + dir + " with " + String.join(" ", command) + " (exit " + r.exit + "):\n" + r.stderr);
        }
        return r.stdout;
    }

    /** The objects that {@code kubectl apply -k dir} would send, freshly parsed (callers may change them). */
    static List<Manifest> manifests(Path dir) {
        return Manifest.parseAll(render(dir), dir.toString());
    }

    private static String kubectl() {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String d : path.split(File.pathSeparator)) {
            Path k = Path.of(d.isEmpty() ? "." : d, "kubectl");
            if (Files.isExecutable(k)) {
                Result v = run(List.of(k.toString(), "version", "--client"));
                Matcher m = KUSTOMIZE_VERSION.matcher(v.stdout);
                if (!m.find() || Integer.parseInt(m.group(1)) < 5) {
                    throw new AssertionError("Invalid kubectl " + k + " for rendering: its kustomize is not v5 or newer ("
                            + v.stdout.strip() + "); " + INSTALL_HINT);
                }
                return k.toString();
            }
        }
        throw new AssertionError("kubectl not found on PATH, needed to render the kustomizations: " + INSTALL_HINT);
    }

    private record Result(int exit, String stdout, String stderr) {}

    private static Result run(List<String> command) {
        try {
            Path err = Files.createTempFile("kustomize", ".err");
            try {
                Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
                p.getOutputStream().close();
                byte[] out = p.getInputStream().readAllBytes();
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError(String.join(" ", command) + " did not finish within 60 s");
                }
                return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), Files.readString(err));
            } finally {
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AssertionError("Cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("Interrupted while running " + String.join(" ", command), e);
        }
    }
}
