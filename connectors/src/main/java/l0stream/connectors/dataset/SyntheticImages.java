package l0stream.connectors.dataset;

import java.util.Random;

/**
 * A learnable stand-in for Fashion-MNIST when it is not installed: 28×28 gray images where class
 * c draws a bright bar at an angle and position of its own, plus noise. Deterministic per seed.
 */
public final class SyntheticImages {

    private SyntheticImages() {}

    public static ImageDataset generate(int count, long seed) {
        Random rnd = new Random(seed);
        byte[] px = new byte[count * 784];
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            int c = rnd.nextInt(10);
            labels[i] = c;
            double angle = Math.PI * c / 10;
            double ox = 14 + rnd.nextGaussian(), oy = 14 + rnd.nextGaussian();
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    double d = Math.abs((x - ox) * Math.sin(angle) - (y - oy) * Math.cos(angle));
                    double v = Math.max(0, 1 - d / 2.5) * 220 + rnd.nextInt(36);
                    px[i * 784 + y * 28 + x] = (byte) Math.min(255, (int) v);
                }
            }
        }
        return new ImageDataset("synthetic", count, 28, 28, 1, px, labels);
    }
}
