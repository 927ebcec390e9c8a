package l0stream.pipeline.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;

/** The cluster's configuration, classpath and job jar, without starting anything. */
class ClusterConfigTest {

    @TempDir
    Path tmp;

    @Test
    void testConfigYamlLoadsWithDjlParentFirstAndDerivesTaskManagerMemory() throws Exception {
        LocalFlinkCluster.Settings s = LocalFlinkCluster.Settings.defaults(2).withDir(tmp).withPorts(18081, 16123, "9249-9259");
        Files.createDirectories(s.confDir());
        Files.writeString(s.confDir().resolve("config.yaml"), LocalFlinkCluster.configYaml(s));
        Configuration c = GlobalConfiguration.loadConfiguration(s.confDir().toString());
        assertEquals(List.of("ai.djl."), c.get(CoreOptions.ALWAYS_PARENT_FIRST_LOADER_PATTERNS_ADDITIONAL));
        assertEquals("child-first", c.get(CoreOptions.CLASSLOADER_RESOLVE_ORDER));
        assertEquals("18081", c.getString("rest.port", null));
        assertEquals("1", c.getString("taskmanager.numberOfTaskSlots", null));
        assertEquals("fixed-delay", c.getString("restart-strategy.type", null));
        assertEquals(tmp.resolve("checkpoints").toUri().toString(), c.getString("execution.checkpointing.dir", null));
        assertTrue(c.getString("env.java.opts.all", "").contains("--add-opens=java.base/java.util=ALL-UNNAMED"));
        // what bin/config.sh would pass to a TaskManager
        String dyn = TaskExecutorProcessUtils.generateDynamicConfigsStr(TaskExecutorProcessUtils.processSpecFromConfig(c));
        assertTrue(dyn.contains("taskmanager.memory.task.heap.size="), dyn);
    }

    @Test
    void testClusterClasspathLeavesOutOurClassesAndTestJars() {
        String cp = String.join(java.io.File.pathSeparator, System.getProperty("java.class.path"));
        List<String> lib = ClusterClasspath.lib(cp);
        assertTrue(lib.stream().anyMatch(e -> e.contains("flink-runtime-")), "Flink");
        assertTrue(lib.stream().anyMatch(e -> e.contains("pytorch-engine")), "DJL (parent-first)");
        assertTrue(lib.stream().anyMatch(e -> e.contains("flink-connector-kafka")), "the Kafka connector");
        assertFalse(lib.stream().anyMatch(ClusterClasspath::isOurs), "l0stream classes travel in the job jar: " + lib);
        assertFalse(lib.stream().anyMatch(e -> e.contains("junit")), "test jars");
        assertTrue(ClusterClasspath.isOurs("/x/model/target/classes"));
        assertTrue(ClusterClasspath.isOurs("/r/l0stream-model-0.1.0-SNAPSHOT.jar"));
        assertFalse(ClusterClasspath.isOurs("/r/api-0.35.1.jar"));
    }

    @Test
    void testJobJarHoldsOurClassesOnly() throws Exception {
        Path jar = JobJar.build(tmp.resolve("job/job.jar"));
        try (JarFile j = new JarFile(jar.toFile())) {
            assertTrue(j.getEntry("l0stream/pipeline/L0StreamJob.class") != null);
            assertTrue(j.getEntry("l0stream/connectors/kafka/Topics.class") != null);
            assertTrue(j.getEntry("l0stream/model/ModelConfig.class") != null);
            assertFalse(j.stream().anyMatch(e -> e.getName().startsWith("ai/djl/") || e.getName().startsWith("org/apache/flink/")
                    || e.getName().startsWith("org/apache/kafka/")));
        }
        try (var files = Files.list(jar.getParent())) {
            assertEquals(List.of(jar), files.toList(), "no temporary file left behind");
        }
    }

    @Test
    void testTargetParsingNamesTheOption() {
        assertEquals(new RemoteSubmit.Target("127.0.0.1", 8081), RemoteSubmit.Target.parse("127.0.0.1:8081", "--target"));
        for (String bad : List.of("localhost", "host:", ":8081", "host:x", "host:0", "host:70000")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RemoteSubmit.Target.parse(bad, "--target"));
            assertTrue(e.getMessage().startsWith("Invalid value " + bad + " for --target"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RemoteSubmit.checkAnswers(new RemoteSubmit.Target("127.0.0.1", 1), "--target"));
        assertTrue(e.getMessage().contains("no Flink REST API answers"), e.getMessage());
    }

    @Test
    void testSettingsRejectBadValues() {
        LocalFlinkCluster.Settings d = LocalFlinkCluster.Settings.defaults(2);
        assertThrows(IllegalArgumentException.class, () -> LocalFlinkCluster.Settings.defaults(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.withPorts(8081, 8081, ""));
        assertTrue(e.getMessage().contains("--rpc-port"), e.getMessage());
    }
}
