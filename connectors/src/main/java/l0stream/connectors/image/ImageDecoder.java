package l0stream.connectors.image;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Turns a labeled-image record (value + headers, see {@link ImageHeaders}) into a
 * {@link LabeledImage} under a {@link DecodePolicy}, or throws a {@link DecodeException} naming
 * the {@link DecodeError} class. Never throws anything else for any input: a decoder library's
 * unexpected exception becomes {@code undecodable-image}. Thread-safe.
 *
 * <p>Checks run in this order: empty value, oversize value, label (missing, not an integer, out
 * of range), timestamp, content type, then the image itself.
 */
public final class ImageDecoder {

    static {
        ImageIO.setUseCache(false); // decode in memory, never through temp files
    }

    private static final ConcurrentMap<String, ImageReaderSpi> PROVIDERS = new ConcurrentHashMap<>();

    private final DecodePolicy policy;

    public ImageDecoder(DecodePolicy policy) {
        this.policy = policy;
    }

    public DecodePolicy policy() {
        return policy;
    }

    public LabeledImage decode(byte[] value, Headers headers) throws DecodeException {
        if (value == null || value.length == 0) {
            throw new DecodeException(DecodeError.EMPTY_VALUE, "the record has no value (an image is required)");
        }
        if (value.length > policy.maxBytes()) {
            throw new DecodeException(DecodeError.OVERSIZE, "value of " + value.length
                    + " bytes exceeds the limit of " + policy.maxBytes() + " bytes");
        }
        int label = label(header(headers, ImageHeaders.LABEL));
        long ts = timestamp(header(headers, ImageHeaders.TS));
        String id = header(headers, ImageHeaders.ID);
        return new LabeledImage(id, label, ts, policy.channels(), policy.height(), policy.width(), decodePixels(value, headers));
    }

    /**
     * Only the image part of a record (no label): content type, decoding, then the size and
     * channel policy. Pixels C×H×W in [0, 1]. Used for prediction requests.
     */
    public float[] decodePixels(byte[] value, Headers headers) throws DecodeException {
        if (value == null || value.length == 0) {
            throw new DecodeException(DecodeError.EMPTY_VALUE, "no image in the request/record value");
        }
        if (value.length > policy.maxBytes()) {
            throw new DecodeException(DecodeError.OVERSIZE, "value of " + value.length
                    + " bytes exceeds the limit of " + policy.maxBytes() + " bytes");
        }
        String type = contentType(header(headers, ImageHeaders.CONTENT_TYPE), value);
        Planes planes;
        try {
            planes = switch (type) {
                case ImageHeaders.RAW_U8 -> raw(value, header(headers, ImageHeaders.SHAPE));
                case ImageHeaders.PNG -> imageIo(value, "png");
                case ImageHeaders.JPEG -> imageIo(value, "jpeg");
                default -> throw new DecodeException(DecodeError.UNKNOWN_CONTENT_TYPE, "content-type '" + type
                        + "' is not one of image/png, image/jpeg, application/x-raw-u8");
            };
        } catch (DecodeException e) {
            throw e;
        } catch (RuntimeException | OutOfMemoryError e) {
            // Image libraries throw all sorts of things on hostile input.
            throw new DecodeException(DecodeError.UNDECODABLE_IMAGE, "cannot decode " + type + ": " + e, e);
        }
        return conform(planes);
    }

    /** Pixels as float [0,1] planes: c planes of h×w, alpha already dropped. */
    record Planes(int c, int h, int w, float[] data) {}

    private int label(String v) throws DecodeException {
        if (v == null) {
            throw new DecodeException(DecodeError.MISSING_LABEL, "header 'label' is missing");
        }
        int label;
        try {
            label = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new DecodeException(DecodeError.INVALID_LABEL, "header 'label' = '" + abbreviate(v)
                    + "' is not a decimal integer");
        }
        if (label < 0 || label >= policy.classes()) {
            throw new DecodeException(DecodeError.LABEL_OUT_OF_RANGE, "label " + label + " is outside [0, "
                    + policy.classes() + ")");
        }
        return label;
    }

    private static long timestamp(String v) throws DecodeException {
        if (v == null) {
            return -1;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new DecodeException(DecodeError.INVALID_TIMESTAMP, "header 'ts' = '" + abbreviate(v)
                    + "' is not epoch milliseconds");
        }
    }

    private static String contentType(String v, byte[] value) throws DecodeException {
        if (v != null) {
            int semi = v.indexOf(';');
            return (semi >= 0 ? v.substring(0, semi) : v).trim().toLowerCase(Locale.ROOT);
        }
        if (value.length >= 8 && (value[0] & 0xff) == 0x89 && value[1] == 'P' && value[2] == 'N' && value[3] == 'G') {
            return ImageHeaders.PNG;
        }
        if (value.length >= 3 && (value[0] & 0xff) == 0xFF && (value[1] & 0xff) == 0xD8 && (value[2] & 0xff) == 0xFF) {
            return ImageHeaders.JPEG;
        }
        throw new DecodeException(DecodeError.UNKNOWN_CONTENT_TYPE,
                "header 'content-type' is missing and the value is neither PNG nor JPEG");
    }

    private Planes raw(byte[] value, String shape) throws DecodeException {
        if (shape == null) {
            throw new DecodeException(DecodeError.INVALID_SHAPE, "content-type application/x-raw-u8 needs a 'shape' header HxWxC");
        }
        String[] p = shape.trim().toLowerCase(Locale.ROOT).split("x");
        int h;
        int w;
        int c;
        try {
            if (p.length != 3) {
                throw new NumberFormatException();
            }
            h = Integer.parseInt(p[0]);
            w = Integer.parseInt(p[1]);
            c = Integer.parseInt(p[2]);
        } catch (NumberFormatException e) {
            throw new DecodeException(DecodeError.INVALID_SHAPE, "header 'shape' = '" + abbreviate(shape) + "' is not HxWxC");
        }
        if (h < 1 || w < 1 || c < 1 || c > 4) {
            throw new DecodeException(DecodeError.INVALID_SHAPE, "header 'shape' = '" + shape
                    + "': H and W must be >= 1 and C in 1..4");
        }
        if ((long) h * w > policy.maxPixels()) {
            throw new DecodeException(DecodeError.OVERSIZE, "shape " + shape + " exceeds " + policy.maxPixels() + " pixels");
        }
        long expected = (long) h * w * c;
        if (expected != value.length) {
            throw new DecodeException(DecodeError.RAW_SIZE_MISMATCH, "shape " + shape + " needs " + expected
                    + " bytes, the value has " + value.length);
        }
        int keep = (c == 2 || c == 4) ? c - 1 : c; // drop alpha
        float[] out = new float[keep * h * w];
        int hw = h * w;
        for (int i = 0; i < hw; i++) {
            for (int ch = 0; ch < keep; ch++) {
                out[ch * hw + i] = (value[i * c + ch] & 0xff) * (1f / 255f);
            }
        }
        return new Planes(keep, h, w, out);
    }

    private Planes imageIo(byte[] value, String format) throws DecodeException {
        ImageReader reader;
        try {
            reader = readerProvider(format).createReaderInstance();
        } catch (IOException e) {
            throw new DecodeException(DecodeError.UNDECODABLE_IMAGE, "no " + format + " decoder: " + e.getMessage(), e);
        }
        String[] warning = new String[1];
        // In memory, as ImageIO.createImageInputStream would give with the cache off, without its
        // registry walk on every record.
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(value))) {
            reader.setInput(in, true, true);
            int w = reader.getWidth(0);
            int h = reader.getHeight(0);
            if (w < 1 || h < 1 || (long) w * h > policy.maxPixels()) {
                throw new DecodeException(DecodeError.OVERSIZE, format + " declares " + w + "x" + h
                        + " pixels, the limit is " + policy.maxPixels());
            }
            // A truncated JPEG decodes "successfully" with a warning: treat warnings as failures.
            reader.addIIOReadWarningListener((src, msg) -> warning[0] = msg);
            BufferedImage img = reader.read(0);
            if (warning[0] != null) {
                throw new DecodeException(DecodeError.UNDECODABLE_IMAGE, format + " is damaged: " + warning[0]);
            }
            return planes(img);
        } catch (IOException e) {
            throw new DecodeException(DecodeError.UNDECODABLE_IMAGE, "cannot decode " + format + ": " + e.getMessage(), e);
        } finally {
            reader.dispose();
        }
    }

    /**
     * The JVM's reader provider for {@code format}, looked up once: ImageIO's registry lookup by
     * format name (lower-casing and matching every provider's names) cost more per PNG record
     * than reading the 28×28 image did. Readers themselves are not thread-safe; one is made per
     * decode.
     */
    private static ImageReaderSpi readerProvider(String format) throws DecodeException {
        ImageReaderSpi spi = PROVIDERS.computeIfAbsent(format, f -> {
            Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(f);
            return readers.hasNext() ? readers.next().getOriginatingProvider() : null;
        });
        if (spi == null) {
            throw new DecodeException(DecodeError.UNDECODABLE_IMAGE, "no " + format + " decoder in this JVM");
        }
        return spi;
    }

    private static Planes planes(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        int hw = w * h;
        int type = img.getType();
        if (type == BufferedImage.TYPE_BYTE_GRAY) {
            Raster r = img.getRaster();
            float[] out = new float[hw];
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    out[y * w + x] = row[x] * (1f / 255f);
                }
            }
            return new Planes(1, h, w, out);
        }
        boolean gray = img.getColorModel().getColorSpace().getNumComponents() == 1;
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        int c = gray ? 1 : 3;
        float[] out = new float[c * hw];
        for (int i = 0; i < hw; i++) {
            int p = argb[i];
            if (gray) {
                out[i] = (p & 0xff) * (1f / 255f);
            } else {
                out[i] = ((p >> 16) & 0xff) * (1f / 255f);
                out[hw + i] = ((p >> 8) & 0xff) * (1f / 255f);
                out[2 * hw + i] = (p & 0xff) * (1f / 255f);
            }
        }
        return new Planes(c, h, w, out);
    }

    /** Applies the channel and size policies. */
    private float[] conform(Planes p) throws DecodeException {
        Planes q = p;
        if (q.c() != policy.channels()) {
            if (policy.channelPolicy() == DecodePolicy.ChannelPolicy.EXACT) {
                throw new DecodeException(DecodeError.WRONG_CHANNELS, "image has " + q.c() + " channel(s), the model takes "
                        + policy.channels());
            }
            q = convertChannels(q, policy.channels());
        }
        if (q.h() != policy.height() || q.w() != policy.width()) {
            if (policy.size() == DecodePolicy.SizePolicy.EXACT) {
                throw new DecodeException(DecodeError.WRONG_SIZE, "image is " + q.h() + "x" + q.w() + ", the model takes "
                        + policy.height() + "x" + policy.width());
            }
            q = resize(q, policy.height(), policy.width());
        }
        return q.data();
    }

    static Planes convertChannels(Planes p, int target) {
        int hw = p.h() * p.w();
        float[] out = new float[target * hw];
        if (p.c() == 3 && target == 1) {
            for (int i = 0; i < hw; i++) {
                out[i] = 0.299f * p.data()[i] + 0.587f * p.data()[hw + i] + 0.114f * p.data()[2 * hw + i];
            }
        } else if (p.c() == 1 && target == 3) {
            for (int ch = 0; ch < 3; ch++) {
                System.arraycopy(p.data(), 0, out, ch * hw, hw);
            }
        } else {
            throw new IllegalStateException("unsupported channel conversion " + p.c() + " -> " + target);
        }
        return new Planes(target, p.h(), p.w(), out);
    }

    /** Bilinear resize with half-pixel centres (PyTorch's align_corners=false). */
    static Planes resize(Planes p, int h, int w) {
        float[] out = new float[p.c() * h * w];
        float sy = (float) p.h() / h;
        float sx = (float) p.w() / w;
        for (int ch = 0; ch < p.c(); ch++) {
            int base = ch * p.h() * p.w();
            for (int y = 0; y < h; y++) {
                float fy = Math.max(0, (y + 0.5f) * sy - 0.5f);
                int y0 = Math.min((int) fy, p.h() - 1);
                int y1 = Math.min(y0 + 1, p.h() - 1);
                float dy = fy - y0;
                for (int x = 0; x < w; x++) {
                    float fx = Math.max(0, (x + 0.5f) * sx - 0.5f);
                    int x0 = Math.min((int) fx, p.w() - 1);
                    int x1 = Math.min(x0 + 1, p.w() - 1);
                    float dx = fx - x0;
                    float[] d = p.data();
                    float top = d[base + y0 * p.w() + x0] * (1 - dx) + d[base + y0 * p.w() + x1] * dx;
                    float bot = d[base + y1 * p.w() + x0] * (1 - dx) + d[base + y1 * p.w() + x1] * dx;
                    out[(ch * h + y) * w + x] = top * (1 - dy) + bot * dy;
                }
            }
        }
        return new Planes(p.c(), h, w, out);
    }

    static String header(Headers headers, String key) {
        if (headers == null) {
            return null;
        }
        Header h = headers.lastHeader(key);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }
}
