package l0stream.connectors.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.connectors.image.ImageEncoder.Encoding;

import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

class ImageDecoderTest {

    private final ImageDecoder decoder = new ImageDecoder(DecodePolicy.fashionMnist());

    static byte[] grayPixels(int h, int w, long seed) {
        byte[] p = new byte[h * w];
        new Random(seed).nextBytes(p);
        return p;
    }

    private static Headers headers(String... kv) {
        RecordHeaders h = new RecordHeaders();
        for (int i = 0; i < kv.length; i += 2) {
            h.add(kv[i], kv[i + 1] == null ? null : kv[i + 1].getBytes(StandardCharsets.UTF_8));
        }
        return h;
    }

    private DecodeError fails(byte[] value, Headers h) {
        return assertThrows(DecodeException.class, () -> decoder.decode(value, h)).errorClass();
    }

    @Test
    void testPngRawAndJpegDecodeToScaledPixels() throws Exception {
        byte[] px = grayPixels(28, 28, 1);
        float[] expected = new float[px.length];
        for (int i = 0; i < px.length; i++) {
            expected[i] = (px[i] & 0xff) / 255f;
        }
        for (Encoding e : new Encoding[] {Encoding.PNG, Encoding.RAW}) {
            LabeledImage img = decoder.decode(ImageEncoder.encode(px, 28, 28, 1, e),
                    ImageEncoder.headers(7, e, 28, 28, 1, "img-1", 1234L));
            assertEquals(7, img.label());
            assertEquals("img-1", img.id());
            assertEquals(1234L, img.timestampMs());
            assertArrayEquals(expected, img.pixels(), 1e-7f, e + " must be lossless");
        }
        // JPEG is lossy: close, not equal
        byte[] smooth = new byte[28 * 28];
        for (int i = 0; i < smooth.length; i++) {
            smooth[i] = (byte) (i % 28 * 9);
        }
        LabeledImage jpg = decoder.decode(ImageEncoder.encode(smooth, 28, 28, 1, Encoding.JPEG),
                ImageEncoder.headers(2, Encoding.JPEG, 28, 28, 1, null, -1));
        float err = 0;
        for (int i = 0; i < smooth.length; i++) {
            err = Math.max(err, Math.abs(jpg.pixels()[i] - (smooth[i] & 0xff) / 255f));
        }
        assertTrue(err < 0.1, "jpeg max error " + err);
    }

    @Test
    void testContentTypeIsSniffedWhenAbsent() throws Exception {
        byte[] png = ImageEncoder.encode(grayPixels(28, 28, 2), 28, 28, 1, Encoding.PNG);
        assertEquals(4, decoder.decode(png, headers("label", "4")).label());
        byte[] jpg = ImageEncoder.encode(grayPixels(28, 28, 2), 28, 28, 1, Encoding.JPEG);
        assertEquals(5, decoder.decode(jpg, headers("label", "5")).label());
        assertEquals(5, decoder.decode(jpg, headers("label", "5", "content-type", "IMAGE/JPEG; q=1")).label());
    }

    @Test
    void testRgbIsConvertedAndResizedUnderTheDefaultPolicy() throws Exception {
        byte[] rgb = new byte[56 * 56 * 3];
        Arrays.fill(rgb, (byte) 200);
        for (int i = 0; i < 56 * 56; i++) {
            rgb[3 * i] = (byte) 255; // R=255, G=B=200
        }
        LabeledImage img = decoder.decode(ImageEncoder.encode(rgb, 56, 56, 3, Encoding.RAW),
                ImageEncoder.headers(1, Encoding.RAW, 56, 56, 3, null, -1));
        assertEquals(28, img.height());
        float lum = (0.299f * 255 + 0.587f * 200 + 0.114f * 200) / 255f;
        for (float v : img.pixels()) {
            assertEquals(lum, v, 1e-5);
        }
        // and RGB PNG → 3×32×32 keeps the channels
        ImageDecoder rgbDecoder = new ImageDecoder(DecodePolicy.rgb32());
        LabeledImage c = rgbDecoder.decode(ImageEncoder.encode(rgb, 56, 56, 3, Encoding.PNG),
                ImageEncoder.headers(1, Encoding.PNG, 56, 56, 3, null, -1));
        assertEquals(3, c.channels());
        assertEquals(1f, c.pixels()[0], 1e-6);
        assertEquals(200 / 255f, c.pixels()[32 * 32], 1e-6);
    }

    @Test
    void testBilinearResizeOfAConstantAndARamp() {
        float[] ramp = {0, 1, 2, 3};
        ImageDecoder.Planes up = ImageDecoder.resize(new ImageDecoder.Planes(1, 1, 4, ramp), 1, 8);
        // half-pixel centres: x_src = (x+0.5)/2 − 0.5, clamped at 0
        assertArrayEquals(new float[] {0, 0.25f, 0.75f, 1.25f, 1.75f, 2.25f, 2.75f, 3}, up.data(), 1e-6f);
    }

    // one test per dead-letter class

    @Test
    void testEmptyValue() {
        assertEquals(DecodeError.EMPTY_VALUE, fails(new byte[0], headers("label", "1")));
        assertEquals(DecodeError.EMPTY_VALUE, fails(null, headers("label", "1")));
    }

    @Test
    void testOversizeValueAndDeclaredDimensions() {
        ImageDecoder small = new ImageDecoder(DecodePolicy.fashionMnist().withMaxBytes(100));
        DecodeException e = assertThrows(DecodeException.class, () -> small.decode(new byte[101], headers("label", "1")));
        assertEquals(DecodeError.OVERSIZE, e.errorClass());
        assertTrue(e.getMessage().contains("101 bytes exceeds the limit of 100"), e.getMessage());
        // a tiny PNG whose header claims 50000×50000 is refused before any allocation
        byte[] png = ImageEncoder.encode(grayPixels(4, 4, 3), 4, 4, 1, Encoding.PNG);
        byte[] forged = png.clone();
        java.nio.ByteBuffer.wrap(forged).putInt(16, 50000).putInt(20, 50000); // IHDR width/height
        assertEquals(DecodeError.OVERSIZE, fails(forged, headers("label", "1", "content-type", "image/png")));
    }

    @Test
    void testMissingLabel() {
        assertEquals(DecodeError.MISSING_LABEL, fails(new byte[] {1}, headers("content-type", "image/png")));
        assertEquals(DecodeError.MISSING_LABEL, fails(new byte[] {1}, headers("label", null)));
    }

    @Test
    void testNonIntegerLabel() {
        assertEquals(DecodeError.INVALID_LABEL, fails(new byte[] {1}, headers("label", "three")));
        assertEquals(DecodeError.INVALID_LABEL, fails(new byte[] {1}, headers("label", "3.0")));
    }

    @Test
    void testOutOfRangeLabel() {
        assertEquals(DecodeError.LABEL_OUT_OF_RANGE, fails(new byte[] {1}, headers("label", "10")));
        assertEquals(DecodeError.LABEL_OUT_OF_RANGE, fails(new byte[] {1}, headers("label", "-1")));
    }

    @Test
    void testInvalidTimestamp() {
        assertEquals(DecodeError.INVALID_TIMESTAMP, fails(new byte[] {1}, headers("label", "1", "ts", "yesterday")));
    }

    @Test
    void testUnknownContentType() {
        assertEquals(DecodeError.UNKNOWN_CONTENT_TYPE, fails(new byte[] {1, 2}, headers("label", "1", "content-type", "image/gif")));
        assertEquals(DecodeError.UNKNOWN_CONTENT_TYPE, fails(new byte[] {1, 2}, headers("label", "1")));
    }

    @Test
    void testRawShapeProblems() {
        Headers noShape = headers("label", "1", "content-type", "application/x-raw-u8");
        assertEquals(DecodeError.INVALID_SHAPE, fails(new byte[784], noShape));
        assertEquals(DecodeError.INVALID_SHAPE, fails(new byte[784], headers("label", "1", "content-type",
                "application/x-raw-u8", "shape", "28x28")));
        assertEquals(DecodeError.RAW_SIZE_MISMATCH, fails(new byte[783], headers("label", "1", "content-type",
                "application/x-raw-u8", "shape", "28x28x1")));
    }

    @Test
    void testUndecodableAndTruncatedImages() {
        assertEquals(DecodeError.UNDECODABLE_IMAGE, fails("not a png".getBytes(StandardCharsets.UTF_8),
                headers("label", "1", "content-type", "image/png")));
        byte[] png = ImageEncoder.encode(grayPixels(28, 28, 4), 28, 28, 1, Encoding.PNG);
        assertEquals(DecodeError.UNDECODABLE_IMAGE, fails(Arrays.copyOf(png, png.length / 2), headers("label", "1")));
        byte[] jpg = ImageEncoder.encode(grayPixels(28, 28, 4), 28, 28, 1, Encoding.JPEG);
        assertEquals(DecodeError.UNDECODABLE_IMAGE, fails(Arrays.copyOf(jpg, jpg.length * 2 / 3), headers("label", "1")));
    }

    @Test
    void testExactPoliciesRefuseOtherSizesAndChannels() {
        ImageDecoder exact = new ImageDecoder(DecodePolicy.fashionMnist().withSize(DecodePolicy.SizePolicy.EXACT)
                .withChannelPolicy(DecodePolicy.ChannelPolicy.EXACT));
        DecodeException e = assertThrows(DecodeException.class, () -> exact.decode(new byte[32 * 32],
                ImageEncoder.headers(1, Encoding.RAW, 32, 32, 1, null, -1)));
        assertEquals(DecodeError.WRONG_SIZE, e.errorClass());
        e = assertThrows(DecodeException.class, () -> exact.decode(new byte[28 * 28 * 3],
                ImageEncoder.headers(1, Encoding.RAW, 28, 28, 3, null, -1)));
        assertEquals(DecodeError.WRONG_CHANNELS, e.errorClass());
    }

    @Test
    void testFuzzEveryRecordIsDecodedOrClassified() {
        Random rnd = new Random(2026);
        byte[] png = ImageEncoder.encode(grayPixels(28, 28, 5), 28, 28, 1, Encoding.PNG);
        byte[] jpg = ImageEncoder.encode(grayPixels(28, 28, 5), 28, 28, 1, Encoding.JPEG);
        int decoded = 0;
        int failed = 0;
        for (int i = 0; i < 12_000; i++) {
            FuzzRecords.Record r = FuzzRecords.next(rnd, png, jpg);
            try {
                LabeledImage img = decoder.decode(r.value(), r.headers());
                assertEquals(784, img.pixels().length);
                decoded++;
            } catch (DecodeException e) {
                assertTrue(e.getMessage() != null && !e.getMessage().isBlank());
                failed++;
            }
        }
        assertEquals(12_000, decoded + failed);
        assertTrue(decoded > 1000 && failed > 1000, "fuzz mix should hit both outcomes: " + decoded + "/" + failed);
    }
}
