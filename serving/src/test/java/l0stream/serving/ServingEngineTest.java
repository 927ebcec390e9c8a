package l0stream.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.model.DeviceChoice;
import l0stream.model.ImageClassifier;

import org.junit.jupiter.api.Test;

import java.util.Random;

/**
 * The ONNX Runtime engine answers exactly what the DJL engine answers on a shared test set: the
 * same predicted class for every image, each probability within 1e-5.
 */
class ServingEngineTest {

    @Test
    void testOnnxRuntimeAnswersWhatDjlAnswers() throws Exception {
        for (long seed : new long[] {1, 2}) {
            byte[] artifact = SnapshotFixtures.artifact(seed);
            try (ImageClassifier djl = ServingEngine.DJL.load(artifact, DeviceChoice.CPU);
                 ImageClassifier ort = ServingEngine.ONNXRUNTIME.load(artifact, DeviceChoice.CPU)) {
                int n = 200;
                int size = djl.architecture().inputSize();
                float[] images = new float[n * size];
                Random rnd = new Random(seed);
                for (int i = 0; i < images.length; i++) {
                    images[i] = rnd.nextInt(256) / 255f;
                }
                float[] a = djl.predict(images, n);
                float[] b = ort.predict(images, n);
                assertEquals(a.length, b.length);
                int classes = a.length / n;
                for (int i = 0; i < n; i++) {
                    assertEquals(argmax(a, i, classes), argmax(b, i, classes), "image " + i + ": predicted class");
                    for (int c = 0; c < classes; c++) {
                        float d = Math.abs(a[i * classes + c] - b[i * classes + c]);
                        assertTrue(d <= 1e-5, "image " + i + " class " + c + ": DJL " + a[i * classes + c] + ", ONNX Runtime "
                                + b[i * classes + c]);
                    }
                }
                // one image at a time (the serving path at low load) gives the same as the batch
                float[] one = ort.predict(java.util.Arrays.copyOf(images, size), 1);
                for (int c = 0; c < classes; c++) {
                    assertEquals(b[c], one[c], 1e-6);
                }
            }
        }
    }

    private static int argmax(float[] p, int row, int classes) {
        int best = 0;
        for (int c = 1; c < classes; c++) {
            if (p[row * classes + c] > p[row * classes + best]) {
                best = c;
            }
        }
        return best;
    }

    @Test
    void testEngineOptionsFailNamingTheOption() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ServingEngine.parse("tensorrt", "--engine"));
        assertTrue(e.getMessage().contains("--engine") && e.getMessage().contains("onnxruntime"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ServingEngine.ONNXRUNTIME.load(SnapshotFixtures.artifact(1), DeviceChoice.GPU));
        assertTrue(e.getMessage().contains("--device"), e.getMessage());
    }
}
