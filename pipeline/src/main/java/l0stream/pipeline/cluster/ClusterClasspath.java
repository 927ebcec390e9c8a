package l0stream.pipeline.cluster;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The cluster's classpath (what flink-dist's {@code lib/} holds on a real cluster): this JVM's
 * classpath without l0stream's own classes, which a job brings in its jar, and without test-only
 * jars. DJL stays in: it must be loaded parent-first, once per JVM.
 */
public final class ClusterClasspath {

    private ClusterClasspath() {}

    public static List<String> lib(String javaClassPath) {
        List<String> out = new ArrayList<>();
        for (String e : javaClassPath.split(File.pathSeparator)) {
            if (e.isBlank() || isOurs(e) || isTestOnly(e) || !Files.exists(Path.of(e))) {
                continue;
            }
            if (!out.contains(e)) {
                out.add(e);
            }
        }
        return out;
    }

    /** l0stream's modules: their jars, or their target/classes directories in a build tree. */
    static boolean isOurs(String entry) {
        String name = Path.of(entry).getFileName() == null ? "" : Path.of(entry).getFileName().toString();
        String norm = entry.replace('\\', '/');
        return name.startsWith("l0stream-") || norm.endsWith("/target/classes") || norm.endsWith("/target/classes/")
                || norm.endsWith("/target/test-classes") || norm.endsWith("/target/test-classes/");
    }

    static boolean isTestOnly(String entry) {
        String norm = entry.replace('\\', '/');
        return norm.contains("/org/junit/") || norm.contains("/org/opentest4j/") || norm.contains("/org/apiguardian/")
                || norm.contains("/org/apache/maven/surefire/") || norm.contains("/surefire");
    }
}
