package l0stream.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.model.gate.GateKind;

import org.junit.jupiter.api.Test;

import java.util.Map;

class PipelineConfigTest {

    private static String error(Map<String, String> m) {
        return assertThrows(IllegalArgumentException.class, () -> PipelineConfig.from(m)).getMessage();
    }

    @Test
    void testDefaultsAndOverrides() {
        PipelineConfig d = PipelineConfig.from(Map.of("allow-unsigned", "true"));
        assertEquals("127.0.0.1:9092", d.bootstrap());
        assertEquals(GateKind.DEP_FORWARD, d.gates());
        assertEquals("images.dlq", d.deadLetterTopic());
        assertEquals(28, d.decodePolicy().height());
        PipelineConfig v = PipelineConfig.from(Map.of("network", "vgg-narrow", "gates", "hc", "batch-size", "16",
                "signing-key", "/keys/snapshot.key"));
        assertEquals("/keys/snapshot.key", v.signingKey());
        assertEquals(3, v.decodePolicy().channels());
        assertEquals(16, v.batchSize());
        assertEquals(GateKind.HC, v.modelConfig().gates());
    }

    @Test
    void testBadConfigFailsFastNamingTheKey() {
        assertEquals("Invalid value 0 for batch-size: must be an integer >= 1", error(Map.of("batch-size", "0")));
        assertTrue(error(Map.of()).startsWith("Invalid value (empty) for signing-key"), "unsigned only when asked");
        assertEquals("Invalid value yes for allow-unsigned: expected true or false", error(Map.of("allow-unsigned", "yes")));
        assertEquals("Invalid value lots for lambda: must be a number >= 0.0", error(Map.of("lambda", "lots")));
        assertEquals("Invalid value resnet for network: expected one of lenet5, vgg-narrow, vgg16", error(Map.of("network", "resnet")));
        assertEquals("Unknown configuration key batchsize (see --help for the keys)", error(Map.of("batchsize", "3")));
        assertTrue(error(Map.of("snapshot-every-steps", "0")).contains("snapshot-every-steps and snapshot-every-seconds"));
        assertTrue(error(Map.of("snapshot-topic", "images")).startsWith("Invalid value images for snapshot-topic"));
        assertTrue(error(Map.of("parallelism", "2", "input-partitions", "1", "allow-unsigned", "true"))
                .startsWith("Invalid value 2 for parallelism"));
        assertEquals("Invalid value 0 for merge-every-steps: must be an integer >= 1", error(Map.of("merge-every-steps", "0")));
        assertTrue(error(Map.of("momentum", "1")).startsWith("Invalid value 1 for momentum"));
        assertTrue(error(Map.of("gate-init", "louizos", "allow-unsigned", "true"))
                .startsWith("Invalid value louizos for gate-init with gates dep-forward"));
        assertEquals(l0stream.model.gate.GateInit.LOUIZOS, PipelineConfig.from(Map.of("gate-init", "louizos", "gates", "hc",
                "allow-unsigned", "true")).modelConfig().gateInit());
    }

    @Test
    void testHelpDocumentsEveryKey() {
        String help = PipelineOption.help();
        for (PipelineOption<?> o : PipelineOption.all()) {
            assertTrue(help.contains("--" + o.key()), o.key());
            assertTrue(!o.doc().isBlank(), o.key());
        }
    }

    @Test
    void testContinualKeysAreTypedAndBadValuesNameTheKey() {
        Map<String, String> ok = new java.util.HashMap<>(Map.of("allow-unsigned", "true", "replay-ratio", "0.25",
                "replay-policy", "reservoir", "drift-detector", "adwin", "drift-response", "relax", "probe-capacity", "0"));
        l0stream.model.continual.ContinualConfig c = PipelineConfig.from(ok).continual();
        assertEquals(0.25, c.replayRatio());
        assertEquals(l0stream.model.continual.ReplayPolicy.RESERVOIR, c.replayPolicy());
        assertEquals(l0stream.model.continual.DriftDetector.Kind.ADWIN, c.driftDetector());
        assertEquals(l0stream.model.continual.DriftResponse.RELAX, c.driftResponse());
        assertEquals(0, c.probeCapacity());
        for (String[] bad : new String[][] {{"replay-ratio", "1"}, {"replay-ratio", "-0.1"}, {"replay-capacity", "-1"},
                {"replay-policy", "fifo"}, {"drift-detector", "ddm"}, {"drift-response", "reset"}, {"fading-factor", "1"},
                {"probe-every-steps", "0"}}) {
            Map<String, String> m = new java.util.HashMap<>(Map.of("allow-unsigned", "true"));
            m.put(bad[0], bad[1]);
            String e = error(m);
            assertTrue(e.contains(bad[0]) && e.contains(bad[1]), e);
        }
    }
}
