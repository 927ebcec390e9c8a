package l0stream.connectors.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

/**
 * A cluster id that starts with '-' made kafka-storage read it as an option and the broker fail to
 * format (one start in 64; seen as a SecureBrokerTest failure in CI): such draws are redrawn.
 */
class ClusterIdTest {

    @Test
    void testAnIdThatWouldStartWithADashIsRedrawn() {
        // first draw: 0xF8 = 111110|00 → base64url index 62, '-'; second draw: zeros → 'A'
        Random scripted = new Random() {
            private int calls;

            @Override
            public void nextBytes(byte[] bytes) {
                Arrays.fill(bytes, calls++ == 0 ? (byte) 0xF8 : 0);
            }
        };
        String id = LocalKafkaBroker.newClusterId(scripted);
        assertEquals('A', id.charAt(0), id);
        assertEquals(22, id.length());
        Random r = new Random(1);
        for (int i = 0; i < 10_000; i++) {
            assertFalse(LocalKafkaBroker.newClusterId(r).startsWith("-"));
        }
    }
}
