package l0stream.pipeline;

import l0stream.connectors.image.DecodedRecord;
import l0stream.pipeline.averaging.ModelAveragingCoordinator;

import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEventDispatcher;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.CoordinatedOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/**
 * Makes data-parallel {@link ContinualTrainerOperator}s and gives their job vertex a
 * {@link ModelAveragingCoordinator}: the operator-event channel is how merges travel, since Flink
 * 2.x's DataStream API has no iterations to feed a merged model back to the trainers.
 */
public final class ContinualTrainerOperatorFactory extends AbstractStreamOperatorFactory<ModelSnapshot>
        implements CoordinatedOperatorFactory<ModelSnapshot>, OneInputStreamOperatorFactory<DecodedRecord, ModelSnapshot> {
    private static final long serialVersionUID = 1L;

    private final PipelineConfig config;

    public ContinualTrainerOperatorFactory(PipelineConfig config) {
        this.config = config;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends StreamOperator<ModelSnapshot>> T createStreamOperator(StreamOperatorParameters<ModelSnapshot> parameters) {
        OperatorID id = parameters.getStreamConfig().getOperatorID();
        OperatorEventDispatcher events = parameters.getOperatorEventDispatcher();
        ContinualTrainerOperator trainer = new ContinualTrainerOperator(config, parameters, events.getOperatorEventGateway(id));
        events.registerEventHandler(id, trainer);
        return (T) trainer;
    }

    @Override
    public OperatorCoordinator.Provider getCoordinatorProvider(String operatorName, OperatorID operatorId) {
        return new ModelAveragingCoordinator.Provider(operatorName, operatorId);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return ContinualTrainerOperator.class;
    }
}
