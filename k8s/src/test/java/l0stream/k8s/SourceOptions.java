package l0stream.k8s;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The command-line options the manifests may pass, read from the modules' sources (this module
 * does not build against them): the job's keys are the {@code PipelineOption} constants of the
 * pipeline module; a command-line tool's (serve, produce) are the names it hands to {@code Args.parse}.
 */
final class SourceOptions {

    private static final Pattern JOB_KEY = Pattern.compile("PipelineOption\\.\\w+\\(\\s*\"([a-z0-9-]+)\"");
    private static final Pattern CLI_OPTION = Pattern.compile("\"(--[a-z0-9-]+)\"");

    private SourceOptions() {}

    /** Every job key ({@code bootstrap}, {@code input-topic}, ...) declared in pipeline/src/main/java. */
    static Set<String> jobKeys() {
        Set<String> keys = new TreeSet<>();
        try (Stream<Path> files = Files.walk(Repository.root().resolve("pipeline/src/main/java"))) {
            files.filter(f -> f.toString().endsWith(".java")).forEach(f -> find(JOB_KEY, read(f), keys));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return keys;
    }

    /** Every {@code --option} that the tool {@code className} of {@code module} hands to {@code Args.parse}. */
    static Set<String> cliOptions(String className, String module) {
        String src = read(sourceOf(className, module));
        int parse = src.indexOf("Args.parse(");
        if (parse < 0) {
            throw new IllegalStateException(className + " no longer calls Args.parse: update SourceOptions");
        }
        Set<String> options = new TreeSet<>();
        find(CLI_OPTION, src.substring(parse, src.indexOf(';', parse)), options);
        return options;
    }

    /** The source file of {@code className} in {@code module}'s main sources. */
    static Path sourceOf(String className, String module) {
        return Repository.root().resolve(module).resolve("src/main/java").resolve(className.replace('.', '/') + ".java");
    }

    private static void find(Pattern p, String text, Set<String> into) {
        Matcher m = p.matcher(text);
        while (m.find()) {
            into.add(m.group(1));
        }
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + f + ": " + e.getMessage(), e);
        }
    }
}
