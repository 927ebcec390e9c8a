package l0stream.pipeline.cli;

import l0stream.pipeline.L0StreamJob;
import l0stream.pipeline.PipelineConfig;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Starts the job on an embedded MiniCluster (Flink web UI on localhost:8081…8090, Prometheus
 * metrics on 9249…9259), with checkpoints and savepoints under {@code var/flink}.
 */
final class JobRunner {

    private JobRunner() {}

    static Configuration embeddedConfiguration(Path varDir) {
        Configuration conf = new Configuration();
        conf.setString("rest.bind-address", "127.0.0.1");
        conf.setString("rest.address", "127.0.0.1");
        conf.setString("rest.port", "8081-8090");
        conf.setString("metrics.reporter.prom.factory.class", "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        conf.setString("metrics.reporter.prom.port", "9249-9259");
        conf.setString("execution.checkpointing.dir", varDir.resolve("flink/checkpoints").toUri().toString());
        conf.setString("execution.checkpointing.savepoint-dir", varDir.resolve("flink/savepoints").toUri().toString());
        conf.setString("taskmanager.numberOfTaskSlots", "4");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 10);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(2));
        return conf;
    }

    /** Submits the (unbounded) job to an embedded cluster and returns its client. */
    static JobClient startEmbedded(PipelineConfig cfg, Path varDir, String name) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(embeddedConfiguration(varDir));
        env.setParallelism(cfg.parallelism());
        L0StreamJob.build(env, cfg, false, s -> s);
        return env.executeAsync(name);
    }
}
