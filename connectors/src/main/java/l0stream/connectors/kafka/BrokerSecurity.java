package l0stream.connectors.kafka;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * TLS and SASL/SCRAM material for the local secure broker, made once under {@code <dir>} with the
 * JDK's own {@code keytool} (no openssl needed): a self-signed CA, the broker's PKCS#12 keystore
 * with a certificate for {@code 127.0.0.1}/{@code localhost} signed by that CA, a truststore with
 * the CA, and random passwords for the keystores, the inter-broker user {@code admin} and the
 * client user {@code l0stream}. Every file is readable by its owner only. Passwords reach keytool
 * through its environment ({@code -storepass:env}), never its command line.
 */
public final class BrokerSecurity {

    private static final Logger LOG = LoggerFactory.getLogger(BrokerSecurity.class);
    public static final String MECHANISM = "SCRAM-SHA-512";
    public static final String CLIENT_USER = "l0stream";
    public static final String ADMIN_USER = "admin";

    private final Path dir;
    private final Properties secrets;

    private BrokerSecurity(Path dir, Properties secrets) {
        this.dir = dir;
        this.secrets = secrets;
    }

    /** Loads the material in {@code dir}, creating it first if it is not there. */
    public static BrokerSecurity ensure(Path dir) {
        Path file = dir.resolve("secrets.properties");
        try {
            if (!Files.exists(file)) {
                create(dir);
            }
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(file)) {
                p.load(r);
            }
            return new BrokerSecurity(dir, p);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot prepare the secure broker's TLS/SASL material in " + dir, e);
        }
    }

    private static void create(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        Properties s = new Properties();
        for (String k : new String[] {"ca.password", "keystore.password", "truststore.password", "admin.password", "client.password"}) {
            s.setProperty(k, randomSecret());
        }
        Map<String, String> env = Map.of("CA_PW", s.getProperty("ca.password"), "KS_PW", s.getProperty("keystore.password"),
                "TS_PW", s.getProperty("truststore.password"));
        String ca = dir.resolve("ca.p12").toString();
        String ks = dir.resolve("broker.p12").toString();
        String ts = dir.resolve("truststore.p12").toString();
        String caPem = dir.resolve("ca.pem").toString();
        String csr = dir.resolve("broker.csr").toString();
        String crt = dir.resolve("broker.pem").toString();
        keytool(env, "-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=l0stream local CA",
                "-ext", "bc:c", "-validity", "3650", "-storetype", "PKCS12", "-keystore", ca, "-storepass:env", "CA_PW");
        keytool(env, "-exportcert", "-rfc", "-alias", "ca", "-keystore", ca, "-storepass:env", "CA_PW", "-file", caPem);
        keytool(env, "-genkeypair", "-alias", "broker", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-validity", "3650", "-storetype", "PKCS12", "-keystore", ks, "-storepass:env", "KS_PW");
        keytool(env, "-certreq", "-alias", "broker", "-keystore", ks, "-storepass:env", "KS_PW", "-file", csr);
        keytool(env, "-gencert", "-rfc", "-alias", "ca", "-keystore", ca, "-storepass:env", "CA_PW", "-infile", csr,
                "-outfile", crt, "-validity", "3650", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-ext", "EKU=serverAuth");
        keytool(env, "-importcert", "-noprompt", "-alias", "ca", "-keystore", ks, "-storepass:env", "KS_PW", "-file", caPem);
        keytool(env, "-importcert", "-alias", "broker", "-keystore", ks, "-storepass:env", "KS_PW", "-file", crt);
        keytool(env, "-importcert", "-noprompt", "-alias", "ca", "-storetype", "PKCS12", "-keystore", ts,
                "-storepass:env", "TS_PW", "-file", caPem);
        Files.deleteIfExists(Path.of(csr));
        for (String f : new String[] {ca, ks, ts, caPem, crt}) {
            Files.setPosixFilePermissions(Path.of(f), PosixFilePermissions.fromString("rw-------"));
        }
        writePrivate(dir.resolve("secrets.properties"), s, "secure local broker secrets (generated; owner-only)");
        LOG.info("secure broker material created in {} (CA, broker keystore, truststore, SCRAM users {} and {})", dir,
                ADMIN_USER, CLIENT_USER);
    }

    /** {@code --add-scram} arguments for {@code kafka-storage format}: the users exist from the first start. */
    public List<String> scramFormatArgs() {
        List<String> a = new ArrayList<>();
        a.add("--add-scram");
        a.add(MECHANISM + "=[name=" + ADMIN_USER + ",password=" + secrets.getProperty("admin.password") + "]");
        a.add("--add-scram");
        a.add(MECHANISM + "=[name=" + CLIENT_USER + ",password=" + secrets.getProperty("client.password") + "]");
        return a;
    }

    /** server.properties lines for a SASL_SSL listener named {@code SASL_SSL}. */
    public List<String> serverProperties() {
        return List.of(
                "sasl.enabled.mechanisms=" + MECHANISM,
                "sasl.mechanism.inter.broker.protocol=" + MECHANISM,
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=" + jaas(ADMIN_USER, secrets.getProperty("admin.password")),
                "ssl.keystore.type=PKCS12",
                "ssl.keystore.location=" + dir.resolve("broker.p12").toAbsolutePath(),
                "ssl.keystore.password=" + secrets.getProperty("keystore.password"),
                "ssl.key.password=" + secrets.getProperty("keystore.password"),
                "ssl.truststore.type=PKCS12",
                "ssl.truststore.location=" + dir.resolve("truststore.p12").toAbsolutePath(),
                "ssl.truststore.password=" + secrets.getProperty("truststore.password"),
                "ssl.client.auth=none");
    }

    /** What a client needs to talk to the broker at {@code bootstrap} as user {@code l0stream}. */
    public KafkaClientConfig clientConfig(String bootstrap) {
        return KafkaClientConfig.of(bootstrap, null, List.of(
                "security.protocol=SASL_SSL",
                "sasl.mechanism=" + MECHANISM,
                "sasl.jaas.config=" + jaas(CLIENT_USER, secrets.getProperty("client.password")),
                "ssl.truststore.type=PKCS12",
                "ssl.truststore.location=" + dir.resolve("truststore.p12").toAbsolutePath(),
                "ssl.truststore.password=" + secrets.getProperty("truststore.password")));
    }

    /** Writes {@link #clientConfig} as a properties file (owner-only) for {@code --kafka-config}. */
    public Path writeClientProperties(Path file, String bootstrap) {
        Properties p = new Properties();
        p.putAll(clientConfig(bootstrap).asMap());
        try {
            writePrivate(file, p, "Kafka client properties for the secure local broker: --kafka-config " + file);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + file, e);
        }
        return file;
    }

    /** Every secret here, so a test can check that none of them leaks into output. */
    public List<String> secretValues() {
        return secrets.stringPropertyNames().stream().map(secrets::getProperty).toList();
    }

    static String jaas(String user, String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user + "\" password=\""
                + password + "\";";
    }

    private static String randomSecret() {
        byte[] b = new byte[18];
        new SecureRandom().nextBytes(b);
        // alphanumeric only: it goes through JAAS and kafka-storage's [name=..,password=..] syntax unquoted
        return java.util.HexFormat.of().formatHex(b);
    }

    private static void writePrivate(Path file, Properties p, String comment) throws IOException {
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), ".secret", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            p.store(w, comment);
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static void keytool(Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("keytool " + args[0] + " failed: " + out.trim());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running keytool", e);
        }
    }
}
