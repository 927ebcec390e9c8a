package l0stream.connectors.snapshot;

import l0stream.connectors.trust.ManifestSignature;
import l0stream.connectors.trust.SnapshotTrust;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reassembles snapshots from manifest and chunk records in whatever order they come, and yields
 * only whole, verified ones (size and SHA-256 as in the manifest), each version at most once
 * and never older than one already yielded for the same model. Problems are logged with the
 * reason and counted, never thrown:
 *
 * <ul>
 *   <li>corrupt: hash or size mismatch, a duplicate chunk with other bytes, inconsistent counts,
 *       an unparsable manifest;
 *   <li>incomplete: a version still missing chunks when a newer version of the model completes
 *       (a lost chunk), or evicted because too many versions were pending;
 *   <li>stale: records of a version not newer than the last one yielded (e.g. a redelivery);
 *   <li>with a {@link SnapshotTrust}: {@code unsigned}, {@code untrusted-key} and
 *       {@code bad-signature} manifests. Such a manifest is dropped without marking its version
 *       broken, so a forged manifest cannot block the genuine one of the same version.
 * </ul>
 * A size or SHA-256 mismatch between the artifact and its (possibly signed) manifest counts as
 * {@code artifact-mismatch}. {@link #refusals()} has every count by reason. Exact duplicates of a
 * chunk are ignored. Not thread-safe.
 */
public final class SnapshotAssembler {

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotAssembler.class);
    private static final int MAX_PENDING_PER_MODEL = 4;
    private static final java.util.regex.Pattern CHUNK_HEADER = java.util.regex.Pattern.compile("[0-9]{1,9}/[0-9]{1,9}");

    private final Map<String, TreeMap<Long, Pending>> pending = new HashMap<>();
    private final Map<String, Long> lastYielded = new HashMap<>();
    private final AtomicLong corrupt = new AtomicLong();
    private final AtomicLong incomplete = new AtomicLong();
    private final AtomicLong stale = new AtomicLong();
    private final List<String> problems = new ArrayList<>();
    private final Map<String, AtomicLong> refusals = new TreeMap<>();
    private final SnapshotTrust trust;

    /** An assembler that does not check signatures: for tools that only inspect a topic. */
    public SnapshotAssembler() {
        this(null);
    }

    /** @param trust the signatures to require on manifests; null to not check them */
    public SnapshotAssembler(SnapshotTrust trust) {
        this.trust = trust;
    }

    private static final class Pending {
        SnapshotManifest manifest;
        byte[] manifestJson;
        String signedBy;
        int chunkCount = -1;
        final Map<Integer, byte[]> chunks = new HashMap<>();
        boolean broken;
    }

    /** Feeds one record; returns the snapshots it completed (usually none, sometimes one). */
    public List<VerifiedSnapshot> accept(byte[] key, byte[] value, Headers headers) {
        String model = key == null ? "" : new String(key, StandardCharsets.UTF_8);
        String type = header(headers, SnapshotRecord.HEADER_TYPE);
        long version;
        try {
            version = Long.parseLong(header(headers, SnapshotRecord.HEADER_VERSION));
        } catch (RuntimeException e) {
            report("corrupt", corrupt, model, -1, "record without a valid snapshot-version header");
            return List.of();
        }
        if (version <= lastYielded.getOrDefault(model, 0L)) {
            stale.incrementAndGet();
            return List.of();
        }
        Pending p = pending.computeIfAbsent(model, m -> new TreeMap<>()).computeIfAbsent(version, v -> new Pending());
        if (p.broken) {
            return List.of();
        }
        if (SnapshotRecord.MANIFEST.equals(type)) {
            try {
                ManifestSignature signature = ManifestSignature.from(headers);
                if (trust != null) {
                    SnapshotTrust.Verdict v = trust.check(value == null ? new byte[0] : value, signature);
                    if (!v.accepted()) {
                        report(v.refusal().id(), refusal(v.refusal().id()), model, version, v.reason());
                        return List.of();
                    }
                }
                SnapshotManifest m = SnapshotManifest.fromJson(value);
                if (!m.modelId().equals(model) || m.version() != version) {
                    throw new InvalidSnapshotException("manifest says " + m.modelId() + " v" + m.version()
                            + " but its record is keyed " + model + " v" + version);
                }
                p.manifest = m;
                p.manifestJson = value.clone();
                p.signedBy = trust != null && signature != null ? signature.keyId() : null;
                setCount(p, m.chunkCount());
            } catch (InvalidSnapshotException e) {
                return broken(p, model, version, e.getMessage());
            }
        } else if (SnapshotRecord.CHUNK.equals(type)) {
            String c = header(headers, SnapshotRecord.HEADER_CHUNK);
            int i;
            int n;
            try {
                // exactly i/n in ASCII digits: no sign, no extra parts (the spec's grammar)
                if (c == null || !CHUNK_HEADER.matcher(c).matches()) {
                    throw new IllegalArgumentException();
                }
                String[] parts = c.split("/");
                i = Integer.parseInt(parts[0]);
                n = Integer.parseInt(parts[1]);
                if (i < 1 || i > n) {
                    throw new IllegalArgumentException();
                }
            } catch (RuntimeException e) {
                return broken(p, model, version, "chunk header '" + c + "' is not i/n");
            }
            if (!setCount(p, n)) {
                return broken(p, model, version, "chunk " + c + " disagrees with chunk count " + p.chunkCount);
            }
            byte[] data = value == null ? new byte[0] : value;
            byte[] prev = p.chunks.putIfAbsent(i, data);
            if (prev != null && !Arrays.equals(prev, data)) {
                return broken(p, model, version, "chunk " + c + " arrived twice with different bytes");
            }
        } else {
            return broken(p, model, version, "unknown record-type '" + type + "'");
        }
        if (p.manifest != null && p.chunks.size() == p.chunkCount) {
            return complete(model, version, p);
        }
        evictIfTooMany(model);
        return List.of();
    }

    private static boolean setCount(Pending p, int n) {
        if (p.chunkCount == -1) {
            p.chunkCount = n;
            return true;
        }
        return p.chunkCount == n;
    }

    private List<VerifiedSnapshot> complete(String model, long version, Pending p) {
        TreeMap<Long, Pending> versions = pending.get(model);
        versions.remove(version);
        // sized from what arrived, not from the manifest's claim (which may be anything up to 2^63)
        ByteArrayOutputStream out = new ByteArrayOutputStream(p.chunks.values().stream().mapToInt(c -> c.length).sum());
        for (int i = 1; i <= p.chunkCount; i++) {
            out.writeBytes(p.chunks.get(i));
        }
        byte[] artifact = out.toByteArray();
        if (artifact.length != p.manifest.artifactBytes()) {
            report("artifact-mismatch", refusal("artifact-mismatch"), model, version, "artifact has " + artifact.length + " bytes, manifest says " + p.manifest.artifactBytes());
            return List.of();
        }
        String sha = SnapshotRecord.sha256Hex(artifact);
        if (!sha.equals(p.manifest.artifactSha256())) {
            report("artifact-mismatch", refusal("artifact-mismatch"), model, version, "artifact SHA-256 " + sha + " does not match the manifest's " + p.manifest.artifactSha256());
            return List.of();
        }
        // Older versions that never completed lost a chunk: drop them.
        Iterator<Map.Entry<Long, Pending>> it = versions.headMap(version).entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Long, Pending> e = it.next();
            if (!e.getValue().broken) {
                report("incomplete", incomplete, model, e.getKey(), "superseded by v" + version + " while missing "
                        + missing(e.getValue()));
            }
            it.remove();
        }
        lastYielded.put(model, version);
        return List.of(new VerifiedSnapshot(p.manifest, artifact, p.manifestJson, p.signedBy));
    }

    private void evictIfTooMany(String model) {
        TreeMap<Long, Pending> versions = pending.get(model);
        while (versions.size() > MAX_PENDING_PER_MODEL) {
            Map.Entry<Long, Pending> oldest = versions.pollFirstEntry();
            if (!oldest.getValue().broken) {
                report("incomplete", incomplete, model, oldest.getKey(), "evicted while missing " + missing(oldest.getValue()));
            }
        }
    }

    private static String missing(Pending p) {
        if (p.manifest == null) {
            return "its manifest";
        }
        return (p.chunkCount - p.chunks.size()) + " of " + p.chunkCount + " chunks";
    }

    private List<VerifiedSnapshot> broken(Pending p, String model, long version, String why) {
        p.broken = true;
        p.chunks.clear();
        report("corrupt", corrupt, model, version, why);
        return List.of();
    }

    /** Counts a refusal and keeps it as a sentence naming its reason as {@link #refusals()} does. */
    private void report(String reason, AtomicLong counter, String model, long version, String why) {
        counter.incrementAndGet();
        String msg = "snapshot " + model + " v" + version + " refused (" + reason + "): " + why;
        problems.add(msg);
        LOG.warn(msg);
    }

    private AtomicLong refusal(String reason) {
        return refusals.computeIfAbsent(reason, r -> new AtomicLong());
    }

    /** Corrupt records and artifacts that do not match their manifest. */
    public long corrupt() {
        return corrupt.get() + refusal("artifact-mismatch").get();
    }

    /**
     * Snapshots (or manifests) refused so far, by reason: {@code corrupt}, {@code artifact-mismatch},
     * {@code incomplete}, {@code unsigned}, {@code untrusted-key}, {@code bad-signature}.
     */
    public Map<String, Long> refusals() {
        Map<String, Long> out = new TreeMap<>();
        refusals.forEach((k, v) -> out.put(k, v.get()));
        out.put("corrupt", corrupt.get());
        out.put("incomplete", incomplete.get());
        out.values().removeIf(n -> n == 0);
        return out;
    }

    public long incomplete() {
        return incomplete.get();
    }

    public long stale() {
        return stale.get();
    }

    /** Every problem reported so far, as sentences. */
    public List<String> problems() {
        return List.copyOf(problems);
    }

    private static String header(Headers headers, String key) {
        Header h = headers == null ? null : headers.lastHeader(key);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
