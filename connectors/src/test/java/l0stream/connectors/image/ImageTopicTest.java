package l0stream.connectors.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.connectors.image.ImageEncoder.Encoding;
import l0stream.connectors.kafka.CheckedSends;
import l0stream.connectors.kafka.KafkaTestBroker;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/** The wire format against the real broker: kcat interop, and the fuzz test end to end with dead letters. */
@ExtendWith(KafkaTestBroker.class)
class ImageTopicTest {

    private static List<ConsumerRecord<byte[], byte[]>> consume(String topic, int expected, Duration timeout) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(KafkaTestBroker.consumerProps("g-" + topic))) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (out.size() < expected && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            // one more poll: anything beyond `expected` would be a duplicate
            c.poll(Duration.ofMillis(300)).forEach(out::add);
        }
        return out;
    }

    @Test
    void testKcatProducedPngDecodes() throws Exception {
        String topic = KafkaTestBroker.newTopic("kcat-images", 1);
        byte[] px = ImageDecoderTest.grayPixels(28, 28, 42);
        Path png = Files.createTempFile("shirt", ".png");
        Files.write(png, ImageEncoder.encode(px, 28, 28, 1, Encoding.PNG));
        // Exactly the README's example: one file argument = one message, metadata in headers.
        Process p = new ProcessBuilder("kcat", "-P", "-b", KafkaTestBroker.bootstrap(), "-t", topic,
                "-H", "label=3", "-H", "content-type=image/png", png.toString())
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "kcat did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "kcat failed (is the Debian package 'kcat' installed?): " + out);

        List<ConsumerRecord<byte[], byte[]>> recs = consume(topic, 1, Duration.ofSeconds(30));
        assertEquals(1, recs.size());
        LabeledImage img = new ImageDecoder(DecodePolicy.fashionMnist()).decode(recs.get(0).value(), recs.get(0).headers());
        assertEquals(3, img.label());
        float[] expected = new float[px.length];
        for (int i = 0; i < px.length; i++) {
            expected[i] = (px[i] & 0xff) / 255f;
        }
        assertArrayEquals(expected, img.pixels(), 1e-7f);
        Files.deleteIfExists(png);
    }

    @Test
    void testFuzzThroughTheBrokerNothingDroppedNothingCrashes() {
        String topic = KafkaTestBroker.newTopic("fuzz-images", 2);
        String dlq = DeadLetters.topicFor(topic);
        l0stream.connectors.kafka.Topics.ensure(KafkaTestBroker.admin(), dlq, 1, Map.of(), Duration.ofSeconds(30));
        int n = 10_000;
        Random rnd = new Random(7);
        byte[] png = ImageEncoder.encode(ImageDecoderTest.grayPixels(28, 28, 5), 28, 28, 1, Encoding.PNG);
        byte[] jpg = ImageEncoder.encode(ImageDecoderTest.grayPixels(28, 28, 5), 28, 28, 1, Encoding.JPEG);
        Map<Integer, byte[]> sentValues = new HashMap<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaTestBroker.producerProps())) {
            CheckedSends<byte[], byte[]> sends = new CheckedSends<>(producer);
            for (int i = 0; i < n; i++) {
                FuzzRecords.Record r = FuzzRecords.next(rnd, png, jpg);
                sentValues.put(i, r.value());
                sends.send(new ProducerRecord<>(topic, null, ByteBuffer.allocate(4).putInt(i).array(), r.value(), r.headers()));
            }
            sends.flush();
        }
        // the consuming side: decode or dead-letter every record
        ImageDecoder decoder = new ImageDecoder(DecodePolicy.fashionMnist());
        DeadLetters deadLetters = new DeadLetters();
        int[] outcome = new int[n];
        List<ConsumerRecord<byte[], byte[]>> input = consume(topic, n, Duration.ofSeconds(60));
        assertEquals(n, input.size(), "input records consumed");
        int decoded = 0;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(KafkaTestBroker.producerProps())) {
            CheckedSends<byte[], byte[]> sends = new CheckedSends<>(producer);
            for (ConsumerRecord<byte[], byte[]> r : input) {
                int id = ByteBuffer.wrap(r.key()).getInt();
                DecodedRecord d = DecodedRecord.decode(decoder, r.topic(), r.partition(), r.offset(), r.key(), r.value(), r.headers());
                if (d.isDeadLetter()) {
                    deadLetters.deadLetter(topic, r.partition(), r.offset(), r.key(), r.value(), r.headers(),
                            new DecodeException(DecodeError.fromId(d.errorClass()), d.error()));
                    sends.send(d.toDeadLetter());
                    outcome[id] += 10;
                } else {
                    outcome[id] += 1;
                    decoded++;
                }
            }
            sends.flush();
        }
        List<ConsumerRecord<byte[], byte[]>> dead = consume(dlq, (int) deadLetters.total(), Duration.ofSeconds(60));
        assertEquals(deadLetters.total(), dead.size(), "dead letters on " + dlq);
        assertEquals(n, decoded + dead.size(), "every record decoded or dead-lettered");
        for (ConsumerRecord<byte[], byte[]> r : dead) {
            int id = ByteBuffer.wrap(r.key()).getInt();
            assertEquals(10, outcome[id], "record " + id + " dead-lettered exactly once");
            assertArrayEquals(sentValues.get(id), r.value() == null ? new byte[0] : r.value(), "original value kept");
            assertNotNull(r.headers().lastHeader("error"));
            String cls = new String(r.headers().lastHeader("error-class").value(), StandardCharsets.UTF_8);
            assertTrue(deadLetters.snapshot().containsKey(cls), cls);
            assertEquals(topic, new String(r.headers().lastHeader("source-topic").value(), StandardCharsets.UTF_8));
        }
        for (int i = 0; i < n; i++) {
            assertTrue(outcome[i] == 1 || outcome[i] == 10, "record " + i + " outcome " + outcome[i]);
        }
        System.out.printf("fuzz: %d decoded, %d dead-lettered %s%n", decoded, dead.size(), deadLetters.snapshot());
    }
}
