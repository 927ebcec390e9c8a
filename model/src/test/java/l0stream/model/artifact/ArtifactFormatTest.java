package l0stream.model.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;

import com.fasterxml.jackson.databind.node.ObjectNode;

import l0stream.model.DeviceChoice;
import l0stream.model.PyTorchRuntime;
import l0stream.model.SnapshotPredictor;
import l0stream.model.TestNetworks;
import l0stream.model.gate.GateKind;
import l0stream.model.gate.GateNoise;
import l0stream.model.nn.Architecture;
import l0stream.model.nn.ChannelPruner;
import l0stream.model.nn.CompactNetwork;
import l0stream.model.nn.GatedNetwork;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

class ArtifactFormatTest {

    private static byte[] artifact;
    private static CompactNetwork network;

    @BeforeAll
    static void build() {
        try (NDManager m = PyTorchRuntime.engine().newBaseManager();
             GatedNetwork net = new GatedNetwork(m, Architecture.lenet5Caffe(), GateKind.HC, new GateNoise(8))) {
            float[] la = new float[50];
            for (int i = 0; i < la.length; i++) {
                la[i] = i % 3 == 0 ? -6f : 2f;
            }
            TestNetworks.set(net.gateParameters().get("log_alpha1"), la);
            network = ChannelPruner.prune(net);
        }
        ObjectNode meta = TensorArchive.json().createObjectNode().put("modelId", "m1").put("version", 7);
        artifact = SnapshotArtifact.write(network, meta);
    }

    @Test
    void testRoundTripGivesSamePredictions() throws Exception {
        SnapshotArtifact.Loaded loaded = SnapshotArtifact.read(artifact);
        assertEquals(network.architecture(), loaded.network().architecture());
        assertEquals(7, loaded.metadata().get("version").asInt());
        float[] x = new float[3 * 784];
        Random r = new Random(1);
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat();
        }
        try (SnapshotPredictor a = SnapshotPredictor.of(network, loaded.metadata(), DeviceChoice.CPU);
             SnapshotPredictor b = SnapshotPredictor.load(artifact, DeviceChoice.CPU)) {
            assertEquals(0f, TestNetworks.maxAbsDiff(a.predict(x, 3), b.predict(x, 3)));
            assertEquals(33, b.architecture().layers().get(1).width());
        }
    }

    @Test
    void testTruncatedArtifactIsRefused() {
        byte[] cut = Arrays.copyOf(artifact, artifact.length - 1000);
        ArtifactFormatException e = assertThrows(ArtifactFormatException.class, () -> SnapshotArtifact.read(cut));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        byte[] tiny = Arrays.copyOf(artifact, 10);
        e = assertThrows(ArtifactFormatException.class, () -> SnapshotArtifact.read(tiny));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void testBitFlippedArtifactIsRefused() {
        byte[] flipped = artifact.clone();
        flipped[flipped.length / 2] ^= 0x10;
        ArtifactFormatException e = assertThrows(ArtifactFormatException.class, () -> SnapshotArtifact.read(flipped));
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
    }

    @Test
    void testWrongMagicIsRefused() {
        byte[] wrong = artifact.clone();
        wrong[0] = 'X';
        ArtifactFormatException e = assertThrows(ArtifactFormatException.class, () -> SnapshotArtifact.read(wrong));
        assertTrue(e.getMessage().contains("wrong magic 'X0SN'"), e.getMessage());
        // a checkpoint is not a snapshot
        assertThrows(ArtifactFormatException.class, () -> SnapshotArtifact.read(
                TensorArchive.write("L0CK", 1, TensorArchive.json().createObjectNode(), java.util.List.of())));
    }

    @Test
    void testFutureVersionIsRefused() {
        byte[] future = artifact.clone();
        int next = SnapshotArtifact.FORMAT_VERSION + 1;
        ByteBuffer.wrap(future).putShort(4, (short) next);
        ArtifactFormatException e = assertThrows(ArtifactFormatException.class, () -> SnapshotArtifact.read(future));
        assertTrue(e.getMessage().contains("format version " + next)
                && e.getMessage().contains("1 to " + SnapshotArtifact.FORMAT_VERSION), e.getMessage());
    }

    @Test
    void testTamperedButRehashedTensorIsCaughtByStructureChecks() {
        // An artifact whose architecture and tensors disagree (hash recomputed) is still refused.
        ObjectNode header = TensorArchive.json().createObjectNode().put("format", "l0stream-snapshot");
        header.set("architecture", ArchitectureJson.write(network.architecture()));
        byte[] bad = TensorArchive.write(SnapshotArtifact.MAGIC, 1, header,
                network.tensors().values().stream().skip(1).toList());
        ArtifactFormatException e = assertThrows(ArtifactFormatException.class, () -> SnapshotArtifact.read(bad));
        assertTrue(e.getMessage().contains("layer0.weight is missing"), e.getMessage());
    }
}
