package l0stream.connectors.dataset;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Fashion-MNIST from its IDX files, as Debian's {@code dataset-fashion-mnist} package installs
 * them in {@value #DEFAULT_DIR} ({@code train-images-idx3-ubyte.gz}, {@code t10k-…}); plain or
 * gzipped files are both accepted. 28×28 gray images, 10 classes.
 */
public final class FashionMnist {

    public static final String DEFAULT_DIR = "/usr/share/datasets/fashion-mnist";

    public enum Split {
        TRAIN("train"), TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }

        public static Split parse(String v, String field) {
            return switch (v) {
                case "train" -> TRAIN;
                case "test", "t10k" -> TEST;
                default -> throw new IllegalArgumentException("Invalid value " + v + " for " + field + ": expected train or test");
            };
        }
    }

    private FashionMnist() {}

    /** Whether the files of {@code split} are present in {@code dir}. */
    public static boolean available(Path dir, Split split) {
        return find(dir, split.prefix + "-images-idx3-ubyte") != null && find(dir, split.prefix + "-labels-idx1-ubyte") != null;
    }

    public static ImageDataset load(Path dir, Split split) throws IOException {
        Path images = find(dir, split.prefix + "-images-idx3-ubyte");
        Path labels = find(dir, split.prefix + "-labels-idx1-ubyte");
        if (images == null || labels == null) {
            throw new IOException("Fashion-MNIST (" + split.prefix + ") not found in " + dir
                    + ": install it with 'apt-get install dataset-fashion-mnist' (Debian), or pass --data-dir"
                    + " with the IDX files (train-images-idx3-ubyte[.gz] ...)");
        }
        int[] dims = new int[3];
        byte[] pixels = readIdx(images, 0x803, dims);
        int[] ldims = new int[1];
        byte[] l = readIdx(labels, 0x801, ldims);
        if (ldims[0] != dims[0]) {
            throw new IOException("Fashion-MNIST " + split.prefix + ": " + dims[0] + " images but " + ldims[0] + " labels");
        }
        int[] lab = new int[l.length];
        for (int i = 0; i < l.length; i++) {
            lab[i] = l[i] & 0xff;
        }
        return new ImageDataset("fashion-mnist-" + split.name().toLowerCase(java.util.Locale.ROOT), dims[0], dims[1], dims[2], 1, pixels, lab);
    }

    private static Path find(Path dir, String base) {
        for (String name : new String[] {base + ".gz", base}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    /** Reads an IDX file of unsigned bytes; fills {@code dims} with its dimensions. */
    static byte[] readIdx(Path file, int expectedMagic, int[] dims) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
             DataInputStream data = new DataInputStream(new java.io.BufferedInputStream(in, 1 << 16))) {
            int magic = data.readInt();
            if (magic != expectedMagic) {
                throw new IOException(file + " is not an IDX file of " + dims.length + " dimension(s) of unsigned bytes (magic 0x"
                        + Integer.toHexString(magic) + ", expected 0x" + Integer.toHexString(expectedMagic) + ")");
            }
            long n = 1;
            for (int d = 0; d < dims.length; d++) {
                dims[d] = data.readInt();
                n *= dims[d];
            }
            if (n > Integer.MAX_VALUE) {
                throw new IOException(file + " is too large");
            }
            byte[] out = new byte[(int) n];
            data.readFully(out);
            return out;
        }
    }
}
