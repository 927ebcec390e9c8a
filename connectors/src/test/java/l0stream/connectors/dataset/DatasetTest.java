package l0stream.connectors.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.connectors.image.DecodePolicy;
import l0stream.connectors.image.ImageDecoder;
import l0stream.connectors.image.ImageEncoder.Encoding;
import l0stream.connectors.image.LabeledImage;
import l0stream.connectors.kafka.KafkaTestBroker;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.zip.GZIPOutputStream;

@ExtendWith(KafkaTestBroker.class)
class DatasetTest {

    /** Writes a tiny Fashion-MNIST-format test split: n images of 28×28 whose pixels encode their index. */
    static void writeIdx(Path dir, String prefix, int n) throws IOException {
        try (OutputStream f = Files.newOutputStream(dir.resolve(prefix + "-images-idx3-ubyte.gz"));
             DataOutputStream out = new DataOutputStream(new GZIPOutputStream(f))) {
            out.writeInt(0x803);
            out.writeInt(n);
            out.writeInt(28);
            out.writeInt(28);
            for (int i = 0; i < n; i++) {
                for (int p = 0; p < 784; p++) {
                    out.writeByte((i * 7 + p) & 0xff);
                }
            }
        }
        try (OutputStream f = Files.newOutputStream(dir.resolve(prefix + "-labels-idx1-ubyte"))) {
            DataOutputStream out = new DataOutputStream(f);
            out.writeInt(0x801);
            out.writeInt(n);
            for (int i = 0; i < n; i++) {
                out.writeByte(i % 10);
            }
        }
    }

    @Test
    void testIdxReaderOnSelfMadeFiles(@TempDir Path dir) throws IOException {
        writeIdx(dir, "t10k", 30);
        assertTrue(FashionMnist.available(dir, FashionMnist.Split.TEST));
        ImageDataset d = FashionMnist.load(dir, FashionMnist.Split.TEST);
        assertEquals(30, d.count());
        assertEquals(7, d.labels()[17]);
        assertEquals((byte) ((17 * 7 + 100) & 0xff), d.image(17)[100]);
        IOException e = assertThrows(IOException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN));
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
    }

    @Test
    void testRealFashionMnistWhenInstalled() throws IOException {
        Path dir = Path.of(FashionMnist.DEFAULT_DIR);
        // bin/l0stream test installs the Debian package; on machines without it this check is moot.
        org.junit.jupiter.api.Assumptions.assumeTrue(FashionMnist.available(dir, FashionMnist.Split.TEST),
                "dataset-fashion-mnist is not installed");
        ImageDataset d = FashionMnist.load(dir, FashionMnist.Split.TEST);
        assertEquals(10_000, d.count());
        int[] perClass = new int[10];
        for (int l : d.labels()) {
            perClass[l]++;
        }
        assertArrayEquals(new int[] {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}, perClass);
    }

    @Test
    void testImageFolderReadsLabelledPngAndJpeg(@TempDir Path dir) throws IOException {
        for (int label : new int[] {2, 7}) {
            Files.createDirectories(dir.resolve(Integer.toString(label)));
            byte[] px = new byte[40 * 40 * 3];
            java.util.Arrays.fill(px, (byte) (label * 20));
            Files.write(dir.resolve(label + "/a.png"), l0stream.connectors.image.ImageEncoder.encode(px, 40, 40, 3, Encoding.PNG));
            Files.write(dir.resolve(label + "/b.jpg"), l0stream.connectors.image.ImageEncoder.encode(px, 40, 40, 3, Encoding.JPEG));
        }
        ImageDataset d = ImageFolder.load(dir, DecodePolicy.fashionMnist());
        assertEquals(4, d.count());
        assertEquals(28, d.height());
        assertArrayEquals(new int[] {2, 2, 7, 7}, d.labels());
        assertEquals(140, d.image(2)[0] & 0xff, 2); // gray 140 survives resize + luminance (+ JPEG)
        Files.write(dir.resolve("7/broken.png"), new byte[] {1, 2, 3});
        IOException e = assertThrows(IOException.class, () -> ImageFolder.load(dir, DecodePolicy.fashionMnist()));
        assertTrue(e.getMessage().contains("broken.png (undecodable-image)"), e.getMessage());
    }

    @Test
    void testScenarios() {
        ImageDataset d = SyntheticImages.generate(500, 3);
        DriftScenario.Stream ci = new DriftScenario.Stream(DriftScenario.CLASS_INCREMENTAL, d, 100, 1);
        for (int i = 0; i < 300; i++) {
            DriftScenario.Example e = ci.next();
            assertTrue(i < 100 ? e.label() < 5 : e.label() >= 5, "record " + i + " label " + e.label());
            assertEquals(i >= 100, e.afterSwitch());
        }
        DriftScenario.Stream perm = new DriftScenario.Stream(DriftScenario.LABEL_PERMUTE, d, 50, 1);
        int[] p = perm.permutation();
        for (int i = 0; i < 10; i++) {
            assertNotEquals(i, p[i], "a permutation without fixed points");
        }
        for (int i = 0; i < 200; i++) {
            DriftScenario.Example e = perm.next();
            int original = d.labels()[e.sourceIndex()];
            assertEquals(i < 50 ? original : p[original], e.label());
        }
        byte[] img = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        // 1 2 3 / 4 5 6 / 7 8 9 rotated clockwise → 7 4 1 / 8 5 2 / 9 6 3
        assertArrayEquals(new byte[] {7, 4, 1, 8, 5, 2, 9, 6, 3}, DriftScenario.rotate90(img, 3, 3, 1));
        assertThrows(IllegalArgumentException.class, () -> DriftScenario.parse("sideways", "--scenario"));
    }

    @Test
    void testReplayProducerWritesDecodableRecordsWithTheScenario() throws Exception {
        String topic = KafkaTestBroker.newTopic("replay", 2);
        ImageDataset d = SyntheticImages.generate(200, 4);
        Properties client = new Properties();
        client.put("bootstrap.servers", KafkaTestBroker.bootstrap());
        ReplayProducer.Summary s = new ReplayProducer().run(d, new ReplayProducer.Options(client, topic, 2, 400, 0,
                DriftScenario.CLASS_INCREMENTAL, 150, Encoding.PNG, 9), null);
        assertEquals(400, s.acknowledged());
        assertEquals(250, s.afterSwitch());
        List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(KafkaTestBroker.consumerProps("g-" + topic))) {
            c.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 30_000;
            while (got.size() < 400 && System.currentTimeMillis() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(got::add);
            }
        }
        assertEquals(400, got.size());
        ImageDecoder decoder = new ImageDecoder(DecodePolicy.fashionMnist());
        int low = 0;
        for (ConsumerRecord<byte[], byte[]> r : got) {
            LabeledImage img = decoder.decode(r.value(), r.headers());
            low += img.label() < 5 ? 1 : 0;
            assertTrue(img.id().startsWith("synthetic-"));
        }
        assertEquals(150, low, "classes 0-4 exactly before the switch");
    }

    /** The validation split: disjoint from what is kept, together all of it, the same draw for the same seed. */
    @Test
    void testHoldOutIsADeterministicPartition() {
        int n = 200;
        byte[] px = new byte[n * 4];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            px[i * 4] = (byte) i; // image i carries its index in its first byte
            y[i] = i % 10;
        }
        ImageDataset d = new ImageDataset("toy", n, 2, 2, 1, px, y);
        ImageDataset.Split s = d.holdOut(30, 15);
        assertEquals(170, s.kept().count());
        assertEquals(30, s.heldOut().count());
        assertEquals("toy-validation", s.heldOut().name());
        boolean[] seen = new boolean[n];
        for (ImageDataset part : List.of(s.kept(), s.heldOut())) {
            for (int k = 0; k < part.count(); k++) {
                int i = part.image(k)[0] & 0xff;
                assertTrue(!seen[i], "image " + i + " in both parts");
                seen[i] = true;
                assertEquals(i % 10, part.labels()[k], "label travels with its image");
            }
        }
        for (boolean b : seen) {
            assertTrue(b, "every image is in one part");
        }
        assertArrayEquals(s.heldOut().pixels(), d.holdOut(30, 15).heldOut().pixels(), "same seed, same split");
        assertNotEquals(java.util.Arrays.toString(s.heldOut().pixels()), java.util.Arrays.toString(d.holdOut(30, 16).heldOut().pixels()));
        assertThrows(IllegalArgumentException.class, () -> d.holdOut(200, 1));
    }
}
