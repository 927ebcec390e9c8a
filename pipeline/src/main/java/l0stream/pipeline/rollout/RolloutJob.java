package l0stream.pipeline.rollout;

import l0stream.connectors.kafka.KafkaClientConfig;
import l0stream.connectors.rollout.PredictionEvent;
import l0stream.connectors.rollout.RolloutCommand;
import l0stream.connectors.rollout.RolloutDecision;
import l0stream.connectors.rollout.RolloutTopics;
import l0stream.connectors.trust.SnapshotTrust;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The rollout evaluator: one Flink job that judges candidates for every serving replica together.
 *
 * <pre>
 * snapshots (read_committed) → SnapshotAnnouncer (verify) ──────────────────────────────┐
 * predictions ──┬─────────────────────────────────────────────────────────────────────────┤
 *               └→ keyBy request id ┐                                                       ├→ keyBy model id → RolloutEvaluatorFunction → rollout topic (EXACTLY_ONCE)
 * labels → LabelParser ─────────────┴→ LabelJoinFunction (window) → joined labels ─────────┤
 *        └→ malformed → labels.dlq (EXACTLY_ONCE)                                           │
 * rollout-commands ──────────────────────────────────────────────────────────────────────┘
 * </pre>
 *
 * Why Flink and not an elected evaluator inside the replicas: the join needs every replica's
 * answers and labels in one place, with state that survives failures, and each decision must be
 * written once. That is exactly what the training job already gets from Flink: keyed state,
 * checkpoints, and a transactional Kafka sink whose output a read_committed reader sees once.
 * An elected evaluator would need its own election, fencing, state store and replay.
 */
public final class RolloutJob {

    private static final Logger LOG = LoggerFactory.getLogger(RolloutJob.class);

    /**
     * @param kafka          bootstrap and security settings
     * @param topics         the rollout's topics
     * @param trust          the keys snapshots must be signed with to become candidates
     * @param policy         the decision rule
     * @param checkpointMs   checkpoint interval: decisions become visible at checkpoints
     * @param transactionalIdPrefix prefix of the sinks' transactional ids
     */
    public record Config(KafkaClientConfig kafka, RolloutTopics topics, SnapshotTrust trust, RolloutPolicy policy,
                         long checkpointMs, String transactionalIdPrefix) {
        public Config {
            if (checkpointMs < 100) {
                throw new IllegalArgumentException("Invalid value " + checkpointMs + " for --checkpoint-interval-ms: must be >= 100");
            }
        }
    }

    private RolloutJob() {}

    /** Adds the evaluator to {@code env}. Reads the rollout topic first, to continue its history. */
    public static void build(StreamExecutionEnvironment env, Config cfg) {
        env.enableCheckpointing(cfg.checkpointMs(), CheckpointingMode.EXACTLY_ONCE);
        env.setParallelism(1);
        RolloutTopics t = cfg.topics();
        String group = "l0stream-rollout-" + t.snapshots();
        DataStream<EvaluatorInput> snapshots = env.fromSource(
                        source(cfg, t.snapshots(), group, new RawRecord.Schema(), OffsetsInitializer.earliest()),
                        WatermarkStrategy.noWatermarks(), "snapshots").uid("rollout-snapshots-source")
                .process(new SnapshotAnnouncer(cfg.trust())).name("verify-snapshots").uid("verify-snapshots");
        DataStream<PredictionEvent> predictions = env.fromSource(
                source(cfg, t.predictions(), group, new JsonSchema<>(PredictionEvent.class, PredictionEvent::fromJson), committedOrEarliest()),
                WatermarkStrategy.noWatermarks(), "predictions").uid("rollout-predictions-source");
        SingleOutputStreamOperator<l0stream.connectors.rollout.LabelEvent> labels = env.fromSource(
                        source(cfg, t.labels(), group, new RawRecord.Schema(), committedOrEarliest()),
                        WatermarkStrategy.noWatermarks(), "labels").uid("rollout-labels-source")
                .process(new LabelParser()).name("parse-labels").uid("parse-labels");
        labels.getSideOutput(LabelParser.DEAD_LETTERS)
                .sinkTo(sink(cfg, new DeadLetterSchema(t.labelsDlq()), "labels-dlq")).name("label-dead-letters").uid("label-dlq-sink");
        DataStream<RolloutCommand> commands = env.fromSource(
                source(cfg, t.commands(), group, new JsonSchema<>(RolloutCommand.class, RolloutCommand::fromJson), committedOrEarliest()),
                WatermarkStrategy.noWatermarks(), "commands").uid("rollout-commands-source");

        DataStream<JoinedLabel> joined = predictions.keyBy(PredictionEvent::requestId)
                .connect(labels.keyBy(l0stream.connectors.rollout.LabelEvent::requestId))
                .process(new LabelJoinFunction(cfg.policy().labelWindow().toMillis()))
                .name("join-labels").uid("join-labels");

        Map<String, byte[]> resume = lastDecisions(cfg);
        DataStream<EvaluatorInput> inputs = snapshots
                .union(predictions.map(EvaluatorInput::of).name("answers").uid("answers"),
                        joined.map(EvaluatorInput::of).name("evidence").uid("evidence"),
                        commands.map(EvaluatorInput::of).name("commands").uid("commands"));
        inputs.keyBy(EvaluatorInput::modelId)
                .process(new RolloutEvaluatorFunction(cfg.policy(), new HashMap<>(resume)))
                .returns(TypeInformation.of(RolloutDecision.class))
                .name("evaluate").uid("evaluate")
                .sinkTo(sink(cfg, new DecisionSchema(t.rollout()), "decisions")).name("decisions").uid("decisions-sink");
    }

    private static OffsetsInitializer committedOrEarliest() {
        return OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
    }

    private static <T> KafkaSource<T> source(Config cfg, String topic, String group, KafkaRecordDeserializationSchema<T> schema,
                                             OffsetsInitializer start) {
        return KafkaSource.<T>builder()
                .setProperties(cfg.kafka().toProperties())
                .setBootstrapServers(cfg.kafka().bootstrap())
                .setTopics(topic)
                .setGroupId(group)
                .setStartingOffsets(start)
                .setDeserializer(schema)
                .setProperty("isolation.level", "read_committed")
                .setProperty("commit.offsets.on.checkpoint", "true")
                .setProperty("max.partition.fetch.bytes", Integer.toString(16 << 20))
                .build();
    }

    private static <T> KafkaSink<T> sink(Config cfg, KafkaRecordSerializationSchema<T> schema, String what) {
        Properties p = cfg.kafka().toProperties();
        p.put("transaction.timeout.ms", Integer.toString(600_000));
        p.put("enable.idempotence", "true");
        p.put("acks", "all");
        return KafkaSink.<T>builder()
                .setBootstrapServers(cfg.kafka().bootstrap())
                .setRecordSerializer(schema)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(cfg.transactionalIdPrefix() + "-" + cfg.topics().snapshots() + "-" + what)
                .setKafkaProducerConfig(p)
                .build();
    }

    /** The last committed decision per model id on the rollout topic (empty if none). */
    static Map<String, byte[]> lastDecisions(Config cfg) {
        Properties p = cfg.kafka().toProperties();
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        Map<String, byte[]> last = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = c.partitionsFor(cfg.topics().rollout(), Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            while (end.entrySet().stream().anyMatch(e -> c.position(e.getKey()) < e.getValue())) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (r.key() != null && r.value() != null) {
                        last.put(new String(r.key(), StandardCharsets.UTF_8), r.value());
                    }
                }
            }
        }
        last.forEach((m, v) -> LOG.info("rollout of {} continues after decision #{}", m, RolloutDecision.fromJson(v).seq()));
        return last;
    }

    /** Reads one record's value; throws IllegalArgumentException with the reason when it does not parse. */
    interface Parser<T> extends java.io.Serializable {
        T parse(byte[] value);
    }

    /** JSON records of our own writers; one that does not parse is logged and skipped (not ours to dead-letter). */
    static final class JsonSchema<T> implements KafkaRecordDeserializationSchema<T> {
        private final Class<T> type;
        private final Parser<T> parser;

        JsonSchema(Class<T> type, Parser<T> parser) {
            this.type = type;
            this.parser = parser;
        }

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> r, Collector<T> out) {
            try {
                out.collect(parser.parse(r.value()));
            } catch (IllegalArgumentException e) {
                LOG.warn("skipping a record of {} at partition {} offset {}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
            }
        }

        @Override
        public TypeInformation<T> getProducedType() {
            return TypeInformation.of(type);
        }
    }

    static final class DecisionSchema implements KafkaRecordSerializationSchema<RolloutDecision> {
        private final String topic;

        DecisionSchema(String topic) {
            this.topic = topic;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(RolloutDecision d, KafkaSinkContext ctx, Long timestamp) {
            return new ProducerRecord<>(topic, null, d.modelId().getBytes(StandardCharsets.UTF_8), d.toJson());
        }
    }

    static final class DeadLetterSchema implements KafkaRecordSerializationSchema<RawRecord> {
        private final String topic;

        DeadLetterSchema(String topic) {
            this.topic = topic;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(RawRecord r, KafkaSinkContext ctx, Long timestamp) {
            return new ProducerRecord<>(topic, null, r.key(), r.value(), r.kafkaHeaders());
        }
    }
}
