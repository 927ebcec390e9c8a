package l0stream.connectors.image;

import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

import javax.imageio.ImageIO;

/**
 * The producing side of the wire format: 8-bit pixels (H×W×C, interleaved, C = 1 or 3) to a
 * record value in one of the three encodings, and the headers that go with it.
 */
public final class ImageEncoder {

    /** How image values are written. */
    public enum Encoding {
        PNG(ImageHeaders.PNG), JPEG(ImageHeaders.JPEG), RAW(ImageHeaders.RAW_U8);

        private final String contentType;

        Encoding(String contentType) {
            this.contentType = contentType;
        }

        public String contentType() {
            return contentType;
        }

        public static Encoding parse(String v, String field) {
            try {
                return valueOf(v.trim().toUpperCase(Locale.ROOT));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("Invalid value " + v + " for " + field + ": expected png, jpeg or raw", e);
            }
        }
    }

    private ImageEncoder() {}

    public static byte[] encode(byte[] pixels, int h, int w, int c, Encoding encoding) {
        if (pixels.length != h * w * c || (c != 1 && c != 3)) {
            throw new IllegalArgumentException("Invalid image: " + pixels.length + " bytes for " + h + "x" + w + "x" + c);
        }
        if (encoding == Encoding.RAW) {
            return pixels.clone();
        }
        BufferedImage img = new BufferedImage(w, h, c == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
        if (c == 1) {
            img.getRaster().setDataElements(0, 0, w, h, pixels);
        } else {
            int[] rgb = new int[h * w];
            for (int i = 0; i < rgb.length; i++) {
                rgb[i] = ((pixels[3 * i] & 0xff) << 16) | ((pixels[3 * i + 1] & 0xff) << 8) | (pixels[3 * i + 2] & 0xff);
            }
            img.setRGB(0, 0, w, h, rgb, 0, w);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, encoding == Encoding.PNG ? "png" : "jpeg", out)) {
                throw new IllegalStateException("no " + encoding + " writer in this JVM");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Headers for an image record: label, content-type, shape (raw only), optional id and ts. */
    public static Headers headers(int label, Encoding encoding, int h, int w, int c, String id, long ts) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(ImageHeaders.LABEL, Integer.toString(label).getBytes(StandardCharsets.UTF_8));
        headers.add(ImageHeaders.CONTENT_TYPE, encoding.contentType().getBytes(StandardCharsets.UTF_8));
        if (encoding == Encoding.RAW) {
            headers.add(ImageHeaders.SHAPE, (h + "x" + w + "x" + c).getBytes(StandardCharsets.UTF_8));
        }
        if (id != null) {
            headers.add(ImageHeaders.ID, id.getBytes(StandardCharsets.UTF_8));
        }
        if (ts >= 0) {
            headers.add(ImageHeaders.TS, Long.toString(ts).getBytes(StandardCharsets.UTF_8));
        }
        return headers;
    }
}
