package l0stream.k8s;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the tests find the repository's files: the root is the {@code l0stream.home} system
 * property that the parent POM's Surefire configuration sets, or the parent of this module.
 */
final class Repository {

    private Repository() {}

    static Path root() {
        String home = System.getProperty("l0stream.home");
        Path root = home != null && !home.isBlank() ? Path.of(home) : Path.of("").toAbsolutePath().getParent();
        if (!Files.isDirectory(root.resolve("k8s")) || !Files.isDirectory(root.resolve("dashboards"))) {
            throw new IllegalStateException("Invalid value " + root + " for the repository root: no k8s/ and dashboards/ there"
                    + " (run the tests from the repository with Maven, or set -Dl0stream.home)");
        }
        return root.toAbsolutePath().normalize();
    }

    static Path k8s() {
        return root().resolve("k8s");
    }

    static Path overlay(String name) {
        return k8s().resolve("overlays").resolve(name);
    }

    static Path grafanaDashboards() {
        return root().resolve("dashboards/grafana");
    }
}
