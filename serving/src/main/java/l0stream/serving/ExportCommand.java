package l0stream.serving;

import l0stream.connectors.cli.Args;
import l0stream.connectors.cli.TrustedKeysOption;
import l0stream.connectors.kafka.KafkaClientConfig;
import l0stream.connectors.snapshot.SnapshotReader;
import l0stream.connectors.snapshot.SnapshotRecord;
import l0stream.connectors.snapshot.VerifiedSnapshot;
import l0stream.connectors.trust.SnapshotTrust;
import l0stream.model.artifact.ArtifactFormatException;
import l0stream.model.artifact.SnapshotArtifact;
import l0stream.model.onnx.OnnxExport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code l0stream export --snapshots TOPIC [--version N|latest] [--format onnx|native] [--fold-batchnorm]
 * --out FILE [--trusted-keys a.pub,b.pub] [--allow-unsigned] [--bootstrap ...]}: writes one snapshot as an
 * ONNX model or as its native artifact. The topic is read to its end with read_committed and every
 * snapshot goes through the same checks serving applies (signature and trusted key, chunk
 * reassembly, artifact SHA-256, then the artifact's own structure); a snapshot refused there is
 * refused here with the same reason. The ONNX file is the artifact's own ONNX section, with the
 * manifest's SHA-256, the artifact's SHA-256, the signing key and the topic added to its metadata.
 */
public final class ExportCommand {

    /** What an export wrote. */
    public record Exported(long version, String format, Path out, long bytes, String manifestSha256) {}

    private ExportCommand() {}

    /** Parses the command line; unknown options fail naming themselves. */
    public static Args parse(String[] argv) {
        List<String> options = new ArrayList<>(List.of("--snapshots", "--version", "--format", "--out", "--trusted-keys",
                "--timeout-seconds"));
        options.addAll(KafkaClientConfig.OPTIONS);
        return Args.parse(argv, options, List.of("--allow-unsigned", "--fold-batchnorm"));
    }

    public static void main(String[] argv) throws Exception {
        Args a = parse(argv);
        try {
            Exported e = run(a, m -> System.err.println("export: " + m));
            System.out.printf("exported %s v%d as %s: %s (%d bytes, manifest sha256 %s)%n",
                    a.string("--snapshots", ""), e.version(), e.format(), e.out(), e.bytes(), e.manifestSha256());
        } catch (IllegalArgumentException | IllegalStateException | IOException e) {
            System.err.println("export: " + e.getMessage());
            System.exit(2);
        }
    }

    public static Exported run(Args a, Consumer<String> say) throws IOException {
        String topic = a.string("--snapshots", null);
        if (topic == null) {
            throw new IllegalArgumentException("Invalid value (missing) for --snapshots: the snapshot topic to export from");
        }
        String outArg = a.string("--out", null);
        if (outArg == null) {
            throw new IllegalArgumentException("Invalid value (missing) for --out: the file to write");
        }
        String format = a.string("--format", "onnx");
        if (!format.equals("onnx") && !format.equals("native")) {
            throw new IllegalArgumentException("Invalid value " + format + " for --format: expected onnx or native");
        }
        boolean fold = a.flag("--fold-batchnorm");
        if (fold && !format.equals("onnx")) {
            throw new IllegalArgumentException("Invalid flag --fold-batchnorm with --format native: folding applies to ONNX only");
        }
        String versionArg = a.string("--version", "latest");
        long wanted;
        try {
            wanted = versionArg.equals("latest") ? -1 : Long.parseLong(versionArg);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid value " + versionArg + " for --version: expected a number or latest", e);
        }
        SnapshotTrust trust = TrustedKeysOption.from(a, say);
        Duration timeout = Duration.ofSeconds(a.intValue("--timeout-seconds", 60, 1));
        VerifiedSnapshot chosen = null;
        List<String> problems;
        try (SnapshotReader reader = new SnapshotReader(KafkaClientConfig.fromArgs(a).toProperties(), topic, trust)) {
            for (VerifiedSnapshot s : reader.readToEnd(timeout)) {
                if (wanted < 0 ? chosen == null || s.manifest().version() > chosen.manifest().version()
                        : s.manifest().version() == wanted) {
                    chosen = s;
                }
            }
            problems = reader.assembler().problems();
        }
        if (chosen == null) {
            String which = wanted < 0 ? "no snapshot" : "no snapshot v" + wanted;
            List<String> why = problems.stream().filter(p -> wanted < 0 || p.contains(" v" + wanted + " ")).toList();
            throw new IllegalStateException("Cannot export: " + which + " on " + topic + " passed verification"
                    + (why.isEmpty() ? " (none was published)" : ": " + String.join("; ", why)));
        }
        long version = chosen.manifest().version();
        if (wanted < 0) {
            problems.forEach(p -> say.accept("note: " + p));
        }
        SnapshotArtifact.Loaded loaded;
        try {
            loaded = SnapshotArtifact.read(chosen.artifact());
        } catch (ArtifactFormatException e) {
            throw new IllegalStateException("Cannot export snapshot v" + version + ": refused (unloadable): " + e.getMessage(), e);
        }
        String manifestSha = SnapshotRecord.sha256Hex(chosen.manifestJson());
        byte[] bytes;
        if (format.equals("native")) {
            bytes = chosen.artifact();
        } else {
            byte[] onnx = fold ? SnapshotArtifact.onnx(loaded.network(), loaded.metadata(), true) : loaded.onnx();
            Map<String, String> provenance = new LinkedHashMap<>();
            provenance.put(OnnxExport.METADATA_PREFIX + "modelId", chosen.manifest().modelId());
            provenance.put(OnnxExport.METADATA_PREFIX + "version", Long.toString(version));
            provenance.put(OnnxExport.METADATA_PREFIX + "manifestSha256", manifestSha);
            provenance.put(OnnxExport.METADATA_PREFIX + "artifactSha256", chosen.manifest().artifactSha256());
            provenance.put(OnnxExport.METADATA_PREFIX + "signedBy", chosen.signedBy() == null ? "unsigned" : chosen.signedBy());
            provenance.put(OnnxExport.METADATA_PREFIX + "topic", topic);
            provenance.put(OnnxExport.METADATA_PREFIX + "batchNormFolded", Boolean.toString(fold));
            bytes = OnnxExport.withMetadata(onnx, provenance);
        }
        Path out = Path.of(outArg).toAbsolutePath();
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        // write then rename, so a reader of FILE never sees half a model
        Path tmp = out.resolveSibling(out.getFileName() + ".part");
        Files.write(tmp, bytes);
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return new Exported(version, format, out, bytes.length, manifestSha);
    }
}
