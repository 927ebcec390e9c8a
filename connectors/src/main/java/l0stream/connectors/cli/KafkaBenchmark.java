package l0stream.connectors.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import l0stream.connectors.dataset.FashionMnist;
import l0stream.connectors.dataset.ImageDataset;
import l0stream.connectors.dataset.SyntheticImages;
import l0stream.connectors.image.DecodeException;
import l0stream.connectors.image.DecodePolicy;
import l0stream.connectors.image.ImageDecoder;
import l0stream.connectors.image.ImageEncoder;
import l0stream.connectors.image.ImageEncoder.Encoding;
import l0stream.connectors.kafka.CheckedSends;
import l0stream.connectors.kafka.KafkaClientConfig;
import l0stream.connectors.kafka.LocalKafkaBroker;
import l0stream.connectors.kafka.Topics;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

/**
 * {@code l0stream bench kafka}: Fashion-MNIST-sized image records through the real broker, PNG
 * and raw, in one run: produce rate, consume rate (read_committed, no decoding) and decode rate
 * (single thread), records/s and MB/s. Starts its own broker unless {@code --bootstrap} is given.
 */
public final class KafkaBenchmark {

    /** LeNet training rate on this machine class (shared/STACK.md), the yardstick for decoding. */
    static final double TRAINING_IMAGES_PER_S = 1700;

    private KafkaBenchmark() {}

    public static void main(String[] argv) throws Exception {
        Args a = Args.parse(argv, List.of("--records", "--bootstrap", "--data-dir", "--kafka-config", "--kafka-property"),
                List.of("--json"));
        int n = a.intValue("--records", 20_000, 1);
        ImageDataset data;
        Path dir = Path.of(a.string("--data-dir", FashionMnist.DEFAULT_DIR));
        if (FashionMnist.available(dir, FashionMnist.Split.TEST)) {
            data = FashionMnist.load(dir, FashionMnist.Split.TEST);
        } else {
            System.err.println("bench kafka: Fashion-MNIST not installed, using synthetic 28x28 images");
            data = SyntheticImages.generate(10_000, 1);
        }
        LocalKafkaBroker broker = null;
        KafkaClientConfig client;
        if (a.string("--bootstrap", null) == null && a.string("--kafka-config", null) == null) {
            broker = LocalKafkaBroker.startTemporary(19192, 19193, 768, Duration.ofSeconds(90));
            client = KafkaClientConfig.of(broker.bootstrap(), null, a.strings("--kafka-property"));
        } else {
            client = KafkaClientConfig.fromArgs(a);
        }
        String bootstrap = client.bootstrap();
        ObjectNode out = new ObjectMapper().createObjectNode();
        try {
            out.put("records", n);
            out.put("dataset", data.name());
            // Warm-up pass (JIT, broker page cache, client metadata) so that the first measured
            // encoding is not penalised for going first.
            run(client, data, Math.max(1, n / 5), Encoding.RAW, new ObjectMapper().createObjectNode());
            for (Encoding e : new Encoding[] {Encoding.PNG, Encoding.RAW}) {
                run(client, data, n, e, out);
            }
            double rawDecode = out.get("decode_records_per_s_raw").asDouble();
            out.put("decode_records_per_s", rawDecode);
            out.put("produce_records_per_s", out.get("produce_records_per_s_raw").asDouble());
            out.put("consume_records_per_s", out.get("consume_records_per_s_raw").asDouble());
            out.put("decode_over_training_raw", Math.round(rawDecode / TRAINING_IMAGES_PER_S * 10) / 10.0);
            out.put("decode_over_training_png", Math.round(out.get("decode_records_per_s_png").asDouble() / TRAINING_IMAGES_PER_S * 10) / 10.0);
        } finally {
            if (broker != null) {
                broker.close();
            }
        }
        System.out.printf(Locale.ROOT, "%nl0stream bench kafka — %,d %s records per encoding, broker %s%n", n, data.name(), bootstrap);
        System.out.printf(Locale.ROOT, "%-10s %14s %10s %14s %10s %14s%n", "encoding", "produce rec/s", "MB/s", "consume rec/s", "MB/s", "decode rec/s");
        for (String e : new String[] {"raw", "png"}) {
            System.out.printf(Locale.ROOT, "%-10s %,14.0f %10.1f %,14.0f %10.1f %,14.0f%n", e,
                    out.get("produce_records_per_s_" + e).asDouble(), out.get("produce_mb_per_s_" + e).asDouble(),
                    out.get("consume_records_per_s_" + e).asDouble(), out.get("consume_mb_per_s_" + e).asDouble(),
                    out.get("decode_records_per_s_" + e).asDouble());
        }
        System.out.printf(Locale.ROOT, "decode / LeNet training rate (%.0f img/s): raw %.1fx, png %.1fx  (target: raw >= 20x)%n",
                TRAINING_IMAGES_PER_S, out.get("decode_over_training_raw").asDouble(), out.get("decode_over_training_png").asDouble());
        if (a.flag("--json")) {
            System.out.println(new ObjectMapper().writeValueAsString(out));
        }
    }

    private static void run(KafkaClientConfig client, ImageDataset data, int n, Encoding enc, ObjectNode out) throws Exception {
        String suffix = enc.name().toLowerCase(Locale.ROOT);
        String topic = "bench-" + suffix + "-" + UUID.randomUUID().toString().substring(0, 8);
        Properties common = client.toProperties();
        try (Admin admin = Admin.create(common)) {
            Topics.ensure(admin, topic, 1, Map.of(), Duration.ofSeconds(30));
        }
        // Encode ahead of time: this measures Kafka, not the PNG encoder.
        List<byte[]> values = new ArrayList<>(n);
        List<org.apache.kafka.common.header.Headers> headers = new ArrayList<>(n);
        long bytes = 0;
        for (int i = 0; i < n; i++) {
            int k = i % data.count();
            byte[] v = ImageEncoder.encode(data.image(k), data.height(), data.width(), data.channels(), enc);
            values.add(v);
            headers.add(ImageEncoder.headers(data.labels()[k], enc, data.height(), data.width(), data.channels(), null, -1));
            bytes += v.length;
        }
        Properties p = new Properties();
        p.putAll(common);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(512 * 1024));
        long t0 = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            CheckedSends<byte[], byte[]> sends = new CheckedSends<>(producer);
            for (int i = 0; i < n; i++) {
                sends.send(new ProducerRecord<byte[], byte[]>(topic, null, (byte[]) null, values.get(i), headers.get(i)));
            }
            sends.flush();
        }
        double produceS = (System.nanoTime() - t0) / 1e9;
        Properties c = new Properties();
        c.putAll(common);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        c.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(64 << 20));
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(16 << 20));
        List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>(n);
        long t1 = System.nanoTime();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (got.size() < n && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(100)).forEach(got::add);
            }
        }
        double consumeS = (System.nanoTime() - t1) / 1e9;
        if (got.size() != n) {
            throw new IllegalStateException("consumed " + got.size() + " of " + n + " records from " + topic);
        }
        ImageDecoder decoder = new ImageDecoder(DecodePolicy.fashionMnist());
        // warm up the decoder (JIT, ImageIO registry) on a slice, then time all of it
        for (int i = 0; i < Math.min(n, 2000); i++) {
            decoder.decode(got.get(i).value(), got.get(i).headers());
        }
        long t2 = System.nanoTime();
        float sink = 0;
        for (ConsumerRecord<byte[], byte[]> r : got) {
            try {
                sink += decoder.decode(r.value(), r.headers()).label();
            } catch (DecodeException e) {
                throw new IllegalStateException("benchmark record failed to decode: " + e.getMessage(), e);
            }
        }
        double decodeS = (System.nanoTime() - t2) / 1e9;
        if (sink < 0) {
            System.out.print("");
        }
        out.put("produce_records_per_s_" + suffix, Math.round(n / produceS));
        out.put("produce_mb_per_s_" + suffix, Math.round(bytes / produceS / 1e5) / 10.0);
        out.put("consume_records_per_s_" + suffix, Math.round(n / consumeS));
        out.put("consume_mb_per_s_" + suffix, Math.round(bytes / consumeS / 1e5) / 10.0);
        out.put("decode_records_per_s_" + suffix, Math.round(n / decodeS));
        out.put("bytes_per_record_" + suffix, bytes / n);
    }
}
