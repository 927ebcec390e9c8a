package l0stream.pipeline.experiment;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The study's {@code runs.csv}, appended one line per finished run, so that a study split into parts
 * (or killed) resumes where it stopped: a run whose {@link StudyRow#key} is already here is not run again.
 */
final class StudyLedger {

    private final Path file;
    private final List<StudyRow> rows = new ArrayList<>();
    private final Set<String> keys = new HashSet<>();

    private StudyLedger(Path file) {
        this.file = file;
    }

    static StudyLedger open(Path file) throws IOException {
        StudyLedger l = new StudyLedger(file);
        if (Files.exists(file)) {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            if (lines.isEmpty() || !lines.get(0).equals(StudyRow.HEADER)) {
                throw new IOException(file + " is not a study ledger (header " + StudyRow.HEADER + " expected); use another --out");
            }
            for (String line : lines.subList(1, lines.size())) {
                if (!line.isBlank()) {
                    l.remember(StudyRow.parse(line));
                }
            }
        } else {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, StudyRow.HEADER + "\n", StandardCharsets.UTF_8);
        }
        return l;
    }

    boolean has(String key) {
        return keys.contains(key);
    }

    /** Appends a finished run (one write of one line: a kill loses at most the run in progress). */
    void add(StudyRow row) throws IOException {
        Files.writeString(file, row.csv() + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        remember(row);
    }

    List<StudyRow> rows() {
        return Collections.unmodifiableList(rows);
    }

    private void remember(StudyRow row) {
        if (keys.add(row.key())) {
            rows.add(row);
        }
    }
}
