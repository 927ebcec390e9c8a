package l0stream.serving;

import l0stream.model.ImageClassifier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;

/**
 * Runs one model's predictions on one thread, in batches of whatever requests queued up while the
 * previous batch ran (up to {@code maxBatch}). No request waits for a batch to fill: at low load
 * every batch holds one image, under load batches grow by themselves. This is what lets a small
 * model serve many concurrent requests: one forward pass over n images costs far less than n
 * passes, intra-op threads are not oversubscribed by many callers, and the per-call JNI and
 * allocation overhead, which dominates a batch of one for LeNet, is paid once per batch.
 */
final class BatchedInference implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BatchedInference.class);

    private record Pending(float[] pixels, CompletableFuture<float[]> result) {}

    private static final Pending STOP = new Pending(new float[0], new CompletableFuture<>());

    private final ImageClassifier predictor;
    private final int maxBatch;
    private final int imageSize;
    private final BlockingQueue<Pending> queue;
    private final Thread worker;
    private volatile boolean closed;
    private final LongAdder batches = new LongAdder();
    private final LongAdder images = new LongAdder();

    BatchedInference(ImageClassifier predictor, int maxBatch, String name) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("Invalid value " + maxBatch + " for --max-batch: must be >= 1");
        }
        this.predictor = predictor;
        this.maxBatch = maxBatch;
        var arch = predictor.architecture();
        this.imageSize = arch.inputChannels() * arch.inputHeight() * arch.inputWidth();
        this.queue = new ArrayBlockingQueue<>(Math.max(1024, maxBatch * 16));
        this.worker = new Thread(this::run, "inference-" + name);
        worker.setDaemon(true);
        worker.start();
    }

    /** Class probabilities for one image; blocks until its batch has run. */
    float[] predict(float[] pixels) throws InterruptedException {
        if (pixels.length != imageSize) {
            throw new IllegalArgumentException("image has " + pixels.length + " values, the model takes " + imageSize);
        }
        CompletableFuture<float[]> f = new CompletableFuture<>();
        if (closed) {
            throw new RejectedExecutionException("model closed");
        }
        queue.put(new Pending(pixels, f));
        try {
            return f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    private void run() {
        List<Pending> batch = new ArrayList<>(maxBatch);
        try {
            while (true) {
                Pending first = queue.take();
                if (first == STOP) {
                    break;
                }
                batch.add(first);
                queue.drainTo(batch, maxBatch - 1);
                boolean stop = batch.remove(STOP);
                runBatch(batch);
                batch.clear();
                if (stop) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // anything still queued after close: fail it rather than leave its caller waiting
        List<Pending> rest = new ArrayList<>();
        queue.drainTo(rest);
        rest.forEach(p -> p.result().completeExceptionally(new RejectedExecutionException("model closed")));
    }

    private void runBatch(List<Pending> batch) {
        int n = batch.size();
        batches.increment();
        images.add(n);
        float[] images = new float[n * imageSize];
        for (int i = 0; i < n; i++) {
            System.arraycopy(batch.get(i).pixels(), 0, images, i * imageSize, imageSize);
        }
        try {
            float[] probs = predictor.predict(images, n);
            int classes = probs.length / n;
            for (int i = 0; i < n; i++) {
                float[] p = new float[classes];
                System.arraycopy(probs, i * classes, p, 0, classes);
                batch.get(i).result().complete(p);
            }
        } catch (RuntimeException e) {
            LOG.error("inference batch of {} failed", n, e);
            batch.forEach(p -> p.result().completeExceptionally(e));
        }
    }

    /** Mean images per forward pass so far. */
    double meanBatchSize() {
        long b = batches.sum();
        return b == 0 ? 0 : (double) images.sum() / b;
    }

    /** Finishes what is queued, then stops the worker; call before closing the predictor. */
    @Override
    public void close() {
        closed = true;
        try {
            queue.put(STOP);
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
