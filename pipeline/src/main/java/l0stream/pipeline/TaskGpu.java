package l0stream.pipeline;

import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.api.common.functions.RuntimeContext;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Which GPU a trainer subtask uses, from Flink's external resource framework
 * ({@code external-resources: gpu} with the GPU driver, as in the k8s gpu overlay): the GPU
 * driver reports each GPU of the TaskManager with an {@code index} property. The intended layout is
 * one training slot and one GPU per TaskManager; should a TaskManager have several slots and GPUs,
 * subtasks spread over them by subtask index. -1 when the TaskManager has no GPU resource: the
 * device choice then takes the engine's first GPU, or the CPU.
 */
final class TaskGpu {

    static final String RESOURCE = "gpu";

    private TaskGpu() {}

    static int index(RuntimeContext context) {
        Collection<ExternalResourceInfo> infos = context.getExternalResourceInfos(RESOURCE);
        List<String> indices = new ArrayList<>();
        for (ExternalResourceInfo info : infos) {
            info.getProperty("index").ifPresent(indices::add);
        }
        return pick(indices, context.getTaskInfo().getIndexOfThisSubtask());
    }

    /** The GPU for {@code subtask} among the TaskManager's {@code indices}; -1 if there are none. */
    static int pick(List<String> indices, int subtask) {
        if (indices.isEmpty()) {
            return -1;
        }
        List<Integer> sorted = indices.stream().map(s -> {
            try {
                return Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                throw new IllegalStateException("The GPU driver reported GPU index '" + s + "', not a number", e);
            }
        }).sorted().toList();
        return sorted.get(subtask % sorted.size());
    }
}
