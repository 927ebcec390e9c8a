package l0stream.pipeline.cluster;

import l0stream.connectors.cli.Args;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * {@code l0stream cluster start|stop|status|cancel}: a local standalone Flink cluster (a JobManager
 * and N TaskManagers as separate JVMs, see {@link LocalFlinkCluster}) for
 * {@code l0stream train --target 127.0.0.1:8081}.
 */
public final class ClusterCommand {

    private ClusterCommand() {}

    static final String USAGE = """
            usage: l0stream cluster start [--taskmanagers N=2] [--slots 1] [--rest-port 8081] [--rpc-port 6123]
                                          [--metrics-ports 9249-9259|none] [--torch-threads T] [--dir var/flink-cluster]
                   l0stream cluster stop|status [--dir var/flink-cluster]
                   l0stream cluster cancel JOB_ID [--dir var/flink-cluster]
            A JobManager and N TaskManagers (one training slot each) on 127.0.0.1, built from the Maven jars;
            logs and pid files under the cluster dir. Submit with: bin/l0stream train --target 127.0.0.1:8081 ...""";

    public static void main(String[] argv) throws Exception {
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
            System.out.println(USAGE);
            return;
        }
        String verb = argv[0];
        String jobId = null;
        int from = 1;
        if (verb.equals("cancel")) {
            if (argv.length < 2 || argv[1].startsWith("--")) {
                throw new IllegalArgumentException("Invalid value (missing) for the job id: usage: l0stream cluster cancel JOB_ID");
            }
            jobId = argv[1];
            from = 2;
        }
        List<String> known = List.of("--taskmanagers", "--slots", "--rest-port", "--rpc-port", "--metrics-ports",
                "--torch-threads", "--dir");
        Args a = Args.parse(Arrays.copyOfRange(argv, from, argv.length), known, List.of());
        LocalFlinkCluster.Settings d = LocalFlinkCluster.Settings.defaults(a.intValue("--taskmanagers", 2, 1));
        Path dir = Path.of(a.string("--dir", d.dir().toString())).toAbsolutePath().normalize();
        switch (verb) {
            case "start" -> {
                String metrics = a.string("--metrics-ports", d.metricsPorts());
                LocalFlinkCluster.Settings s = new LocalFlinkCluster.Settings(dir, d.taskManagers(), a.intValue("--slots", 1, 1),
                        a.intValue("--rest-port", d.restPort(), 1), a.intValue("--rpc-port", d.rpcPort(), 1),
                        metrics.equals("none") ? "" : metrics, a.intValue("--torch-threads", d.torchThreads(), 1),
                        d.tmProcessMemory(), d.jmProcessMemory(), d.heartbeatTimeoutMs(), d.lib());
                System.out.println("cluster: starting a JobManager and " + s.taskManagers() + " TaskManager(s) ("
                        + s.slotsPerTaskManager() + " slot each) from " + s.dir() + " ...");
                LocalFlinkCluster c = LocalFlinkCluster.start(s, Duration.ofSeconds(120));
                for (LocalFlinkCluster.Member m : c.members()) {
                    System.out.println("cluster:   " + m.name() + " pid " + m.pid() + ", log " + m.log());
                }
                System.out.println("cluster: running; web UI and REST API http://" + s.restAddress()
                        + (s.metricsPorts().isEmpty() ? "" : ", Prometheus metrics on 127.0.0.1:" + s.metricsPorts()));
                System.out.println("cluster: submit the job with: bin/l0stream train --target " + s.restAddress() + " [--<key> value ...]");
                System.out.println("cluster: stop it with: bin/l0stream cluster stop" + (a.string("--dir", null) == null ? "" : " --dir " + dir));
            }
            case "stop" -> {
                List<LocalFlinkCluster.Member> stopped = LocalFlinkCluster.stop(dir, Duration.ofSeconds(20));
                System.out.println(stopped.isEmpty() ? "cluster: not running (no live pid files in " + dir + ")"
                        : "cluster: stopped " + stopped.stream().map(m -> m.name() + " (pid " + m.pid() + ")").toList());
            }
            case "status" -> {
                List<LocalFlinkCluster.Member> live = LocalFlinkCluster.running(dir);
                if (live.isEmpty()) {
                    System.out.println("cluster: not running (no live pid files in " + dir + ")");
                    System.exit(3);
                }
                for (LocalFlinkCluster.Member m : LocalFlinkCluster.members(dir)) {
                    System.out.println("cluster:   " + m.name() + " pid " + m.pid() + (live.contains(m) ? "" : " NOT RUNNING")
                            + ", log " + m.log());
                }
                FlinkRest rest = new FlinkRest(restAddress(dir));
                try {
                    JsonNode o = rest.overview();
                    System.out.println("cluster: " + rest.url() + ": Flink " + o.path("flink-version").asText() + ", "
                            + o.path("taskmanagers").asInt() + " task manager(s), " + o.path("slots-available").asInt() + "/"
                            + o.path("slots-total").asInt() + " slots free, " + o.path("jobs-running").asInt() + " job(s) running");
                    for (FlinkRest.Job j : rest.jobs()) {
                        System.out.println("cluster:   job " + j.id() + " " + j.state() + " " + j.name());
                    }
                } catch (IOException e) {
                    System.out.println("cluster: the REST API at " + rest.url() + " does not answer: " + e.getMessage());
                    System.exit(1);
                }
            }
            case "cancel" -> {
                FlinkRest rest = new FlinkRest(restAddress(dir));
                rest.cancel(jobId);
                System.out.println("cluster: cancelling job " + jobId);
            }
            default -> throw new IllegalArgumentException("Invalid value " + verb
                    + " for the cluster command: expected start, stop, status or cancel (see bin/l0stream cluster --help)");
        }
    }

    /** The REST address of the cluster configured in {@code dir} (its conf/config.yaml). */
    static String restAddress(Path dir) {
        Path conf = dir.resolve("conf");
        if (!Files.exists(conf.resolve("config.yaml"))) {
            return "127.0.0.1:8081";
        }
        Configuration c = GlobalConfiguration.loadConfiguration(conf.toString());
        return "127.0.0.1:" + c.getString("rest.port", "8081");
    }
}
