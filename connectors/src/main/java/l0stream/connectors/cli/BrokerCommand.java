package l0stream.connectors.cli;

import l0stream.connectors.kafka.BrokerSecurity;
import l0stream.connectors.kafka.LocalKafkaBroker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * {@code l0stream broker start|stop|status [--secure] [--port 9092] [--controller-port 9093] [--data-dir var/kafka]}.
 * {@code --secure} is a second, separate broker (SASL_SSL with SCRAM-SHA-512 on 9094, data and TLS
 * material under {@code var/kafka-secure}); {@code start --secure} prints the client properties file
 * to pass to every other command as {@code --kafka-config}.
 */
public final class BrokerCommand {

    private BrokerCommand() {}

    public static void main(String[] argv) {
        String verb = argv.length == 0 ? "status" : argv[0];
        if (Args.asksForHelp(verb)) {
            System.out.println("usage: l0stream broker start|stop|status [--port 9092] [--controller-port P] [--data-dir DIR]"
                    + " [--heap-mb MB] [--secure]");
            return;
        }
        Args a = Args.parse(Arrays.copyOfRange(argv, Math.min(1, argv.length), argv.length),
                List.of("--port", "--controller-port", "--data-dir", "--heap-mb"), List.of("--secure"));
        boolean secure = a.flag("--secure");
        LocalKafkaBroker.Settings d = secure ? LocalKafkaBroker.Settings.secureDefaults() : LocalKafkaBroker.Settings.defaults();
        LocalKafkaBroker.Settings s = new LocalKafkaBroker.Settings(Path.of(a.string("--data-dir", d.dataDir().toString())),
                a.intValue("--port", d.port(), 1), a.intValue("--controller-port", d.controllerPort(), 1),
                a.intValue("--heap-mb", d.heapMb(), 128), d.classpathFile(), secure);
        String kind = secure ? "SASL_SSL (SCRAM-SHA-512) " : "";
        switch (verb) {
            case "start" -> {
                if (LocalKafkaBroker.runningProcess(s).isPresent() && LocalKafkaBroker.answers(s.clientConfig(), Duration.ofSeconds(3))
                        || !secure && LocalKafkaBroker.answers(s.bootstrap(), Duration.ofSeconds(2))) {
                    System.out.println("broker: already answering " + kind + "on " + s.bootstrap());
                } else {
                    long pid = LocalKafkaBroker.startDetached(s, Duration.ofSeconds(90));
                    System.out.println("broker: running " + kind + "on " + s.bootstrap() + " (pid " + pid + ", data " + s.dataDir()
                            + ", log " + s.dataDir().resolve("broker.log") + ")");
                }
                if (secure) {
                    System.out.println("broker: client properties (user " + BrokerSecurity.CLIENT_USER + ", CA truststore; owner-only file): "
                            + s.clientPropertiesFile());
                    System.out.println("broker: use it with every command, e.g. bin/l0stream demo --kafka-config " + s.clientPropertiesFile());
                }
            }
            case "stop" -> System.out.println(LocalKafkaBroker.stop(s, Duration.ofSeconds(30))
                    ? "broker: stopped" : "broker: not running (no live pid in " + s.dataDir() + ")");
            case "status" -> {
                Optional<ProcessHandle> h = LocalKafkaBroker.runningProcess(s);
                boolean up = LocalKafkaBroker.answers(s.clientConfig(), Duration.ofSeconds(3));
                System.out.println("broker: " + (up ? "answering " + kind + "on " + s.bootstrap() : "not answering on " + s.bootstrap())
                        + h.map(p -> " (pid " + p.pid() + ")").orElse(""));
                if (!up) {
                    System.exit(1);
                }
            }
            default -> throw new IllegalArgumentException("Invalid value " + verb + " for the broker command: expected start, stop or status");
        }
    }
}
