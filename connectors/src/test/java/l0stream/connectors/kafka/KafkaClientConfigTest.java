package l0stream.connectors.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import l0stream.connectors.cli.Args;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

class KafkaClientConfigTest {

    @TempDir
    Path dir;

    @Test
    void testFileThenOverridesThenBootstrap() throws Exception {
        Path f = dir.resolve("client.properties");
        Files.writeString(f, "bootstrap.servers=kafka:9093\nsecurity.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n"
                + "ssl.truststore.password=s3cret-ts\n");
        Args a = Args.parse(new String[] {"--kafka-config", f.toString(), "--kafka-property", "sasl.mechanism=SCRAM-SHA-512",
                "--kafka-property", "client.id=x"}, KafkaClientConfig.OPTIONS, List.of());
        KafkaClientConfig c = KafkaClientConfig.fromArgs(a);
        assertEquals("kafka:9093", c.bootstrap(), "the file's bootstrap when --bootstrap is not given");
        assertEquals("SCRAM-SHA-512", c.toProperties().getProperty("sasl.mechanism"), "--kafka-property over the file");
        assertEquals("x", c.toProperties().getProperty("client.id"));
        assertTrue(c.isSecured());
        KafkaClientConfig b = KafkaClientConfig.of("other:1", f, List.of());
        assertEquals("other:1", b.bootstrap(), "--bootstrap wins");
        assertEquals(KafkaClientConfig.DEFAULT_BOOTSTRAP, KafkaClientConfig.of(null, null, List.of()).bootstrap());
        assertFalse(c.toString().contains("s3cret-ts"), c.toString());
    }

    @Test
    void testSecretsAreNeverShown() {
        for (String k : List.of("sasl.jaas.config", "ssl.truststore.password", "ssl.keystore.password", "ssl.key.password",
                "sasl.oauthbearer.client.credentials.client.secret", "ssl.keystore.key")) {
            assertTrue(KafkaClientConfig.isSecret(k), k);
        }
        for (String k : List.of("bootstrap.servers", "security.protocol", "sasl.mechanism", "ssl.truststore.location")) {
            assertFalse(KafkaClientConfig.isSecret(k), k);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KafkaClientConfig.of(null, null, List.of("hunter2-no-equals-sign")));
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
        assertTrue(e.getMessage().contains("--kafka-property"), e.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> KafkaClientConfig.of(null, dir.resolve("nope.properties"), List.of()));
        assertTrue(missing.getMessage().contains("--kafka-config"), missing.getMessage());
    }
}
