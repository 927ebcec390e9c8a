package l0stream.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.model.DeviceChoice;
import l0stream.model.SnapshotPredictor;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;

class BatchedInferenceTest {

    @Test
    void testConcurrentRequestsGetTheirOwnImagesAnswer() throws Exception {
        try (SnapshotPredictor p = SnapshotPredictor.load(SnapshotFixtures.artifact(3), DeviceChoice.CPU)) {
            int threads = 8;
            int perThread = 40;
            float[][] images = new float[threads * perThread][];
            float[][] expected = new float[images.length][];
            Random rnd = new Random(1);
            for (int i = 0; i < images.length; i++) {
                images[i] = new float[784];
                for (int k = 0; k < 784; k++) {
                    images[i][k] = rnd.nextFloat();
                }
                expected[i] = p.predict(images[i], 1);
            }
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            try (BatchedInference b = new BatchedInference(p, 16, "test")) {
                List<Thread> ts = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    Thread th = new Thread(() -> {
                        try {
                            for (int j = 0; j < perThread; j++) {
                                int i = id * perThread + j;
                                assertArrayEquals(expected[i], b.predict(images[i]), 1e-5f, "image " + i);
                            }
                        } catch (Throwable e) {
                            errors.add(e);
                        }
                    });
                    th.start();
                    ts.add(th);
                }
                for (Thread t : ts) {
                    t.join();
                }
                assertTrue(errors.isEmpty(), errors.toString());
                assertTrue(b.meanBatchSize() > 1.0, "concurrent requests were batched: mean " + b.meanBatchSize());
                assertThrows(IllegalArgumentException.class, () -> b.predict(new float[783]));
                b.close();
                assertThrows(RejectedExecutionException.class, () -> b.predict(images[0]));
            }
        }
    }
}
