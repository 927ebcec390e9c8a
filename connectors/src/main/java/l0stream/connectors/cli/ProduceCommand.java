package l0stream.connectors.cli;

import l0stream.connectors.dataset.DriftScenario;
import l0stream.connectors.dataset.FashionMnist;
import l0stream.connectors.dataset.ImageFolder;
import l0stream.connectors.image.DecodePolicy;
import l0stream.connectors.dataset.ImageDataset;
import l0stream.connectors.dataset.ReplayProducer;
import l0stream.connectors.dataset.SyntheticImages;
import l0stream.connectors.image.ImageEncoder.Encoding;
import l0stream.connectors.kafka.KafkaClientConfig;

import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/** {@code l0stream produce}: replays Fashion-MNIST (or synthetic images) into a topic. */
public final class ProduceCommand {

    static final String USAGE = """
            usage: l0stream produce [--bootstrap 127.0.0.1:9092] [--topic images] [--dataset fashion-mnist|synthetic|folder]
                                    [--split train|test] [--records N] [--rate R] [--partitions P]
                                    [--scenario stationary|class-incremental|label-permute|rotate] [--switch-at N]
                                    [--encoding png|jpeg|raw] [--data-dir DIR] [--seed S]
              --records    how many records to send (default: the split's size)
              --rate       records per second, 0 = as fast as possible (default 0)
              --switch-at  record count where the scenario switches (default: half of --records)
              --data-dir   Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist), or for
                           --dataset folder a directory <dir>/<label>/*.png|jpg (converted to 28x28 gray)
            """;

    private ProduceCommand() {}

    public static void main(String[] argv) throws Exception {
        if (argv.length > 0 && (argv[0].equals("--help") || argv[0].equals("-h"))) {
            System.out.print(USAGE);
            return;
        }
        Args a = Args.parse(argv, List.of("--bootstrap", "--kafka-config", "--kafka-property", "--topic", "--dataset", "--split", "--records", "--rate",
                "--partitions", "--scenario", "--switch-at", "--encoding", "--data-dir", "--seed"), List.of());
        String datasetName = a.string("--dataset", "fashion-mnist");
        FashionMnist.Split split = FashionMnist.Split.parse(a.string("--split", "train"), "--split");
        ImageDataset data;
        if (datasetName.equals("fashion-mnist")) {
            data = FashionMnist.load(Path.of(a.string("--data-dir", FashionMnist.DEFAULT_DIR)), split);
        } else if (datasetName.equals("synthetic")) {
            data = SyntheticImages.generate(split == FashionMnist.Split.TRAIN ? 60_000 : 10_000, a.longValue("--seed", 1, 0));
        } else if (datasetName.equals("folder")) {
            String dir = a.string("--data-dir", null);
            if (dir == null) {
                throw new IllegalArgumentException("Invalid value (missing) for --data-dir: --dataset folder needs <dir>/<label>/*.png|jpg");
            }
            data = ImageFolder.load(Path.of(dir), DecodePolicy.fashionMnist());
        } else {
            throw new IllegalArgumentException("Invalid value " + datasetName + " for --dataset: expected fashion-mnist, synthetic or folder");
        }
        long records = a.longValue("--records", data.count(), 1);
        Properties client = KafkaClientConfig.fromArgs(a).toProperties();
        ReplayProducer.Options o = new ReplayProducer.Options(client, a.string("--topic", "images"),
                a.intValue("--partitions", 1, 1), records, a.doubleValue("--rate", 0, 0),
                DriftScenario.parse(a.string("--scenario", "stationary"), "--scenario"),
                a.longValue("--switch-at", records / 2, 0), Encoding.parse(a.string("--encoding", "png"), "--encoding"),
                a.longValue("--seed", 1, 0));
        ReplayProducer producer = new ReplayProducer();
        Thread main = Thread.currentThread();
        Thread hook = new Thread(() -> {
            producer.stop();
            try {
                main.join(10_000); // let the summary print
            } catch (InterruptedException ignored) {
                // exiting anyway
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        System.err.printf("produce: %s (%,d images, %dx%dx%d) -> %s, scenario %s%n", data.name(), data.count(),
                data.height(), data.width(), data.channels(), o.topic(), o.scenario().id());
        producer.run(data, o, System.err);
    }
}
