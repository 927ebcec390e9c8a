package l0stream.pipeline.rollout;

import l0stream.connectors.snapshot.SnapshotAssembler;
import l0stream.connectors.snapshot.VerifiedSnapshot;
import l0stream.connectors.trust.SnapshotTrust;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reassembles the snapshot topic and announces each version that is whole and verified (signed by
 * a trusted key, artifact matching its manifest): only those may become a rollout's candidate. The
 * records of versions not yet complete are kept in operator state, so a restore from a checkpoint
 * taken between a version's chunks still completes it.
 */
final class SnapshotAnnouncer extends ProcessFunction<RawRecord, EvaluatorInput> implements CheckpointedFunction {

    private final java.util.ArrayList<byte[]> trustedKeys;
    private final boolean allowUnsigned;
    private transient SnapshotAssembler assembler;
    private transient List<RawRecord> pending;
    private transient ListState<RawRecord> pendingState;
    private transient Counter refused;
    private transient long refusedSeen;

    SnapshotAnnouncer(SnapshotTrust trust) {
        // the trust itself is not serialisable: carry its keys and rebuild it on the task manager
        this.trustedKeys = new java.util.ArrayList<>(trust.encodedKeys());
        this.allowUnsigned = trust.allowUnsigned();
    }

    @Override
    public void initializeState(FunctionInitializationContext ctx) throws Exception {
        assembler = new SnapshotAssembler(SnapshotTrust.fromEncoded(trustedKeys, allowUnsigned));
        pending = new ArrayList<>();
        pendingState = ctx.getOperatorStateStore().getListState(new ListStateDescriptor<>("pending-snapshot-records",
                TypeInformation.of(RawRecord.class)));
        if (ctx.isRestored()) {
            for (RawRecord r : pendingState.get()) {
                // re-fed before any new record; what they complete is announced with the next record
                pending.add(r);
                assembler.accept(r.key(), r.value(), r.kafkaHeaders());
            }
        }
    }

    @Override
    public void open(org.apache.flink.api.common.functions.OpenContext openContext) {
        refused = getRuntimeContext().getMetricGroup().addGroup("rollout").counter("snapshotsRefused");
    }

    @Override
    public void processElement(RawRecord r, Context ctx, Collector<EvaluatorInput> out) {
        pending.add(r);
        for (VerifiedSnapshot s : assembler.accept(r.key(), r.value(), r.kafkaHeaders())) {
            String model = s.manifest().modelId();
            long v = s.manifest().version();
            pending.removeIf(p -> model.equals(p.key() == null ? "" : new String(p.key(), StandardCharsets.UTF_8))
                    && version(p) <= v);
            out.collect(EvaluatorInput.snapshot(model, v, s.manifest().actualFlops()));
        }
        long n = assembler.refusals().values().stream().mapToLong(Long::longValue).sum();
        if (n > refusedSeen) {
            refused.inc(n - refusedSeen);
            refusedSeen = n;
        }
        // bounded: the assembler keeps at most a few pending versions; drop what it dropped
        while (pending.size() > 4096) {
            pending.remove(0);
        }
    }

    private static long version(RawRecord r) {
        org.apache.kafka.common.header.Header h = r.kafkaHeaders().lastHeader(l0stream.connectors.snapshot.SnapshotRecord.HEADER_VERSION);
        try {
            return h == null ? -1 : Long.parseLong(new String(h.value(), StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            return -1;
        }
    }

    @Override
    public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
        pendingState.update(pending);
    }
}
