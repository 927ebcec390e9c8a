package l0stream.pipeline.cluster;

import l0stream.connectors.cli.Workspace;
import l0stream.pipeline.L0StreamJob;
import l0stream.pipeline.PipelineConfig;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Submits the l0stream job to a running Flink cluster over its REST API, with the job jar that
 * {@link JobJar} builds (l0stream's classes only; Flink, Kafka and DJL come from the cluster).
 */
public final class RemoteSubmit {

    private RemoteSubmit() {}

    /** A REST endpoint given as {@code host:port}. */
    public record Target(String host, int port) {

        /** Parses {@code host:port}; the error names {@code option} (e.g. --target). */
        public static Target parse(String value, String option) {
            int colon = value.lastIndexOf(':');
            String rule = ": expected 'embedded' or the REST address of a Flink cluster as host:port (e.g. 127.0.0.1:8081)";
            if (colon <= 0 || colon == value.length() - 1) {
                throw new IllegalArgumentException("Invalid value " + value + " for " + option + rule);
            }
            int port;
            try {
                port = Integer.parseInt(value.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("Invalid value " + value + " for " + option + rule, e);
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("Invalid value " + value + " for " + option + ": port must be 1-65535");
            }
            return new Target(value.substring(0, colon), port);
        }

        public String address() {
            return host + ":" + port;
        }
    }

    /** Fails, naming {@code option}, unless a Flink REST API answers at {@code t}. */
    public static void checkAnswers(Target t, String option) {
        if (!new FlinkRest(t.address()).answers(Duration.ofSeconds(5))) {
            throw new IllegalArgumentException("Invalid value " + t.address() + " for " + option + ": no Flink REST API answers at http://"
                    + t.address() + "/overview (start a local cluster with: bin/l0stream cluster start)");
        }
    }

    /** Where the launcher writes the job jar. */
    public static Path defaultJobJar() {
        return Workspace.var().resolve("flink-cluster/job/l0stream-job.jar");
    }

    /**
     * Builds the job jar, submits the (unbounded) job and returns its client; the job keeps
     * running on the cluster after this JVM exits.
     */
    public static JobClient submit(PipelineConfig cfg, Target t, Path jobJar, String name) throws Exception {
        Path jar = JobJar.build(jobJar);
        Configuration client = new Configuration();
        client.setString("rest.retry.max-attempts", "3");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createRemoteEnvironment(t.host(), t.port(), client,
                jar.toAbsolutePath().toString());
        env.setParallelism(cfg.parallelism());
        L0StreamJob.build(env, cfg, false, s -> s);
        return env.executeAsync(name);
    }
}
