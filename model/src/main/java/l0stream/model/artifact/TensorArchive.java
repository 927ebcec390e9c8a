package l0stream.model.artifact;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The binary container behind snapshot artifacts and training checkpoints: a JSON header plus
 * named float32 tensors, sealed with a SHA-256. Big-endian throughout.
 *
 * <pre>
 * offset  size  field
 * 0       4     magic (ASCII, says what the file is: "L0SN" snapshot, "L0CK" checkpoint)
 * 4       2     format version (unsigned)
 * 6       8     total length in bytes, this field and the trailing hash included
 * 14      4     header length H
 * 18      H     header: UTF-8 JSON object
 * ..      4     tensor count T
 * then T times:
 *         2     name length L, then L bytes UTF-8 name
 *         1     dtype (1 = float32)
 *         1     rank R, then R × 8 bytes dimensions (signed, ≥ 0)
 *         4·Π   values, float32, row-major
 * only where the caller's format has sections (snapshot format 2 on):
 *         4     section count S
 * then S times:
 *         2     name length L, then L bytes UTF-8 name
 *         8     byte length N (signed, ≥ 0), then N bytes
 * end−32  32    SHA-256 of every byte before it
 * </pre>
 *
 * A reader checks, in order: length (truncation), magic, version, hash, then structure; each
 * failure is an {@link ArtifactFormatException} that says which. No Java serialization.
 */
public final class TensorArchive {

    public static final int DTYPE_FLOAT32 = 1;
    private static final int PREAMBLE = 4 + 2 + 8;
    private static final int HASH = 32;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A named float32 tensor; the compact constructor copies nothing, callers own the arrays. */
    public record Tensor(String name, long[] shape, float[] data) {
        public Tensor {
            long n = 1;
            for (long d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("Invalid shape " + Arrays.toString(shape) + " for tensor " + name);
                }
                n *= d;
            }
            if (n != data.length) {
                throw new IllegalArgumentException("Invalid data for tensor " + name + ": shape "
                        + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
            }
        }
    }

    /** A named opaque byte section (e.g. the ONNX form of a snapshot); the bytes are not copied. */
    public record Section(String name, byte[] bytes) {}

    /** What a reader returns: the header, the tensors and the sections, each in file order. */
    public record Contents(int version, ObjectNode header, Map<String, Tensor> tensors, Map<String, byte[]> sections) {}

    private TensorArchive() {}

    public static ObjectMapper json() {
        return JSON;
    }

    public static byte[] write(String magic, int version, ObjectNode header, Collection<Tensor> tensors) {
        return write(magic, version, header, tensors, null);
    }

    /**
     * Writes an archive; {@code sections} null for a format without sections (nothing is written
     * for them), otherwise the section list (possibly empty) after the tensors.
     */
    public static byte[] write(String magic, int version, ObjectNode header, Collection<Tensor> tensors,
                               Collection<Section> sections) {
        byte[] m = magic.getBytes(StandardCharsets.US_ASCII);
        if (m.length != 4) {
            throw new IllegalArgumentException("Invalid value " + magic + " for magic: must be 4 ASCII bytes");
        }
        // Sized exactly and written in one pass into the final array: a training checkpoint goes
        // through here every second, and a growing stream copied its megabytes about four times.
        byte[] h;
        try {
            h = JSON.writeValueAsBytes(header);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<byte[]> names = new ArrayList<>(tensors.size());
        long size = 4 + 2 + 8 + 4 + h.length + 4;
        for (Tensor t : tensors) {
            byte[] name = t.name().getBytes(StandardCharsets.UTF_8);
            names.add(name);
            size += 2 + name.length + 1 + 1 + 8L * t.shape().length + 4L * t.data().length;
        }
        List<byte[]> sectionNames = new ArrayList<>();
        if (sections != null) {
            size += 4;
            for (Section sec : sections) {
                byte[] name = sec.name().getBytes(StandardCharsets.UTF_8);
                sectionNames.add(name);
                size += 2 + name.length + 8 + sec.bytes().length;
            }
        }
        if (size + HASH > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("An archive of " + size + " bytes does not fit in one array");
        }
        byte[] result = new byte[(int) size + HASH];
        ByteBuffer out = ByteBuffer.wrap(result).order(ByteOrder.BIG_ENDIAN);
        out.put(m);
        out.putShort((short) version);
        out.putLong(size + HASH); // total length
        out.putInt(h.length);
        out.put(h);
        out.putInt(tensors.size());
        int i = 0;
        for (Tensor t : tensors) {
            putName(out, names.get(i++));
            out.put((byte) DTYPE_FLOAT32);
            out.put((byte) t.shape().length);
            for (long d : t.shape()) {
                out.putLong(d);
            }
            out.asFloatBuffer().put(t.data());
            out.position(out.position() + 4 * t.data().length);
        }
        if (sections != null) {
            out.putInt(sections.size());
            int j = 0;
            for (Section sec : sections) {
                putName(out, sectionNames.get(j++));
                out.putLong(sec.bytes().length);
                out.put(sec.bytes());
            }
        }
        System.arraycopy(sha256(result, (int) size), 0, result, (int) size, HASH);
        return result;
    }

    /** A u16 length, then the UTF-8 bytes. */
    private static void putName(ByteBuffer out, byte[] name) {
        out.putShort((short) name.length);
        out.put(name);
    }

    /**
     * Reads and verifies an archive. {@code what} names the kind of file in error messages
     * ("snapshot artifact"); {@code maxVersion} is the newest format this reader understands.
     */
    public static Contents read(byte[] data, String magic, int maxVersion, String what)
            throws ArtifactFormatException {
        return read(data, magic, maxVersion, Integer.MAX_VALUE, what);
    }

    /** As {@link #read(byte[], String, int, String)}, for a format whose versions from {@code sectionsSince} on have sections. */
    public static Contents read(byte[] data, String magic, int maxVersion, int sectionsSince, String what)
            throws ArtifactFormatException {
        if (data == null || data.length < PREAMBLE + 4 + 4 + HASH) {
            throw new ArtifactFormatException(what + " is truncated: " + (data == null ? 0 : data.length)
                    + " bytes is shorter than the smallest valid one");
        }
        String got = new String(data, 0, 4, StandardCharsets.ISO_8859_1);
        if (!got.equals(magic)) {
            throw new ArtifactFormatException("Not a " + what + ": wrong magic '" + printable(got)
                    + "', expected '" + magic + "'");
        }
        ByteBuffer in = ByteBuffer.wrap(data).order(ByteOrder.BIG_ENDIAN);
        int version = Short.toUnsignedInt(in.getShort(4));
        if (version < 1 || version > maxVersion) {
            throw new ArtifactFormatException(what + " has format version " + version
                    + ", this reader supports versions 1 to " + maxVersion
                    + (version > maxVersion ? " (written by a newer l0stream?)" : ""));
        }
        long total = in.getLong(6);
        if (total > data.length) {
            throw new ArtifactFormatException(what + " is truncated: " + data.length + " of " + total + " bytes");
        }
        if (total < data.length) {
            throw new ArtifactFormatException(what + " has " + (data.length - total)
                    + " unexpected trailing bytes after its declared length " + total);
        }
        int bodyLength = data.length - HASH;
        byte[] expected = sha256(data, bodyLength);
        if (!MessageDigest.isEqual(expected, Arrays.copyOfRange(data, bodyLength, data.length))) {
            throw new ArtifactFormatException(what + " failed its SHA-256 check: the content is corrupted or was altered");
        }
        try {
            in.position(PREAMBLE);
            in.limit(bodyLength);
            byte[] h = new byte[in.getInt()];
            in.get(h);
            JsonNode header = JSON.readTree(h);
            if (!(header instanceof ObjectNode)) {
                throw new ArtifactFormatException(what + " header is not a JSON object");
            }
            int count = in.getInt();
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                byte[] name = new byte[Short.toUnsignedInt(in.getShort())];
                in.get(name);
                String n = new String(name, StandardCharsets.UTF_8);
                int dtype = Byte.toUnsignedInt(in.get());
                if (dtype != DTYPE_FLOAT32) {
                    throw new ArtifactFormatException(what + " tensor " + n + " has unknown dtype " + dtype);
                }
                long[] shape = new long[Byte.toUnsignedInt(in.get())];
                long size = 1;
                for (int d = 0; d < shape.length; d++) {
                    shape[d] = in.getLong();
                    if (shape[d] < 0 || shape[d] > Integer.MAX_VALUE) {
                        throw new ArtifactFormatException(what + " tensor " + n + " has invalid dimension " + shape[d]);
                    }
                    size = Math.multiplyExact(size, shape[d]);
                }
                if (size * 4 > in.remaining()) {
                    throw new ArtifactFormatException(what + " tensor " + n + " runs past the end of the content");
                }
                float[] values = new float[(int) size];
                in.asFloatBuffer().get(values);
                in.position(in.position() + values.length * 4);
                if (tensors.put(n, new Tensor(n, shape, values)) != null) {
                    throw new ArtifactFormatException(what + " has two tensors named " + n);
                }
            }
            Map<String, byte[]> sections = new LinkedHashMap<>();
            if (version >= sectionsSince) {
                int sectionCount = in.getInt();
                for (int i = 0; i < sectionCount; i++) {
                    byte[] name = new byte[Short.toUnsignedInt(in.getShort())];
                    in.get(name);
                    String n = new String(name, StandardCharsets.UTF_8);
                    long length = in.getLong();
                    if (length < 0 || length > in.remaining()) {
                        throw new ArtifactFormatException(what + " section " + n + " runs past the end of the content");
                    }
                    byte[] bytes = new byte[(int) length];
                    in.get(bytes);
                    if (sections.put(n, bytes) != null) {
                        throw new ArtifactFormatException(what + " has two sections named " + n);
                    }
                }
            }
            if (in.remaining() != 0) {
                throw new ArtifactFormatException(what + " has " + in.remaining() + " unparsed bytes");
            }
            return new Contents(version, (ObjectNode) header, tensors, sections);
        } catch (java.nio.BufferUnderflowException | ArithmeticException | IOException e) {
            if (e instanceof ArtifactFormatException afe) {
                throw afe;
            }
            throw new ArtifactFormatException(what + " is malformed: " + e, e);
        }
    }

    /** SHA-256 of {@code data[0, length)}. */
    public static byte[] sha256(byte[] data, int length) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(data, 0, length);
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            b.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\x%02x", (int) c));
        }
        return b.toString();
    }
}
