package l0stream.model.continual;

import l0stream.model.gate.GateNoise;

import l0stream.model.train.Batch;
import l0stream.model.train.L0Trainer;
import l0stream.model.train.StepResult;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one continual learning loop, free of Flink and Kafka: the job's trainer operator and the
 * experiment harness both hand it micro-batches of new records, so an experiment measures exactly
 * what the job does. For each micro-batch {@link #learn} does, in order:
 * <ol>
 *   <li><b>test</b>: scores every record with the current model (deterministic gates) — prequential
 *       accuracy, cumulative, windowed, fading and per class;
 *   <li><b>detect</b>: feeds each record's error (1 wrong, 0 right) to the drift detector; a detection
 *       is counted, logged and, with {@link DriftResponse#RELAX}, lowers λ for a while;
 *   <li><b>hold out</b>: the forgetting monitor's {@link HeldOutProbe} may take a record (at most a
 *       quarter of the batch), which is then never trained on;
 *   <li><b>train</b>: one step on the other new records plus round(b·r ÷ (1 − r)) records drawn from the
 *       replay buffer (drawn before this batch enters it, so replay is always of the past);
 *   <li><b>remember</b>: the trained new records are offered to the {@link ReplayBuffer};
 *   <li><b>probe</b>: every {@code probe-every-steps} steps, the model is scored on the probe
 *       (retention accuracy).
 * </ol>
 *
 * <p>State: everything above that changes what is trained — buffer, probe, detector, relax window,
 * the random stream — and the metrics are in {@link #writeState} (versioned bytes); with the
 * trainer's own checkpoint, a restored learner continues exactly as an uninterrupted one would.
 * The learner does not own the trainer: whoever made it closes it.
 */
public final class ContinualLearner {
    private static final Logger LOG = LoggerFactory.getLogger(ContinualLearner.class);
    private static final int STATE_VERSION = 1;
    private static final int PROBE_CHUNK = 512;
    /**
     * The probe takes at most 1/4 of a micro-batch, so that every micro-batch trains on new records
     * and steps stay one per batch (snapshot-every-steps keeps its meaning); the probe fills over its
     * first capacity × 4 records instead of its first capacity.
     */
    private static final int MAX_HELD_SHARE = 4;

    private final L0Trainer trainer;
    private final ContinualConfig config;
    private final int numClasses;
    private final int imageValues;
    private final GateNoise rnd;
    private final ReplayBuffer replay;
    private final HeldOutProbe probe;
    private final DriftDetector detector;
    private final PrequentialMetrics metrics;
    private long records;
    private long heldOut;
    private long replayed;
    private long driftCount;
    /** Records since the last detection, or −1 before the first. */
    private long recordsSinceDrift = -1;
    private long relaxRemaining;
    private double retentionAccuracy = Double.NaN;
    /** The trainer's {@link L0Trainer#revision()} when {@link #retentionAccuracy} was scored; -1: not this run. */
    private long retentionRevision = -1;

    /** What one {@link #learn} call did: every call takes one training step. */
    public record Outcome(int scored, int correct, int trained, int replayed, int heldOut, StepResult step,
                          boolean driftDetected, boolean probed) {
        /** Whether a training step was taken: always, as the probe takes at most a quarter of a batch. */
        public boolean stepped() {
            return step != null;
        }
    }

    public ContinualLearner(L0Trainer trainer, ContinualConfig config) {
        this.trainer = trainer;
        this.config = config;
        this.numClasses = trainer.network().architecture().numClasses();
        this.imageValues = trainer.network().architecture().inputSize();
        this.rnd = new GateNoise(config.seed() * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L);
        this.replay = new ReplayBuffer(config.replayRatio() == 0 ? 0 : config.replayCapacity(), config.replayPolicy(),
                numClasses, imageValues);
        this.probe = new HeldOutProbe(config.probeCapacity(), imageValues);
        this.detector = DriftDetector.create(config);
        this.metrics = new PrequentialMetrics(config.windowRecords(), numClasses, config.fadingFactor());
    }

    /**
     * Data-parallel trainers each keep their own buffer and probe of their own partitions: give each a
     * different random stream (index 0 keeps the configured one).
     */
    public void useRandomStream(int index) {
        if (index != 0) {
            rnd.restore(new GateNoise(rnd.state() ^ (0xD1B54A32D192ED03L * index)).nextLong());
        }
    }

    public L0Trainer trainer() {
        return trainer;
    }

    public ContinualConfig config() {
        return config;
    }

    /** Test-then-train on a micro-batch of new records (pixels in [0, 1], C×H×W per image). */
    public Outcome learn(Batch batch) {
        int n = batch.size();
        int[] y = batch.labels();
        float[] x = batch.images();
        if (x.length != n * imageValues) {
            throw new IllegalArgumentException("Invalid batch: " + x.length / n + " values per image, the network takes " + imageValues);
        }
        int[] predicted = trainer.evaluate(batch);
        int correct = 0;
        boolean drift = false;
        for (int i = 0; i < n; i++) {
            boolean right = predicted[i] == y[i];
            correct += right ? 1 : 0;
            metrics.record(y[i], right);
            records++;
            if (recordsSinceDrift >= 0) {
                recordsSinceDrift++;
            }
            if (relaxRemaining > 0) {
                relaxRemaining--;
            }
            if (detector != null && detector.add(right ? 0 : 1)) {
                drift = true;
                driftCount++;
                recordsSinceDrift = 0;
                if (config.driftResponse() == DriftResponse.RELAX) {
                    relaxRemaining = config.relaxRecords();
                }
                LOG.info("Drift detected ({}) at record {}: detection {}, windowed accuracy {}", config.driftDetector().id(),
                        records, driftCount, String.format("%.3f", metrics.windowed()));
            }
        }
        // hold out (the probe) or keep for training; 8-bit pixels only where the probe or the buffer stores them
        boolean storesPixels = probe.capacity() > 0 || replay.capacity() > 0;
        byte[][] px = new byte[n][];
        boolean[] keep = new boolean[n];
        int kept = 0;
        int maxHeld = n / MAX_HELD_SHARE; // < n, so every batch trains on at least one new record
        for (int i = 0; i < n; i++) {
            if (storesPixels) {
                px[i] = ExampleStore.quantize(x, i * imageValues, imageValues);
            }
            keep[i] = i - kept >= maxHeld || !probe.offer(px[i], y[i], rnd); // i − kept: held so far
            kept += keep[i] ? 1 : 0;
        }
        heldOut += n - kept;
        int k = Math.min(config.replayFor(kept), replay.size());
        float[] tx = new float[(kept + k) * imageValues];
        int[] ty = new int[kept + k];
        int j = 0;
        for (int i = 0; i < n; i++) {
            if (keep[i]) {
                System.arraycopy(x, i * imageValues, tx, j * imageValues, imageValues);
                ty[j++] = y[i];
            }
        }
        for (int slot : k == 0 ? new int[0] : replay.sample(k, rnd)) {
            replay.copyFloats(slot, tx, j * imageValues);
            ty[j++] = replay.label(slot);
        }
        double lambda = trainer.config().lambda() * (relaxRemaining > 0 ? config.relaxLambdaFactor() : 1);
        StepResult step = trainer.train(new Batch(tx, ty), lambda);
        replayed += k;
        for (int i = 0; i < n; i++) {
            if (keep[i]) {
                replay.offer(px[i], y[i], rnd);
            }
        }
        boolean probed = false;
        if (probe.size() > 0 && trainer.step() % config.probeEverySteps() == 0) {
            retentionAccuracy = scoreProbe();
            retentionRevision = trainer.revision();
            probed = true;
        }
        return new Outcome(n, correct, kept + k, k, n - kept, step, drift, probed);
    }

    /**
     * Scores the probe now (a snapshot is about to be cut), so that the snapshot's retention figure is
     * its own model's; does nothing without a probe, or when the figure was scored on this very model
     * (the probe changes only in {@link #learn}, which steps the model): a snapshot due at a probe step
     * would otherwise pay for the same forward pass over the probe twice.
     */
    public void refreshRetention() {
        if (probe.size() > 0 && retentionRevision != trainer.revision()) {
            retentionAccuracy = scoreProbe();
            retentionRevision = trainer.revision();
        }
    }

    /** Accuracy of the current model on the held-out probe (NaN if it is empty). */
    public double scoreProbe() {
        int size = probe.size();
        if (size == 0) {
            return Double.NaN;
        }
        long right = 0;
        for (int from = 0; from < size; from += PROBE_CHUNK) {
            int m = Math.min(PROBE_CHUNK, size - from);
            float[] px = new float[m * imageValues];
            int[] labels = new int[m];
            for (int i = 0; i < m; i++) {
                probe.copyFloats(from + i, px, i * imageValues);
                labels[i] = probe.label(from + i);
            }
            int[] p = trainer.evaluate(new Batch(px, labels));
            for (int i = 0; i < m; i++) {
                right += p[i] == labels[i] ? 1 : 0;
            }
        }
        return right / (double) size;
    }

    // ---- figures ----

    public PrequentialMetrics metrics() {
        return metrics;
    }

    public ReplayBuffer replay() {
        return replay;
    }

    public HeldOutProbe probe() {
        return probe;
    }

    /** Records scored so far (trained on or held out). */
    public long records() {
        return records;
    }

    public long heldOut() {
        return heldOut;
    }

    public long replayed() {
        return replayed;
    }

    public long driftCount() {
        return driftCount;
    }

    /** Records since the last detected drift, or −1 if none was detected yet. */
    public long recordsSinceDrift() {
        return recordsSinceDrift;
    }

    /** Whether λ is relaxed now (a detection's relax window is open). */
    public boolean relaxed() {
        return relaxRemaining > 0;
    }

    /** The last probe score, NaN before the first. */
    public double retentionAccuracy() {
        return retentionAccuracy;
    }

    // ---- state ----

    /**
     * <pre>
     * u8 version (1)
     * i64 rng state, records, heldOut, replayed, driftCount, recordsSinceDrift, relaxRemaining; f64 retentionAccuracy
     * metrics: i32 n, u8[n] window oldest first (label | right·0x80), f64 fadedCorrect, fadedCount, i64 correct, scored
     * u8 detector kind (ordinal), then its own fields
     * replay: i64 seen, i32 classes, i64[classes] seen per class, i32 n, u16[n] labels, u8[n·pixels]
     * probe: i64 seen, i32 n, u16[n] labels, u8[n·pixels]
     * </pre>
     */
    public byte[] writeState() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024 + (replay.size() + probe.size()) * (imageValues + 2));
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(STATE_VERSION);
            for (long v : new long[] {rnd.state(), records, heldOut, replayed, driftCount, recordsSinceDrift, relaxRemaining}) {
                out.writeLong(v);
            }
            out.writeDouble(retentionAccuracy);
            metrics.write(out);
            out.writeByte(config.driftDetector().ordinal());
            if (detector != null) {
                detector.write(out);
            }
            replay.write(out);
            probe.write(out);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Restores what {@link #writeState} wrote. A state written with another detector kind keeps
     * everything but the detector, which starts afresh; a smaller capacity keeps the first images.
     */
    public void restoreState(byte[] state) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(state));
        int version = in.readUnsignedByte();
        if (version != STATE_VERSION) {
            throw new IOException("Learner state has version " + version + ", this l0stream reads " + STATE_VERSION);
        }
        rnd.restore(in.readLong());
        records = in.readLong();
        heldOut = in.readLong();
        replayed = in.readLong();
        driftCount = in.readLong();
        recordsSinceDrift = in.readLong();
        relaxRemaining = in.readLong();
        retentionAccuracy = in.readDouble();
        retentionRevision = -1;
        metrics.read(in);
        int kind = in.readUnsignedByte();
        if (kind >= DriftDetector.Kind.values().length) {
            throw new IOException("Invalid detector kind " + kind + " in learner state");
        }
        DriftDetector.Kind written = DriftDetector.Kind.values()[kind];
        DriftDetector stored = written == config.driftDetector() ? detector
                : DriftDetector.create(config.withDetector(written, config.driftResponse()));
        if (stored != null) {
            stored.read(in);
        }
        replay.read(in);
        probe.read(in);
    }
}
