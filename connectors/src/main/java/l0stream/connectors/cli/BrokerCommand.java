package l0stream.connectors.cli;

import l0stream.connectors.kafka.LocalKafkaBroker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** {@code l0stream broker start|stop|status [--port 9092] [--controller-port 9093] [--data-dir var/kafka]}. */
public final class BrokerCommand {

    private BrokerCommand() {}

    public static void main(String[] argv) {
        String verb = argv.length == 0 ? "status" : argv[0];
        Args a = Args.parse(Arrays.copyOfRange(argv, Math.min(1, argv.length), argv.length),
                List.of("--port", "--controller-port", "--data-dir", "--heap-mb"), List.of());
        LocalKafkaBroker.Settings d = LocalKafkaBroker.Settings.defaults();
        LocalKafkaBroker.Settings s = new LocalKafkaBroker.Settings(Path.of(a.string("--data-dir", d.dataDir().toString())),
                a.intValue("--port", d.port(), 1), a.intValue("--controller-port", d.controllerPort(), 1),
                a.intValue("--heap-mb", d.heapMb(), 128), d.classpathFile());
        switch (verb) {
            case "start" -> {
                if (LocalKafkaBroker.answers(s.bootstrap(), Duration.ofSeconds(2))) {
                    System.out.println("broker: already answering on " + s.bootstrap());
                    return;
                }
                long pid = LocalKafkaBroker.startDetached(s, Duration.ofSeconds(90));
                System.out.println("broker: running on " + s.bootstrap() + " (pid " + pid + ", data " + s.dataDir()
                        + ", log " + s.dataDir().resolve("broker.log") + ")");
            }
            case "stop" -> System.out.println(LocalKafkaBroker.stop(s, Duration.ofSeconds(30))
                    ? "broker: stopped" : "broker: not running (no live pid in " + s.dataDir() + ")");
            case "status" -> {
                Optional<ProcessHandle> h = LocalKafkaBroker.runningProcess(s);
                boolean up = LocalKafkaBroker.answers(s.bootstrap(), Duration.ofSeconds(3));
                System.out.println("broker: " + (up ? "answering on " + s.bootstrap() : "not answering on " + s.bootstrap())
                        + h.map(p -> " (pid " + p.pid() + ")").orElse(""));
                if (!up) {
                    System.exit(1);
                }
            }
            default -> throw new IllegalArgumentException("Invalid value " + verb + " for the broker command: expected start, stop or status");
        }
    }
}
