package l0stream.pipeline.cli;

import l0stream.connectors.cli.KeysCommand;
import l0stream.connectors.cli.Workspace;
import l0stream.pipeline.L0StreamJob;
import l0stream.pipeline.PipelineConfig;
import l0stream.pipeline.PipelineOption;
import l0stream.pipeline.cluster.RemoteSubmit;

import org.apache.flink.core.execution.JobClient;

import java.util.HashMap;
import java.util.Map;

/**
 * {@code l0stream train [--target embedded|HOST:PORT] [--<key> value ...]}: runs the job
 * (unbounded). {@code embedded} (the default): on an embedded MiniCluster in this JVM until
 * interrupted. {@code HOST:PORT}: submitted to the Flink cluster whose REST API answers there
 * (e.g. {@code bin/l0stream cluster start}), with a job jar of l0stream's classes only; the job
 * keeps running there after this command returns. Every job key is listed by {@code --help}.
 */
public final class TrainCommand {

    private TrainCommand() {}

    public static void main(String[] argv) throws Exception {
        Map<String, String> keys = new HashMap<>();
        String target = "embedded";
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (a.equals("--help") || a.equals("-h")) {
                System.out.println("usage: l0stream train [--target embedded|HOST:PORT] [--<key> value ...]\n"
                        + "  --target embedded   a MiniCluster in this JVM, until Ctrl-C (default)\n"
                        + "  --target HOST:PORT  submit to the Flink cluster whose REST API answers there (bin/l0stream cluster start:"
                        + " 127.0.0.1:8081) and return\n"
                        + "  --target application  main() of a Flink application-mode cluster (k8s/: the FlinkDeployment's entry point)\n"
                        + "keys:\n" + PipelineOption.help());
                return;
            }
            if (!a.startsWith("--") || i + 1 >= argv.length) {
                throw new IllegalArgumentException("Invalid argument " + a + ": expected --<key> <value> (see --help)");
            }
            if (a.equals("--target")) {
                target = argv[++i];
            } else {
                PipelineOption.put(keys, a.substring(2), argv[++i]);
            }
        }
        if (target.equals("application")) {
            runInApplicationMode(keys);
            return;
        }
        RemoteSubmit.Target remote = target.equals("embedded") ? null : RemoteSubmit.Target.parse(target, "--target");
        if (!keys.containsKey("signing-key") && !"true".equals(keys.get("allow-unsigned"))) {
            keys.put("signing-key", KeysCommand.ensureDefaultKey(System.err::println).toString());
        }
        if (remote != null && !keys.getOrDefault("signing-key", "").isBlank()) {
            // read on the TaskManager, whose working directory is the cluster's
            keys.put("signing-key", java.nio.file.Path.of(keys.get("signing-key").trim()).toAbsolutePath().toString());
        }
        PipelineConfig cfg = PipelineConfig.from(keys);
        if (remote != null) {
            RemoteSubmit.checkAnswers(remote, "--target");
            L0StreamJob.ensureTopics(cfg);
            JobClient job = RemoteSubmit.submit(cfg, remote, RemoteSubmit.defaultJobJar(), "l0stream-" + cfg.modelId());
            System.err.println("train: submitted job " + job.getJobID() + " to the Flink cluster at " + remote.address()
                    + ", reading " + cfg.inputTopic() + ", publishing to " + cfg.snapshotTopic());
            System.err.println("train: watch it at http://" + remote.address() + "/#/job/running/" + job.getJobID()
                    + "; cancel it with: bin/l0stream cluster cancel " + job.getJobID());
            System.out.println(job.getJobID());
            return;
        }
        L0StreamJob.ensureTopics(cfg);
        JobClient job = JobRunner.startEmbedded(cfg, Workspace.var(), "l0stream-" + cfg.modelId());
        System.err.println("train: job " + job.getJobID() + " reading " + cfg.inputTopic() + ", publishing to "
                + cfg.snapshotTopic() + " (web UI http://localhost:8081, metrics http://localhost:9249); Ctrl-C stops it");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> job.cancel().join()));
        System.err.println("train: job finished: " + job.getJobExecutionResult().get());
    }

    /**
     * Inside a Flink application-mode JobManager (the Kubernetes operator's FlinkDeployment runs
     * this main class): the environment is the cluster's own, so the job is built on it and
     * executed there. No signing key is made up here: the key must be mounted and named.
     */
    private static void runInApplicationMode(Map<String, String> keys) throws Exception {
        PipelineConfig cfg = PipelineConfig.from(keys);
        L0StreamJob.ensureTopics(cfg);
        org.apache.flink.streaming.api.environment.StreamExecutionEnvironment env =
                org.apache.flink.streaming.api.environment.StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(cfg.parallelism());
        L0StreamJob.build(env, cfg, false, s -> s);
        env.execute("l0stream-" + cfg.modelId());
    }
}
