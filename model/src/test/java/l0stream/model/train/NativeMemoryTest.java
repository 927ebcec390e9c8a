package l0stream.model.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.model.TestNetworks;
import l0stream.model.gate.GateKind;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * A long run must not grow native memory: every intermediate lives in a per-step scope. Resident
 * memory after step 2,000 must be within 5 % of that after step 200 (the allocator's steady state).
 */
class NativeMemoryTest {

    static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    @Test
    void testResidentMemoryIsFlatOver2000Steps() throws Exception {
        Random rnd = new Random(1);
        Batch[] pool = new Batch[16];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = TestNetworks.syntheticBatch(rnd, 16, 1, 28, 28, 10);
        }
        long at200 = 0;
        try (L0Trainer t = L0Trainer.create(TestNetworks.lenet(GateKind.DEP_FORWARD, 1e-5, 2))) {
            int before = t.network().manager().getManagedArrays().size();
            for (int step = 1; step <= 2000; step++) {
                t.train(pool[step % pool.length]);
                if (step % 50 == 0) {
                    t.evaluate(pool[0]);
                }
                if (step == 200) {
                    System.gc();
                    at200 = rssKb();
                }
            }
            System.gc();
            long at2000 = rssKb();
            int after = t.network().manager().getManagedArrays().size();
            assertTrue(after == before, "arrays attached to the network's manager grew: " + before + " -> " + after);
            double growth = (at2000 - at200) / (double) at200;
            System.out.printf("RSS after 200 steps %d kB, after 2000 steps %d kB (%+.2f%%)%n", at200, at2000, 100 * growth);
            assertTrue(growth <= 0.05, "resident memory grew by " + 100 * growth + "% between step 200 and 2000");
        }
    }
}
