package l0stream.connectors.kafka;

import l0stream.connectors.cli.Args;

import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The Kafka client settings every client l0stream creates starts from — the Flink source and
 * sinks, the dead-letter sink, {@code produce}, {@code serve}, the benchmarks and the tests'
 * helpers — so a secured cluster is configured once: a standard client properties file
 * ({@code --kafka-config}) plus {@code key=value} overrides ({@code --kafka-property}, repeatable),
 * with {@code --bootstrap} winning over both when given. Each client then sets only what its own
 * job needs (serialisers, isolation level, transactions).
 *
 * <p>Secrets never leave this object in readable form: {@link #toString()} and
 * {@link #redacted()} hide every value whose key {@link #isSecret names a secret}, and parse
 * errors name the key but never echo the value.
 */
public final class KafkaClientConfig implements Serializable {

    private static final long serialVersionUID = 1L;
    public static final String DEFAULT_BOOTSTRAP = "127.0.0.1:9092";
    public static final String HIDDEN = "[hidden]";
    private static final Pattern SECRET = Pattern.compile("(?i).*(password|secret|sasl\\.jaas\\.config|token|credential|\\.key$|keystore\\.key|private).*");

    private final TreeMap<String, String> properties;

    private KafkaClientConfig(Map<String, String> properties) {
        this.properties = new TreeMap<>(properties);
    }

    /** Just a bootstrap address, no security: the local broker. */
    public static KafkaClientConfig plaintext(String bootstrap) {
        return new KafkaClientConfig(Map.of("bootstrap.servers", bootstrap));
    }

    /**
     * @param bootstrap  {@code --bootstrap}, or null when not given
     * @param configFile {@code --kafka-config}, or null
     * @param overrides  {@code --kafka-property key=value} values, in order (later wins)
     */
    public static KafkaClientConfig of(String bootstrap, Path configFile, List<String> overrides) {
        Map<String, String> m = new TreeMap<>();
        if (configFile != null) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(configFile, StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (IOException e) {
                throw new IllegalArgumentException("Invalid value " + configFile + " for --kafka-config: cannot read it ("
                        + e.getClass().getSimpleName() + ")", e);
            }
            p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k).trim()));
        }
        for (String o : overrides) {
            int eq = o.indexOf('=');
            if (eq <= 0) {
                // never echo the text: it may be a secret typed in the wrong form
                throw new IllegalArgumentException("Invalid value for --kafka-property: expected key=value (the value is not shown)");
            }
            m.put(o.substring(0, eq).trim(), o.substring(eq + 1).trim());
        }
        if (bootstrap != null && !bootstrap.isBlank()) {
            m.put("bootstrap.servers", bootstrap);
        }
        m.putIfAbsent("bootstrap.servers", DEFAULT_BOOTSTRAP);
        return new KafkaClientConfig(m);
    }

    /** From a command line's {@code --bootstrap}, {@code --kafka-config} and {@code --kafka-property} options. */
    public static KafkaClientConfig fromArgs(Args a) {
        String file = a.string("--kafka-config", null);
        return of(a.string("--bootstrap", null), file == null ? null : Path.of(file), a.strings("--kafka-property"));
    }

    /** The command-line options {@link #fromArgs} reads. */
    public static final List<String> OPTIONS = List.of("--bootstrap", "--kafka-config", "--kafka-property");

    public String bootstrap() {
        return properties.get("bootstrap.servers");
    }

    public boolean isSecured() {
        String p = properties.getOrDefault("security.protocol", "PLAINTEXT");
        return !p.equalsIgnoreCase("PLAINTEXT");
    }

    /** A fresh, mutable copy for one client to add its own settings to. */
    public Properties toProperties() {
        Properties p = new Properties();
        p.putAll(properties);
        return p;
    }

    public Map<String, String> asMap() {
        return Collections.unmodifiableMap(properties);
    }

    /** A copy with {@code key} set (e.g. a test's wrong password). */
    public KafkaClientConfig with(String key, String value) {
        TreeMap<String, String> m = new TreeMap<>(properties);
        m.put(key, value);
        return new KafkaClientConfig(m);
    }

    public static boolean isSecret(String key) {
        return SECRET.matcher(key).matches();
    }

    public Map<String, String> redacted() {
        Map<String, String> m = new TreeMap<>();
        properties.forEach((k, v) -> m.put(k, isSecret(k) ? HIDDEN : v));
        return m;
    }

    @Override
    public String toString() {
        return "KafkaClientConfig" + redacted();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KafkaClientConfig k && k.properties.equals(properties);
    }

    @Override
    public int hashCode() {
        return properties.hashCode();
    }
}
