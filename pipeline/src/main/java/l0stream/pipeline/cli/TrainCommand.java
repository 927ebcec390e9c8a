package l0stream.pipeline.cli;

import l0stream.connectors.cli.KeysCommand;
import l0stream.connectors.cli.Workspace;
import l0stream.pipeline.L0StreamJob;
import l0stream.pipeline.PipelineConfig;
import l0stream.pipeline.PipelineOption;

import org.apache.flink.core.execution.JobClient;

import java.util.HashMap;
import java.util.Map;

/**
 * {@code l0stream train [--target embedded] [--<key> value ...]}: runs the job (unbounded) on an
 * embedded MiniCluster until interrupted. Every job key is listed by {@code --help}.
 */
public final class TrainCommand {

    private TrainCommand() {}

    public static void main(String[] argv) throws Exception {
        Map<String, String> keys = new HashMap<>();
        String target = "embedded";
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (a.equals("--help") || a.equals("-h")) {
                System.out.println("usage: l0stream train [--target embedded] [--<key> value ...]\nkeys:\n" + PipelineOption.help());
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
        if (!target.equals("embedded")) {
            throw new IllegalArgumentException("Invalid value " + target + " for --target: only 'embedded' is available"
                    + " in this build (submission to a standalone cluster is tracked in the pipeline issue)");
        }
        if (!keys.containsKey("signing-key") && !"true".equals(keys.get("allow-unsigned"))) {
            keys.put("signing-key", KeysCommand.ensureDefaultKey(System.err::println).toString());
        }
        PipelineConfig cfg = PipelineConfig.from(keys);
        L0StreamJob.ensureTopics(cfg);
        JobClient job = JobRunner.startEmbedded(cfg, Workspace.var(), "l0stream-" + cfg.modelId());
        System.err.println("train: job " + job.getJobID() + " reading " + cfg.inputTopic() + ", publishing to "
                + cfg.snapshotTopic() + " (web UI http://localhost:8081, metrics http://localhost:9249); Ctrl-C stops it");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> job.cancel().join()));
        System.err.println("train: job finished: " + job.getJobExecutionResult().get());
    }
}
