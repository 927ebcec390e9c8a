package l0stream.pipeline;

import l0stream.connectors.image.DecodePolicy;
import l0stream.connectors.kafka.KafkaClientConfig;
import l0stream.model.DeviceChoice;
import l0stream.model.ModelConfig;
import l0stream.model.continual.ContinualConfig;
import l0stream.model.continual.DriftDetector;
import l0stream.model.continual.DriftResponse;
import l0stream.model.continual.ReplayPolicy;
import l0stream.model.gate.GateInit;
import l0stream.model.gate.GateKind;
import l0stream.model.nn.Architecture;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Everything the job needs, typed and validated at start-up: built from {@code key=value} pairs
 * (the command line's {@code --key value}), with every key documented by its {@link PipelineOption}.
 * Unknown keys are refused. Immutable and serialisable (plain values only), so operators can
 * hold it.
 */
public record PipelineConfig(String bootstrap, String inputTopic, String snapshotTopic, int inputPartitions,
                             String modelId, String network, GateKind gates, double lambda, double weightLr,
                             double gateLr, double momentum, double weightDecay, long seed, DeviceChoice device,
                             int batchSize, long snapshotEverySteps, long snapshotEverySeconds, int chunkBytes,
                             long checkpointIntervalMs, int parallelism, long mergeEverySteps,
                             DecodePolicy.SizePolicy sizePolicy,
                             String transactionalIdPrefix, String signingKey, boolean allowUnsigned,
                             KafkaClientConfig kafka, ContinualConfig continual, GateInit gateInit) implements Serializable {

    private static final long serialVersionUID = 1L;

    public static final PipelineOption<String> BOOTSTRAP = PipelineOption.string("bootstrap", "127.0.0.1:9092",
            "Kafka bootstrap servers");
    public static final PipelineOption<String> INPUT_TOPIC = PipelineOption.string("input-topic", "images",
            "topic of labeled images; dead letters go to <input-topic>.dlq");
    public static final PipelineOption<String> SNAPSHOT_TOPIC = PipelineOption.string("snapshot-topic", "snapshots",
            "topic the snapshots (manifest + chunks) are published to");
    public static final PipelineOption<Integer> INPUT_PARTITIONS = PipelineOption.intAtLeast("input-partitions", 1, 1,
            "partitions of the input topic when the job creates it (when not given: parallelism, one per trainer)");
    public static final PipelineOption<String> MODEL_ID = PipelineOption.string("model-id", "l0stream",
            "model id: the key of every snapshot record");
    public static final PipelineOption<String> NETWORK = PipelineOption.choice("network", "lenet5",
            "network to train", "lenet5", "vgg-narrow", "vgg16");
    public static final PipelineOption<String> GATES = PipelineOption.choice("gates", "dep-forward",
            "gate parameterisation", "dep-forward", "dep-backward", "hc", "none");
    public static final PipelineOption<String> GATE_INIT = PipelineOption.choice("gate-init", "reference",
            "how the gates start: reference (the Dep-L0 authors' code), louizos (hc only: log α ≈ 0, clamped to ±4.6),"
            + " open (dep-* only: every gate starts open)", "reference", "louizos", "open");
    public static final PipelineOption<Double> LAMBDA = PipelineOption.doubleIn("lambda", 1e-5, 0, Double.POSITIVE_INFINITY,
            "weight of the expected-L0 penalty (per expected parameter)");
    public static final PipelineOption<Double> WEIGHT_LR = PipelineOption.doubleIn("weight-lr", 0.05,
            1e-12, Double.POSITIVE_INFINITY, "SGD learning rate of the weights");
    public static final PipelineOption<Double> GATE_LR = PipelineOption.doubleIn("gate-lr", ModelConfig.DEFAULT_GATE_LR, 1e-12, Double.POSITIVE_INFINITY,
            "Adam learning rate of the gate parameters");
    public static final PipelineOption<Double> MOMENTUM = PipelineOption.doubleIn("momentum", ModelConfig.DEFAULT_MOMENTUM, 0, 1,
            "SGD momentum");
    public static final PipelineOption<Double> WEIGHT_DECAY = PipelineOption.doubleIn("weight-decay", ModelConfig.DEFAULT_WEIGHT_DECAY,
            0, Double.POSITIVE_INFINITY, "SGD weight decay");
    public static final PipelineOption<Long> SEED = PipelineOption.longAtLeast("seed", 42, 0, "seed of initialisation and gate noise");
    public static final PipelineOption<String> DEVICE = PipelineOption.choice("device", "auto", "where to train", "auto", "cpu", "gpu");
    public static final PipelineOption<Integer> BATCH_SIZE = PipelineOption.intAtLeast("batch-size", 64, 1,
            "images per micro-batch (one training step)");
    public static final PipelineOption<Long> SNAPSHOT_EVERY_STEPS = PipelineOption.longAtLeast("snapshot-every-steps", 100, 0,
            "publish a snapshot every N training steps (0 = never by steps)");
    public static final PipelineOption<Long> SNAPSHOT_EVERY_SECONDS = PipelineOption.longAtLeast("snapshot-every-seconds", 0, 0,
            "publish a snapshot every T seconds of processing time (0 = never by time)");
    public static final PipelineOption<Integer> CHUNK_BYTES = PipelineOption.intAtLeast("chunk-bytes", 512 * 1024, 1024,
            "artifact chunk size on the snapshot topic");
    public static final PipelineOption<Long> CHECKPOINT_INTERVAL_MS = PipelineOption.longAtLeast("checkpoint-interval-ms", 2000, 100,
            "Flink checkpoint interval; snapshots become visible to read_committed readers at checkpoints");
    public static final PipelineOption<Integer> PARALLELISM = PipelineOption.intAtLeast("parallelism", 1, 1,
            "trainer parallelism: above 1, data-parallel trainers (one per input split) whose parameters are averaged"
                    + " every merge-every-steps steps; snapshots are cut from merged models only");
    public static final PipelineOption<Long> MERGE_EVERY_STEPS = PipelineOption.longAtLeast("merge-every-steps", 10, 1,
            "data-parallel only: local training steps of each trainer between two parameter averagings");

    /**
     * Merged parameters travel as Flink operator events, one RPC message each, and Flink's RPC
     * frame is 10 MiB by default ({@code pekko.framesize}); leave room for the envelope.
     */
    static final long MAX_AVERAGED_PARAMETER_BYTES = 9L << 20;
    public static final PipelineOption<String> SIZE_POLICY = PipelineOption.choice("size-policy", "resize",
            "images of another size: resize them, or dead-letter them (exact)", "resize", "exact");
    public static final PipelineOption<String> TRANSACTIONAL_ID_PREFIX = PipelineOption.string("transactional-id-prefix",
            "l0stream", "prefix of the Kafka transactional ids of the exactly-once sinks");

    public static final PipelineOption<String> KAFKA_CONFIG = PipelineOption.optionalString("kafka-config",
            "Kafka client properties file (security.protocol, sasl.*, ssl.*, ...) that every Kafka client of the job"
                    + " starts from; bootstrap.servers in it is used unless bootstrap is given");
    public static final PipelineOption<String> KAFKA_PROPERTY = PipelineOption.optionalString("kafka-property",
            "key=value Kafka client property over kafka-config; repeat the option for several");
    public static final PipelineOption<String> SIGNING_KEY = PipelineOption.optionalString("signing-key",
            "Ed25519 private key (PKCS#8 PEM, its .pub beside it) that signs every snapshot manifest;"
                    + " bin/l0stream keys generate makes one (demo and train default to var/keys/snapshot.key)");
    public static final PipelineOption<Boolean> ALLOW_UNSIGNED = PipelineOption.bool("allow-unsigned", false,
            "publish unsigned snapshots when no signing-key is set (experiments only: serving refuses them by default)");

    // ---- continual learning (the learner's keys; ContinualConfig validates them again) ----
    private static final ContinualConfig CL = ContinualConfig.defaults();
    public static final PipelineOption<Integer> REPLAY_CAPACITY = PipelineOption.intAtLeast("replay-capacity", CL.replayCapacity(), 0,
            "replay buffer size in images, kept as 8-bit pixels in the checkpointed state (~0.8 MB per 1,000 28x28 images;"
                    + " 0 = no replay); data-parallel trainers each keep one of their own partitions");
    public static final PipelineOption<Double> REPLAY_RATIO = PipelineOption.doubleIn("replay-ratio", CL.replayRatio(), 0, 1,
            "share of each trained micro-batch drawn from the replay buffer: batch-size new records get"
                    + " round(b*r/(1-r)) replayed ones on top (0 = plain fine-tuning)");
    public static final PipelineOption<String> REPLAY_POLICY = PipelineOption.choice("replay-policy", CL.replayPolicy().id(),
            "which past records the replay buffer keeps", "reservoir", "class-balanced");
    public static final PipelineOption<String> DRIFT_DETECTOR = PipelineOption.choice("drift-detector", CL.driftDetector().id(),
            "change detector over the prequential error stream (only a rise of the error is a drift)", "none", "page-hinkley", "adwin");
    public static final PipelineOption<Double> PH_DELTA = PipelineOption.doubleIn("ph-delta", CL.phDelta(), 0, Double.POSITIVE_INFINITY,
            "Page-Hinkley: tolerated rise of the error rate (higher = fewer false alarms, slower detection)");
    public static final PipelineOption<Double> PH_THRESHOLD = PipelineOption.doubleIn("ph-threshold", CL.phThreshold(), 1e-9,
            Double.POSITIVE_INFINITY, "Page-Hinkley: detection threshold on the cumulative deviation");
    public static final PipelineOption<Long> PH_MIN_RECORDS = PipelineOption.longAtLeast("ph-min-records", CL.phMinRecords(), 1,
            "Page-Hinkley: records before the first possible detection (and after each one)");
    public static final PipelineOption<Double> ADWIN_DELTA = PipelineOption.doubleIn("adwin-delta", CL.adwinDelta(), 1e-12, 1,
            "ADWIN: confidence (smaller = fewer false alarms, slower detection)");
    public static final PipelineOption<String> DRIFT_RESPONSE = PipelineOption.choice("drift-response", CL.driftResponse().id(),
            "after a detection: nothing, or relax the sparsity pressure (lambda x relax-lambda-factor for relax-records records)",
            "none", "relax");
    public static final PipelineOption<Long> RELAX_RECORDS = PipelineOption.longAtLeast("relax-records", CL.relaxRecords(), 0,
            "records during which lambda stays relaxed after a detection");
    public static final PipelineOption<Double> RELAX_LAMBDA_FACTOR = PipelineOption.doubleIn("relax-lambda-factor", CL.relaxLambdaFactor(),
            0, 1.000001, "lambda multiplier while relaxed, in [0, 1]");
    public static final PipelineOption<Integer> PROBE_CAPACITY = PipelineOption.intAtLeast("probe-capacity", CL.probeCapacity(), 0,
            "forgetting monitor: held-out probe size in images, reservoir-sampled from the stream and never trained on (0 = off)");
    public static final PipelineOption<Long> PROBE_EVERY_STEPS = PipelineOption.longAtLeast("probe-every-steps", CL.probeEverySteps(), 1,
            "forgetting monitor: score the probe (retention accuracy) every N training steps");
    public static final PipelineOption<Integer> WINDOW_RECORDS = PipelineOption.intAtLeast("window-records", CL.windowRecords(), 1,
            "window of the windowed and per-class prequential accuracy, in records");
    public static final PipelineOption<Double> FADING_FACTOR = PipelineOption.doubleIn("fading-factor", CL.fadingFactor(), 1e-9, 1,
            "alpha of the fading-factor prequential accuracy");

    public PipelineConfig {
        if (snapshotEverySteps == 0 && snapshotEverySeconds == 0) {
            throw new IllegalArgumentException("Invalid values 0 for snapshot-every-steps and snapshot-every-seconds:"
                    + " at least one must be > 0, or no snapshot is ever published");
        }
        if (parallelism > 1 && inputPartitions < parallelism) {
            throw new IllegalArgumentException("Invalid value " + parallelism + " for parallelism: each data-parallel"
                    + " trainer needs an input partition of its own, and input-partitions is " + inputPartitions
                    + " (set input-partitions >= parallelism)");
        }
        if (parallelism > 1) {
            long bytes = 4L * (long) l0stream.model.nn.NetworkCost.of(Architecture.named(network, "network")).params();
            if (bytes > MAX_AVERAGED_PARAMETER_BYTES) {
                throw new IllegalArgumentException("Invalid value " + parallelism + " for parallelism: network " + network
                        + " has about " + (bytes >> 20) + " MiB of parameters, more than the "
                        + (MAX_AVERAGED_PARAMETER_BYTES >> 20) + " MiB that one Flink RPC message (pekko.framesize)"
                        + " carries between trainers and their averaging coordinator; use parallelism 1 for it");
            }
        }
        if (inputTopic.equals(snapshotTopic)) {
            throw new IllegalArgumentException("Invalid value " + snapshotTopic + " for snapshot-topic: must differ from input-topic");
        }
        if (signingKey.isEmpty() && !allowUnsigned) {
            throw new IllegalArgumentException("Invalid value (empty) for signing-key: snapshots must be signed; give an"
                    + " Ed25519 key (bin/l0stream keys generate --out var/keys/snapshot.key), or set allow-unsigned true"
                    + " for experiments");
        }
        java.util.Objects.requireNonNull(gateInit, "gate-init");
        if (gates.gated()) {
            gateInit.checkFits(gates, GATE_INIT.key());
        }
        // Validates the model part with its own messages (fields are not assigned yet here).
        ModelConfig.builder().setNetwork(network).setGates(gates).optLambda(lambda).optWeightLr(weightLr)
                .optGateLr(gateLr).optMomentum(momentum).optWeightDecay(weightDecay).optSeed(seed).optDevice(device)
                .optGateInit(gateInit).build();
    }

    /** Parses {@code key → value} (keys without dashes); unknown keys are refused. */
    public static PipelineConfig from(Map<String, String> values) {
        Set<String> known = PipelineOption.all().stream().map(PipelineOption::key).collect(Collectors.toSet());
        for (String k : values.keySet()) {
            if (!known.contains(k)) {
                throw new IllegalArgumentException("Unknown configuration key " + k + " (see --help for the keys)");
            }
        }
        String file = KAFKA_CONFIG.get(values);
        String props = KAFKA_PROPERTY.get(values);
        KafkaClientConfig kafka = KafkaClientConfig.of(values.containsKey(BOOTSTRAP.key()) ? BOOTSTRAP.get(values) : null,
                file.isEmpty() ? null : Path.of(file),
                props.isEmpty() ? List.of() : List.of(props.split("\n")));
        return new PipelineConfig(kafka.bootstrap(), INPUT_TOPIC.get(values), SNAPSHOT_TOPIC.get(values),
                values.containsKey(INPUT_PARTITIONS.key()) ? INPUT_PARTITIONS.get(values) : PARALLELISM.get(values),
                MODEL_ID.get(values), NETWORK.get(values),
                GateKind.parse(GATES.get(values), "gates"), LAMBDA.get(values), WEIGHT_LR.get(values), GATE_LR.get(values),
                MOMENTUM.get(values), WEIGHT_DECAY.get(values), SEED.get(values),
                DeviceChoice.parse(DEVICE.get(values), "device"), BATCH_SIZE.get(values), SNAPSHOT_EVERY_STEPS.get(values),
                SNAPSHOT_EVERY_SECONDS.get(values), CHUNK_BYTES.get(values), CHECKPOINT_INTERVAL_MS.get(values),
                PARALLELISM.get(values), MERGE_EVERY_STEPS.get(values), DecodePolicy.parseSize(SIZE_POLICY.get(values), "size-policy"),
                TRANSACTIONAL_ID_PREFIX.get(values), SIGNING_KEY.get(values), ALLOW_UNSIGNED.get(values), kafka,
                new ContinualConfig(REPLAY_CAPACITY.get(values), REPLAY_RATIO.get(values),
                        ReplayPolicy.parse(REPLAY_POLICY.get(values), REPLAY_POLICY.key()),
                        DriftDetector.Kind.parse(DRIFT_DETECTOR.get(values), DRIFT_DETECTOR.key()), PH_DELTA.get(values),
                        PH_THRESHOLD.get(values), PH_MIN_RECORDS.get(values), ADWIN_DELTA.get(values),
                        DriftResponse.parse(DRIFT_RESPONSE.get(values), DRIFT_RESPONSE.key()), RELAX_RECORDS.get(values),
                        RELAX_LAMBDA_FACTOR.get(values), PROBE_CAPACITY.get(values), PROBE_EVERY_STEPS.get(values),
                        WINDOW_RECORDS.get(values), FADING_FACTOR.get(values), SEED.get(values)),
                GateInit.parse(GATE_INIT.get(values), GATE_INIT.key()));
    }

    public static PipelineConfig defaults() {
        return from(new HashMap<>());
    }

    public ModelConfig modelConfig() {
        return ModelConfig.builder().setNetwork(network).setGates(gates).optLambda(lambda).optWeightLr(weightLr)
                .optGateLr(gateLr).optMomentum(momentum).optWeightDecay(weightDecay).optSeed(seed).optDevice(device)
                .optGateInit(gateInit).build();
    }

    /** What decoded images must look like for this network. */
    public DecodePolicy decodePolicy() {
        Architecture a = Architecture.named(network, "network");
        return new DecodePolicy(a.inputChannels(), a.inputHeight(), a.inputWidth(), a.numClasses(), sizePolicy,
                DecodePolicy.ChannelPolicy.CONVERT, 1 << 20, 4096L * 4096);
    }

    public String deadLetterTopic() {
        return inputTopic + ".dlq";
    }
}
