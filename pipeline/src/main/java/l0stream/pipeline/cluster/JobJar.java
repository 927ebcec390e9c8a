package l0stream.pipeline.cluster;

import l0stream.connectors.kafka.Topics;
import l0stream.model.ModelConfig;
import l0stream.pipeline.L0StreamJob;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * The job jar a cluster runs: l0stream's pipeline, connectors and model classes only, merged from
 * wherever this JVM loaded them (a build tree's {@code target/classes} or the module jars). Flink,
 * the Kafka connector and DJL are not in it: they are on the cluster's classpath, and DJL must be
 * loaded from there (parent-first), never from a job's classloader.
 */
public final class JobJar {

    private JobJar() {}

    /** The classes directories or jars of the pipeline, connectors and model modules. */
    static List<Path> sources() {
        List<Path> out = new ArrayList<>();
        for (Class<?> c : List.of(L0StreamJob.class, Topics.class, ModelConfig.class)) {
            try {
                Path p = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
                if (!out.contains(p)) {
                    out.add(p);
                }
            } catch (URISyntaxException | NullPointerException e) {
                throw new IllegalStateException("Cannot find where " + c.getName() + " was loaded from", e);
            }
        }
        return out;
    }

    /** Writes the job jar to {@code out} and returns it. */
    public static Path build(Path out) throws IOException {
        Files.createDirectories(out.toAbsolutePath().getParent());
        Path tmp = Files.createTempFile(out.toAbsolutePath().getParent(), out.getFileName().toString(), ".tmp");
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().putValue("Created-By", "l0stream (JobJar)");
        Set<String> seen = new HashSet<>(Set.of("META-INF/", "META-INF/MANIFEST.MF"));
        try {
            try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(tmp), mf)) {
                for (Path src : sources()) {
                    if (Files.isDirectory(src)) {
                        try (Stream<Path> walk = Files.walk(src)) {
                            for (Path f : walk.sorted().toList()) {
                                String name = src.relativize(f).toString().replace('\\', '/');
                                if (name.isEmpty()) {
                                    continue;
                                }
                                if (Files.isDirectory(f)) {
                                    name += "/";
                                }
                                if (seen.add(name)) {
                                    jar.putNextEntry(new JarEntry(name));
                                    if (!Files.isDirectory(f)) {
                                        Files.copy(f, jar);
                                    }
                                    jar.closeEntry();
                                }
                            }
                        }
                    } else {
                        try (JarFile in = new JarFile(src.toFile())) {
                            Enumeration<JarEntry> en = in.entries();
                            while (en.hasMoreElements()) {
                                JarEntry e = en.nextElement();
                                if (seen.add(e.getName())) {
                                    jar.putNextEntry(new JarEntry(e.getName()));
                                    try (InputStream is = in.getInputStream(e)) {
                                        is.transferTo(jar);
                                    }
                                    jar.closeEntry();
                                }
                            }
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return out;
    }
}
