package io.strimzi.crdgenerator.annotations;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares Strimzi's annotation type so that the JVM can read it. Strimzi's API model
 * (io.strimzi:api) marks the properties that exist only in some API versions with this
 * annotation (e.g. {@code @PresentInVersions("v1beta2")} on {@code Kafka.spec.kafka.replicas},
 * which {@code kafka.strimzi.io/v1} removed), and keeps it in its class files at run time, but
 * the type itself lives in Strimzi's crd-generator, which is not published to Maven Central.
 * Without a declared type, reflection silently drops the annotation; with this one,
 * {@code l0stream.k8s.StrimziApiVersions} can refuse fields that the manifest's version lacks.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.FIELD, ElementType.TYPE})
public @interface PresentInVersions {

    /** A version range: {@code v1beta2}, {@code v1alpha1-v1beta2} or {@code v1beta2+}. */
    String value();
}
