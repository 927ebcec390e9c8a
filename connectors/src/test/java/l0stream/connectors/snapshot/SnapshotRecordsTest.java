package l0stream.connectors.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.connectors.kafka.CheckedSends;
import l0stream.connectors.kafka.KafkaTestBroker;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;

@ExtendWith(KafkaTestBroker.class)
class SnapshotRecordsTest {

    static byte[] artifact(int size, long seed) {
        byte[] a = new byte[size];
        new Random(seed).nextBytes(a);
        return a;
    }

    static SnapshotManifest manifest(String model, long version, byte[] artifact, int chunkBytes) {
        Map<String, Integer> open = new LinkedHashMap<>();
        open.put("layer0", 13);
        open.put("layer1", 35);
        return new SnapshotManifest(1, model, version, version - 1, version * 100, version * 6400,
                1_700_000_000_000L + version, Map.of("images-0", version * 6400), open, 1.5e6, 0.9e6, 4e5, 1e4, 2.3e6,
                0.81, artifact.length, SnapshotRecord.sha256Hex(artifact),
                SnapshotRecord.chunksFor(artifact.length, chunkBytes));
    }

    private static List<ProducerRecord<byte[], byte[]>> records(String topic, SnapshotManifest m, byte[] a) {
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
        for (SnapshotRecord r : SnapshotRecord.of(m, a)) {
            out.add(r.toProducerRecord(topic));
        }
        return out;
    }

    private static List<VerifiedSnapshot> feed(SnapshotAssembler asm, List<ProducerRecord<byte[], byte[]>> recs) {
        List<VerifiedSnapshot> out = new ArrayList<>();
        for (ProducerRecord<byte[], byte[]> r : recs) {
            out.addAll(asm.accept(r.key(), r.value(), r.headers()));
        }
        return out;
    }

    @Test
    void testManifestJsonRoundTripAndValidation() throws Exception {
        byte[] a = artifact(1000, 1);
        SnapshotManifest m = manifest("m", 3, a, 300);
        assertEquals(4, m.chunkCount());
        SnapshotManifest back = SnapshotManifest.fromJson(m.toJson());
        assertEquals(m, back);
        assertEquals(List.of("layer0", "layer1"), new ArrayList<>(back.openChannels().keySet()));
        String json = new String(m.toJson(), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"artifactSha256\":\"" + m.artifactSha256() + "\""), json);
        InvalidSnapshotException e = assertThrows(InvalidSnapshotException.class, () -> SnapshotManifest.fromJson(
                json.replace("\"version\":3", "\"version\":0").getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("for version"), e.getMessage());
        e = assertThrows(InvalidSnapshotException.class, () -> SnapshotManifest.fromJson(
                json.replace("\"manifestVersion\":1", "\"manifestVersion\":2").getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("manifestVersion"), e.getMessage());
        // unknown fields from a newer writer are ignored
        SnapshotManifest.fromJson(json.replace("{", "{\"future\":1,").getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void testLostDuplicatedReorderedAndCorruptChunks() {
        SnapshotAssembler asm = new SnapshotAssembler();
        byte[] a1 = artifact(5000, 1), a2 = artifact(5000, 2), a3 = artifact(5000, 3), a4 = artifact(5000, 4), a5 = artifact(4000, 5);
        List<ProducerRecord<byte[], byte[]>> v1 = records("t", manifest("m", 1, a1, 1000), a1);
        v1.remove(3); // chunk 3/5 lost
        List<ProducerRecord<byte[], byte[]>> v2 = records("t", manifest("m", 2, a2, 1000), a2);
        v2.add(2, v2.get(2)); // chunk 2 duplicated
        List<ProducerRecord<byte[], byte[]>> v3 = records("t", manifest("m", 3, a3, 1000), a3);
        Collections.shuffle(v3, new Random(9)); // reordered, manifest anywhere
        List<ProducerRecord<byte[], byte[]>> v4 = records("t", manifest("m", 4, a4, 1000), a4);
        v4.get(2).value()[10] ^= 1; // corrupt chunk
        List<ProducerRecord<byte[], byte[]>> v5 = records("t", manifest("m", 5, a5, 1000), a5);
        List<VerifiedSnapshot> got = new ArrayList<>();
        got.addAll(feed(asm, v1));
        got.addAll(feed(asm, v2));
        got.addAll(feed(asm, v3));
        got.addAll(feed(asm, v4));
        got.addAll(feed(asm, v5));
        got.addAll(feed(asm, v2)); // redelivery of an old version
        assertEquals(List.of(2L, 3L, 5L), got.stream().map(s -> s.manifest().version()).toList());
        assertArrayEquals(a3, got.get(1).artifact());
        assertEquals(1, asm.incomplete(), asm.problems().toString());
        assertEquals(1, asm.corrupt(), asm.problems().toString());
        assertTrue(asm.stale() > 0);
        assertTrue(asm.problems().get(0).contains("v1 refused (incomplete): superseded by v2 while missing 1 of 5 chunks"), asm.problems().toString());
        assertTrue(asm.problems().get(1).contains("v4 refused (artifact-mismatch): artifact SHA-256"), asm.problems().toString());
    }

    @Test
    void testSnapshotsThroughTheBrokerFiveMegabytesLostDuplicatedReordered() {
        String topic = KafkaTestBroker.newTopic("snapshots", 1);
        byte[] big = artifact(5 * 1024 * 1024, 11);
        SnapshotManifest m1 = manifest("lenet", 1, big, SnapshotRecord.DEFAULT_CHUNK_BYTES);
        assertEquals(10, m1.chunkCount());
        byte[] small = artifact(300_000, 12);
        SnapshotManifest m2 = manifest("lenet", 2, small, SnapshotRecord.DEFAULT_CHUNK_BYTES);
        byte[] last4;
        Properties p = KafkaTestBroker.producerProps();
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "snap-test-" + topic);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            CheckedSends<byte[], byte[]> sends = new CheckedSends<>(producer);
            producer.beginTransaction();
            records(topic, m1, big).forEach(sends::send);
            producer.commitTransaction();
            // an aborted attempt must be invisible to read_committed
            producer.beginTransaction();
            records(topic, manifest("lenet", 2, artifact(1000, 99), 512), artifact(1000, 99)).forEach(sends::send);
            sends.flush(); // written and acknowledged, then aborted: read_committed must never see it
            producer.abortTransaction();
            producer.beginTransaction();
            records(topic, m2, small).forEach(sends::send);
            producer.commitTransaction();
            // v3 loses chunk 2; v4 arrives reordered with a duplicated chunk
            byte[] a3 = artifact(2_000_000, 13);
            List<ProducerRecord<byte[], byte[]>> v3 = records(topic, manifest("lenet", 3, a3, SnapshotRecord.DEFAULT_CHUNK_BYTES), a3);
            v3.remove(2);
            byte[] a4 = artifact(2_000_000, 14);
            List<ProducerRecord<byte[], byte[]>> v4 = records(topic, manifest("lenet", 4, a4, SnapshotRecord.DEFAULT_CHUNK_BYTES), a4);
            v4.add(v4.get(1));
            Collections.shuffle(v4, new Random(3));
            producer.beginTransaction();
            v3.forEach(sends::send);
            v4.forEach(sends::send);
            producer.commitTransaction();
            sends.flush();
            last4 = a4;
        }
        Properties c = new Properties();
        c.put("bootstrap.servers", KafkaTestBroker.bootstrap());
        try (SnapshotReader reader = new SnapshotReader(c, topic)) {
            List<VerifiedSnapshot> got = reader.pollUntil(3, Duration.ofSeconds(60));
            assertEquals(List.of(1L, 2L, 4L), got.stream().map(v -> v.manifest().version()).toList());
            assertEquals(m1, got.get(0).manifest());
            assertArrayEquals(big, got.get(0).artifact());
            assertArrayEquals(small, got.get(1).artifact());
            assertArrayEquals(last4, got.get(2).artifact());
            assertEquals(0, reader.assembler().corrupt(), reader.assembler().problems().toString());
            assertEquals(1, reader.assembler().incomplete(), "v3 lost a chunk: " + reader.assembler().problems());
        }
    }
}
