package l0stream.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.connectors.kafka.KafkaTestBroker;
import l0stream.connectors.kafka.Topics;
import l0stream.pipeline.L0StreamJob;
import l0stream.pipeline.PipelineConfig;

import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code topics create} on the real broker (which, like the local one, does not auto-create
 * topics): the job's three topics with the job's settings, idempotent, and an existing snapshot
 * topic too small for a chunk refused naming {@code chunk-bytes}.
 */
@ExtendWith(KafkaTestBroker.class)
class TopicsCommandTest {

    private static PipelineConfig config(String in, String snapshots, int chunkBytes) {
        return PipelineConfig.from(Map.of("bootstrap", KafkaTestBroker.bootstrap(), "input-topic", in, "snapshot-topic", snapshots,
                "input-partitions", "3", "chunk-bytes", Integer.toString(chunkBytes), "allow-unsigned", "true"));
    }

    @Test
    void testCreatesTheJobsTopicsWithTheJobsSettingsOnce() {
        String in = "topics-in-" + System.nanoTime();
        String snaps = "topics-snap-" + System.nanoTime();
        PipelineConfig cfg = config(in, snaps, 256 * 1024);
        List<L0StreamJob.TopicState> first = L0StreamJob.ensureTopics(cfg);
        assertEquals(List.of(in, in + ".dlq", snaps), first.stream().map(L0StreamJob.TopicState::name).toList());
        assertTrue(first.stream().allMatch(L0StreamJob.TopicState::created), first.toString());
        assertEquals(3, first.get(0).partitions());
        assertEquals(Integer.toString(256 * 1024 + (1 << 20)),
                Topics.config(KafkaTestBroker.admin(), snaps, "max.message.bytes", Duration.ofSeconds(30)));
        List<L0StreamJob.TopicState> again = L0StreamJob.ensureTopics(cfg);
        assertTrue(again.stream().noneMatch(L0StreamJob.TopicState::created), again.toString());
        // the command line does the same, and says so
        TopicsCommand.main(new String[] {"create", "--bootstrap", KafkaTestBroker.bootstrap(), "--input-topic", in,
            "--snapshot-topic", snaps, "--input-partitions", "3"});
    }

    @Test
    void testAnExistingSnapshotTopicTooSmallForAChunkIsRefusedNamingTheKey() throws Exception {
        String snaps = "topics-small-" + System.nanoTime();
        KafkaTestBroker.admin().createTopics(List.of(new NewTopic(snaps, 1, (short) 1)
                .configs(Map.of("max.message.bytes", "200000")))).all().get();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> L0StreamJob.ensureTopics(config("topics-in2-" + System.nanoTime(), snaps, 512 * 1024)));
        assertTrue(e.getMessage().contains("chunk-bytes") && e.getMessage().contains(snaps), e.getMessage());
    }
}
