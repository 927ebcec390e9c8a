package l0stream.pipeline.cli;

import l0stream.connectors.cli.Args;
import l0stream.connectors.cli.TrustedKeysOption;
import l0stream.connectors.cli.Workspace;
import l0stream.connectors.kafka.KafkaClientConfig;
import l0stream.connectors.rollout.RolloutTopics;
import l0stream.connectors.trust.SnapshotTrust;
import l0stream.pipeline.rollout.RolloutJob;
import l0stream.pipeline.rollout.RolloutPolicy;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code l0stream rollout --snapshots <topic> [--min-labels 200] [--min-disagreements 60] [--threshold 0.99] [--epsilon 0.01]
 * [--delta 0] [--max-labels 5000] [--max-minutes 360] [--max-error-increase 0.02] [--max-p99-ratio 1.5]
 * [--label-window-seconds 1800] [--checkpoint-interval-ms 2000] [--trusted-keys a.pub] [--allow-unsigned]}:
 * runs the rollout evaluator job on an embedded MiniCluster until interrupted. It joins every
 * replica's logged answers with the labels, judges each new verified snapshot against stable,
 * and writes its decisions to {@code <topic>.rollout}, which every {@code serve --rollout canary|shadow}
 * replica follows.
 */
public final class RolloutEvaluatorCommand {

    private RolloutEvaluatorCommand() {}

    static final List<String> POLICY_OPTIONS = List.of("--min-labels", "--min-disagreements", "--threshold", "--epsilon", "--delta", "--max-labels",
            "--max-minutes", "--max-error-increase", "--max-p99-ratio", "--label-window-seconds");

    public static void main(String[] argv) throws Exception {
        List<String> known = new ArrayList<>(List.of("--snapshots", "--trusted-keys", "--checkpoint-interval-ms"));
        known.addAll(KafkaClientConfig.OPTIONS);
        known.addAll(POLICY_OPTIONS);
        Args a = Args.parse(argv, known, List.of("--allow-unsigned"));
        RolloutJob.Config cfg = config(a);
        try (Admin admin = Admin.create(cfg.kafka().toProperties())) {
            cfg.topics().ensure(admin, 1, Duration.ofSeconds(30));
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(
                JobRunner.embeddedConfiguration(Workspace.var()));
        RolloutJob.build(env, cfg);
        JobClient job = env.executeAsync("l0stream-rollout-" + cfg.topics().snapshots());
        System.err.printf("rollout: evaluator job %s judging candidates of %s (min %d labels, threshold %s, epsilon %s for a cheaper"
                        + " candidate); decisions on %s; Ctrl-C stops it%n", job.getJobID(), cfg.topics().snapshots(),
                cfg.policy().minLabels(), cfg.policy().threshold(), cfg.policy().epsilon(), cfg.topics().rollout());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> job.cancel().join()));
        job.getJobExecutionResult().get();
    }

    /** The job's settings from the command line; errors name the option. */
    public static RolloutJob.Config config(Args a) {
        String topic = a.string("--snapshots", null);
        if (topic == null) {
            throw new IllegalArgumentException("Invalid value (missing) for --snapshots: the snapshot topic whose rollout to judge");
        }
        RolloutPolicy d = RolloutPolicy.defaults();
        RolloutPolicy policy = new RolloutPolicy(a.intValue("--min-labels", d.minLabels(), 1),
                a.intValue("--min-disagreements", d.minDisagreements(), 0),
                a.doubleValue("--threshold", d.threshold(), 0), a.doubleValue("--epsilon", d.epsilon(), 0),
                a.doubleValue("--delta", d.delta(), 0), a.intValue("--max-labels", d.maxLabels(), 1),
                Duration.ofMinutes(a.longValue("--max-minutes", d.maxDuration().toMinutes(), 1)),
                a.doubleValue("--max-error-increase", d.maxErrorIncrease(), 0), a.doubleValue("--max-p99-ratio", d.maxP99Ratio(), 1),
                Duration.ofSeconds(a.longValue("--label-window-seconds", d.labelWindow().toSeconds(), 1)));
        SnapshotTrust trust = TrustedKeysOption.from(a, m -> System.err.println("rollout: " + m));
        return new RolloutJob.Config(KafkaClientConfig.fromArgs(a), RolloutTopics.of(topic), trust, policy,
                a.longValue("--checkpoint-interval-ms", 2000, 100), "l0stream-rollout");
    }
}
