package l0stream.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class NativeHeapTuningTest {

    @Test
    void testThresholdsAreSetOnGlibcLinuxOnce() throws Exception {
        String tunables = System.getenv("GLIBC_TUNABLES");
        assumeTrue(tunables == null || !tunables.contains("glibc.malloc."), "the user's GLIBC_TUNABLES decides");
        assumeTrue(System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux"));
        assumeTrue(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/maps")).contains("libc.so.6"), "glibc");
        assertTrue(NativeHeapTuning.apply(), "mallopt accepted every setting");
        assertEquals(true, NativeHeapTuning.apply(), "idempotent");
    }
}
