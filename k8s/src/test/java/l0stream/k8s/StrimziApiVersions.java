package l0stream.k8s;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.deser.BeanDeserializerModifier;
import com.fasterxml.jackson.databind.introspect.AnnotatedMember;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;

import io.strimzi.crdgenerator.annotations.PresentInVersions;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Strimzi's model classes serve every API version at once; a property that only some versions
 * have carries {@link PresentInVersions}. This modifier hides the properties that version
 * {@code apiVersion} lacks, so a strict reader reports them as unknown fields, as the
 * Kubernetes API server would for that version's CRD schema.
 */
final class StrimziApiVersions extends BeanDeserializerModifier {

    private static final Pattern VERSION = Pattern.compile("v(\\d+)(?:(alpha|beta)(\\d+))?");
    private static final Comparator<String> ORDER = Comparator.comparingInt((String v) -> part(v, 1))
            .thenComparingInt(v -> stability(v)).thenComparingInt(v -> part(v, 3));

    private final String apiVersion;

    /** @param apiVersion the version part of the manifest's apiVersion, e.g. {@code v1} */
    StrimziApiVersions(String apiVersion) {
        parse(apiVersion);
        this.apiVersion = apiVersion;
    }

    @Override
    public List<BeanPropertyDefinition> updateProperties(DeserializationConfig config, BeanDescription beanDesc,
                                                         List<BeanPropertyDefinition> properties) {
        if (!beanDesc.getBeanClass().getName().startsWith("io.strimzi.")) {
            return properties;
        }
        List<BeanPropertyDefinition> kept = new ArrayList<>();
        for (BeanPropertyDefinition p : properties) {
            if (presentIn(p)) {
                kept.add(p);
            }
        }
        return kept;
    }

    private boolean presentIn(BeanPropertyDefinition p) {
        return Stream.of(p.getGetter(), p.getSetter(), p.getField())
                .filter(m -> m != null)
                .map(AnnotatedMember::getAnnotated)
                .map(e -> e.getAnnotation(PresentInVersions.class))
                .filter(a -> a != null)
                .allMatch(a -> inRange(apiVersion, a.value()));
    }

    /** Whether {@code version} is in {@code range}: {@code v1beta2}, {@code v1alpha1-v1beta2}, {@code v1beta2+}, comma-separated. */
    static boolean inRange(String version, String range) {
        for (String r : range.split(",")) {
            String s = r.trim();
            if (s.endsWith("+")) {
                if (ORDER.compare(version, parse(s.substring(0, s.length() - 1))) >= 0) {
                    return true;
                }
            } else if (s.contains("-")) {
                String[] ends = s.split("-", 2);
                if (ORDER.compare(version, parse(ends[0])) >= 0 && ORDER.compare(version, parse(ends[1])) <= 0) {
                    return true;
                }
            } else if (ORDER.compare(version, parse(s)) == 0) {
                return true;
            }
        }
        return false;
    }

    private static String parse(String v) {
        if (!VERSION.matcher(v).matches()) {
            throw new IllegalArgumentException("Invalid value " + v + " for a Kubernetes API version: expected v1, v1beta2, ...");
        }
        return v;
    }

    private static int part(String v, int group) {
        Matcher m = VERSION.matcher(v);
        m.matches();
        return m.group(group) == null ? 0 : Integer.parseInt(m.group(group));
    }

    private static int stability(String v) {
        Matcher m = VERSION.matcher(v);
        m.matches();
        return m.group(2) == null ? 2 : m.group(2).equals("beta") ? 1 : 0;
    }
}
