package l0stream.pipeline;

import l0stream.connectors.flink.DeadLetterSerializationSchema;
import l0stream.connectors.flink.LabeledImageDeserializationSchema;
import l0stream.connectors.flink.SnapshotRecordSerializationSchema;
import l0stream.connectors.image.DecodedRecord;
import l0stream.connectors.kafka.Topics;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.function.UnaryOperator;

/**
 * The l0stream job graph:
 *
 * <pre>
 * KafkaSource(images, read_committed) → decode/validate ─┬→ continual trainer → snapshot publisher → KafkaSink(snapshots, EXACTLY_ONCE)
 *                                                         └→ dead letters → KafkaSink(images.dlq, EXACTLY_ONCE)
 * </pre>
 *
 * With {@code parallelism} p &gt; 1 the source, decoder and trainer run p-wide, chained, one input
 * split per trainer; the trainers average their parameters through the trainer's operator
 * coordinator every {@code merge-every-steps} steps, subtask 0 snapshots the merged models, and a
 * final merge at parallelism 1 averages the trainers' last parameters at the end of a bounded input:
 *
 * <pre>
 * … → decode/validate (p) → continual trainer (p) ⇄ averaging coordinator (JobManager)
 *        ├ merged snapshots (subtask 0) ─┐
 *        └ final parameters (side output) ┴→ final merge (1) → snapshot publisher → KafkaSink(snapshots)
 * </pre>
 *
 * Checkpoints are exactly-once; the sinks' transactions commit at checkpoint completion, so
 * readers with {@code isolation.level=read_committed} see each snapshot version once, in order.
 * docs/data-parallel-design.md explains why the merge path is consistent with checkpoints.
 */
public final class L0StreamJob {

    /** Kafka's default broker limit is 15 min; stay under it for any broker. */
    static final int TRANSACTION_TIMEOUT_MS = 10 * 60 * 1000;

    private L0StreamJob() {}

    /** One of the job's topics after {@link #ensureTopics}: whether this call created it, and its settings. */
    public record TopicState(String role, String name, int partitions, Map<String, String> configs, boolean created) {}

    /**
     * Creates the input, dead-letter and snapshot topics if missing and waits for their leaders.
     * An existing snapshot topic whose {@code max.message.bytes} cannot take a chunk fails here,
     * naming {@code chunk-bytes}, rather than at the first publish.
     */
    public static java.util.List<TopicState> ensureTopics(PipelineConfig cfg) {
        try (Admin admin = Admin.create(cfg.kafka().toProperties())) {
            Duration t = Duration.ofSeconds(60);
            java.util.List<TopicState> out = new java.util.ArrayList<>();
            boolean created = Topics.ensure(admin, cfg.inputTopic(), cfg.inputPartitions(), Map.of(), t);
            int inputPartitions = partitions(admin, cfg.inputTopic());
            out.add(new TopicState("input-topic", cfg.inputTopic(), inputPartitions, Map.of(), created));
            if (cfg.parallelism() > 1 && inputPartitions < cfg.parallelism()) {
                throw new IllegalArgumentException("Invalid value " + cfg.parallelism() + " for parallelism: topic "
                        + cfg.inputTopic() + " (input-topic) has " + inputPartitions + " partitions, and each data-parallel"
                        + " trainer needs one of its own (add partitions, or lower parallelism)");
            }
            created = Topics.ensure(admin, cfg.deadLetterTopic(), 1, Map.of(), t);
            out.add(new TopicState("dead-letter topic", cfg.deadLetterTopic(), 1, Map.of(), created));
            Map<String, String> snapshotConfigs = Map.of("max.message.bytes", Integer.toString(cfg.chunkBytes() + (1 << 20)));
            created = Topics.ensure(admin, cfg.snapshotTopic(), 1, snapshotConfigs, t);
            String max = Topics.config(admin, cfg.snapshotTopic(), "max.message.bytes", t);
            if (max != null && Long.parseLong(max) < cfg.chunkBytes() + (64L << 10)) {
                throw new IllegalArgumentException("Invalid value " + cfg.chunkBytes() + " for chunk-bytes: the existing topic "
                        + cfg.snapshotTopic() + " (snapshot-topic) takes records of at most " + max + " bytes (max.message.bytes);"
                        + " lower chunk-bytes or raise the topic's max.message.bytes");
            }
            out.add(new TopicState("snapshot-topic", cfg.snapshotTopic(), 1,
                    Map.of("max.message.bytes", max == null ? "?" : max), created));
            return out;
        }
    }

    private static int partitions(Admin admin, String topic) {
        try {
            return admin.describeTopics(java.util.List.of(topic)).allTopicNames().get(60, java.util.concurrent.TimeUnit.SECONDS)
                    .get(topic).partitions().size();
        } catch (Exception e) {
            throw new IllegalStateException("Cannot describe topic " + topic + ": " + e, e);
        }
    }

    /**
     * Adds the job to {@code env}.
     *
     * @param bounded      stop at the input offsets that are latest when the job starts (tests, demo)
     * @param beforeTrainer a hook applied to the decoded stream before the trainer (tests inject failures here)
     */
    public static void build(StreamExecutionEnvironment env, PipelineConfig cfg, boolean bounded,
                             UnaryOperator<DataStream<DecodedRecord>> beforeTrainer) {
        if (!cfg.signingKey().isEmpty()) {
            // fail here, naming the file, rather than in a restart loop on the task manager
            try {
                l0stream.connectors.trust.SnapshotSigner.load(java.nio.file.Path.of(cfg.signingKey()));
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("Invalid value " + cfg.signingKey() + " for signing-key: " + e.getMessage(), e);
            }
        }
        env.enableCheckpointing(cfg.checkpointIntervalMs(), CheckpointingMode.EXACTLY_ONCE);
        KafkaSourceBuilder<DecodedRecord> sb = KafkaSource.<DecodedRecord>builder()
                .setProperties(cfg.kafka().toProperties())
                .setBootstrapServers(cfg.bootstrap())
                .setTopics(cfg.inputTopic())
                .setGroupId("l0stream-" + cfg.modelId())
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new LabeledImageDeserializationSchema(cfg.decodePolicy()))
                .setProperty("isolation.level", "read_committed")
                .setProperty("commit.offsets.on.checkpoint", "true");
        if (bounded) {
            sb.setBounded(OffsetsInitializer.latest());
        }
        DataStream<DecodedRecord> records = env.fromSource(sb.build(), WatermarkStrategy.noWatermarks(), "images")
                .setParallelism(cfg.parallelism()).uid("images-source");
        SingleOutputStreamOperator<DecodedRecord> decoded = records.process(new ImageRouter())
                .name("decode-validate").uid("decode-validate").setParallelism(cfg.parallelism());
        decoded.getSideOutput(ImageRouter.DEAD_LETTERS)
                .sinkTo(sink(cfg, new DeadLetterSerializationSchema(), "dlq"))
                .name("dead-letters").uid("dead-letters-sink");
        DataStream<ModelSnapshot> snapshots;
        if (cfg.parallelism() == 1) {
            snapshots = beforeTrainer.apply(decoded)
                    .transform("continual-trainer", TypeInformation.of(ModelSnapshot.class), new ContinualTrainerOperator(cfg))
                    .uid("continual-trainer").setParallelism(1).setMaxParallelism(1);
        } else {
            SingleOutputStreamOperator<ModelSnapshot> trainers = beforeTrainer.apply(decoded)
                    .transform("continual-trainer", TypeInformation.of(ModelSnapshot.class),
                            new ContinualTrainerOperatorFactory(cfg))
                    .uid("continual-trainer").setParallelism(cfg.parallelism()).setMaxParallelism(cfg.parallelism());
            snapshots = trainers.connect(trainers.getSideOutput(ContinualTrainerOperator.FINAL_SHARDS))
                    .transform("final-merge", TypeInformation.of(ModelSnapshot.class), new FinalMergeOperator(cfg))
                    .uid("final-merge").setParallelism(1).setMaxParallelism(1);
        }
        snapshots.flatMap(new SnapshotPublisher(cfg.signingKey())).name("snapshot-publisher").uid("snapshot-publisher").setParallelism(1)
                .sinkTo(sink(cfg, new SnapshotRecordSerializationSchema(cfg.snapshotTopic()), "snapshots"))
                .name("snapshots").uid("snapshots-sink").setParallelism(1);
    }

    private static <T> KafkaSink<T> sink(PipelineConfig cfg,
                                         org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema<T> schema,
                                         String what) {
        Properties p = cfg.kafka().toProperties();
        p.put("transaction.timeout.ms", Integer.toString(TRANSACTION_TIMEOUT_MS));
        p.put("max.request.size", Integer.toString(cfg.chunkBytes() + (1 << 20)));
        p.put("enable.idempotence", "true");
        p.put("acks", "all");
        return KafkaSink.<T>builder()
                .setBootstrapServers(cfg.bootstrap())
                .setRecordSerializer(schema)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(cfg.transactionalIdPrefix() + "-" + cfg.modelId() + "-" + what)
                .setKafkaProducerConfig(p)
                .build();
    }

}
