package l0stream.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import java.util.List;

class TaskGpuTest {

    @Test
    void testSubtasksTakeTheTaskManagersGpus() {
        assertEquals(-1, TaskGpu.pick(List.of(), 3), "no GPU resource: the device choice decides");
        assertEquals(2, TaskGpu.pick(List.of("2"), 0), "one slot, one GPU: that GPU, whatever its index");
        assertEquals(2, TaskGpu.pick(List.of("2"), 5));
        assertEquals(1, TaskGpu.pick(List.of("3", "1"), 0), "several: spread by subtask, in index order");
        assertEquals(3, TaskGpu.pick(List.of("3", "1"), 1));
        assertThrows(IllegalStateException.class, () -> TaskGpu.pick(List.of("x"), 0));
    }
}
