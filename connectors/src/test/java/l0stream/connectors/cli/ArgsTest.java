package l0stream.connectors.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.List;

class ArgsTest {

    @Test
    void testUsageListsEveryOptionWithItsValueAndEveryFlag() {
        String u = Args.usage(List.of("--records", "--warmup-records"), List.of("--json"));
        assertTrue(u.startsWith("options: --records RECORDS --warmup-records WARMUP_RECORDS --json\n"), u);
    }

    @Test
    void testUnknownOptionNamesItAndTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Args.parse(new String[] {"--recrods", "5"}, List.of("--records"), List.of("--json")));
        assertEquals("Unknown option --recrods; known: --records --json", e.getMessage());
    }

    @Test
    void testHelpAsAnOptionValueIsAValue() {
        Args a = Args.parse(new String[] {"--topic", "-h"}, List.of("--topic"), List.of());
        assertEquals("-h", a.string("--topic", null));
    }

    @Test
    void testBadNumberNamesTheOption() {
        Args a = Args.parse(new String[] {"--records", "many"}, List.of("--records"), List.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.intValue("--records", 1, 1));
        assertEquals("Invalid value many for --records: must be an integer >= 1", e.getMessage());
    }
}
