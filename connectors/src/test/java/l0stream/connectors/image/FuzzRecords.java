package l0stream.connectors.image;

import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

/** Random and mutated image records for fuzz tests: valid ones, bit flips, cuts, junk headers. */
public final class FuzzRecords {

    public record Record(byte[] value, Headers headers) {}

    private static final String[] LABELS = {"0", "9", "3", "10", "-1", "x", "", " 4 ", "99999999999", "1e3"};
    private static final String[] TYPES = {"image/png", "image/jpeg", "application/x-raw-u8", "text/plain", "", null};
    private static final String[] SHAPES = {"28x28x1", "28x28x3", "10x10x1", "0x0x0", "axbxc", "28x28", null};

    private FuzzRecords() {}

    public static Record next(Random rnd, byte[] png, byte[] jpg) {
        int kind = rnd.nextInt(8);
        byte[] value;
        String type;
        String shape = null;
        switch (kind) {
            case 0 -> { value = png.clone(); type = "image/png"; }
            case 1 -> { value = jpg.clone(); type = "image/jpeg"; }
            case 2 -> { value = new byte[784]; rnd.nextBytes(value); type = "application/x-raw-u8"; shape = "28x28x1"; }
            case 3 -> { value = flip(rnd, rnd.nextBoolean() ? png : jpg); type = TYPES[rnd.nextInt(2)]; }
            case 4 -> { value = Arrays.copyOf(rnd.nextBoolean() ? png : jpg, rnd.nextInt(png.length)); type = TYPES[rnd.nextInt(TYPES.length)]; }
            case 5 -> { value = new byte[rnd.nextInt(3000)]; rnd.nextBytes(value); type = TYPES[rnd.nextInt(TYPES.length)];
                shape = SHAPES[rnd.nextInt(SHAPES.length)]; }
            case 6 -> { value = new byte[rnd.nextInt(2000)]; rnd.nextBytes(value); type = "application/x-raw-u8";
                shape = SHAPES[rnd.nextInt(SHAPES.length)]; }
            default -> { value = png.clone(); type = null; }
        }
        RecordHeaders h = new RecordHeaders();
        boolean validLabel = kind <= 2 || rnd.nextInt(3) > 0;
        if (validLabel) {
            h.add("label", Integer.toString(rnd.nextInt(10)).getBytes(StandardCharsets.UTF_8));
        } else if (rnd.nextInt(4) > 0) {
            h.add("label", LABELS[rnd.nextInt(LABELS.length)].getBytes(StandardCharsets.UTF_8));
        }
        if (type != null) {
            h.add("content-type", type.getBytes(StandardCharsets.UTF_8));
        }
        if (shape != null) {
            h.add("shape", shape.getBytes(StandardCharsets.UTF_8));
        }
        if (rnd.nextInt(20) == 0) {
            h.add("ts", "soon".getBytes(StandardCharsets.UTF_8));
        }
        return new Record(value, h);
    }

    private static byte[] flip(Random rnd, byte[] src) {
        byte[] v = src.clone();
        int n = 1 + rnd.nextInt(8);
        for (int i = 0; i < n; i++) {
            v[rnd.nextInt(v.length)] ^= (byte) (1 << rnd.nextInt(8));
        }
        return v;
    }
}
