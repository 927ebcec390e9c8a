package l0stream.connectors.cli;

import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Where an l0stream checkout keeps its local state: {@code $L0STREAM_HOME} (the launcher sets the
 * {@code l0stream.home} property), else the working directory; mutable state lives under
 * {@code var/}.
 */
public final class Workspace {

    private Workspace() {}

    public static Path home() {
        String h = System.getProperty("l0stream.home", System.getenv("L0STREAM_HOME"));
        return Paths.get(h == null ? "." : h).toAbsolutePath().normalize();
    }

    public static Path var() {
        return home().resolve("var");
    }

    /** The snapshot signing key that demo and train use when none is configured. */
    public static Path defaultSigningKey() {
        return var().resolve("keys").resolve("snapshot.key");
    }
}
