package l0stream.pipeline;

import l0stream.connectors.dataset.ImageDataset;
import l0stream.connectors.dataset.SyntheticImages;
import l0stream.connectors.image.ImageEncoder;
import l0stream.connectors.image.ImageEncoder.Encoding;
import l0stream.connectors.kafka.CheckedSends;
import l0stream.connectors.kafka.KafkaTestBroker;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.nio.charset.StandardCharsets;

/**
 * What the job tests feed the job: {@code valid} labeled 28×28 synthetic images, with an unlabeled
 * (malformed) record after every 30th valid one until {@code invalid} were sent, all acknowledged
 * by the test broker before it returns.
 */
public final class TestImageStream {

    private TestImageStream() {}

    /**
     * @param partitions 0: the producer's partitioner decides; n: record i goes to partition i mod n
     * @param perSecond  0: as fast as the broker takes them; else about this many valid records per second
     */
    public static void produce(String topic, int valid, int invalid, long seed, int partitions, int perSecond) {
        ImageDataset data = SyntheticImages.generate(valid, seed);
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(KafkaTestBroker.producerProps())) {
            CheckedSends<byte[], byte[]> sends = new CheckedSends<>(p);
            long start = System.nanoTime();
            for (int i = 0; i < valid; i++) {
                sends.send(new ProducerRecord<byte[], byte[]>(topic, partition(i, partitions), null, (byte[]) null,
                        ImageEncoder.encode(data.image(i), 28, 28, 1, Encoding.RAW),
                        ImageEncoder.headers(data.labels()[i], Encoding.RAW, 28, 28, 1, "r" + i, -1)));
                if (i % 30 == 0 && i / 30 < invalid) {
                    RecordHeaders h = new RecordHeaders();
                    h.add("content-type", "image/png".getBytes(StandardCharsets.UTF_8)); // and no label
                    sends.send(new ProducerRecord<byte[], byte[]>(topic, partition(i / 30, partitions), null, (byte[]) null,
                            new byte[] {1, 2, 3}, h));
                }
                if (perSecond > 0) {
                    long wait = start + (long) ((i + 1) * 1e9 / perSecond) - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                }
            }
            sends.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Integer partition(int i, int partitions) {
        return partitions == 0 ? null : i % partitions;
    }
}
