package l0stream.pipeline.experiment;

import java.util.Locale;

/**
 * One run of {@code experiment study}, as a line of its {@code runs.csv}: which part of the study it
 * belongs to, the arm, the seed, and what the run measured.
 *
 * @param part       {@code tune} (gate rate chosen on validation), {@code sweep} (λ per method at its
 *                   chosen rate) or {@code ablation} (Dep-L0 with every gate open at the start)
 * @param validation accuracy on the validation split held out of the training data
 */
public record StudyRow(String part, String method, double lambda, String gateInit, double gateLr, long seed, long records,
                       String schedule, double prequential, double validation, double test, double flopsReduction,
                       double paramsReduction, String openChannels, String widths, double seconds) {

    public static final String HEADER = "part,method,lambda,gate_init,gate_lr,seed,records,schedule,prequential_accuracy,"
            + "validation_accuracy,test_accuracy,flops_reduction,params_reduction,open_channels,widths,seconds";

    /** What makes a run the same run again: a resumed study skips it. */
    public String key() {
        return key(part, method, lambda, gateInit, gateLr, seed, records, schedule);
    }

    /** The {@link #key} of a run of {@code arm} not run yet. */
    static String key(String part, ExperimentArm arm, long seed, long records, String schedule) {
        return key(part, arm.method(), arm.lambda(), initColumn(arm), rateColumn(arm), seed, records, schedule);
    }

    private static String key(String part, String method, double lambda, String gateInit, double gateLr, long seed, long records,
                              String schedule) {
        return String.format(Locale.ROOT, "%s|%s|%.3e|%s|%.3e|%d|%d|%s", part, method, lambda, gateInit, gateLr, seed, records, schedule);
    }

    /** The gate_init column: "-" for dense, which has no gates. */
    private static String initColumn(ExperimentArm a) {
        return a.gates() == l0stream.model.gate.GateKind.NONE ? "-" : a.gateInit().id();
    }

    /** The gate_lr column: 0 for an arm without a rate of its own (dense). */
    private static double rateColumn(ExperimentArm a) {
        return Double.isNaN(a.gateLr()) ? 0 : a.gateLr();
    }

    /** The arm this row belongs to, seed aside: the points of a λ sweep. */
    public String config() {
        return String.format(Locale.ROOT, "%s|%s|%.3e|%s|%.3e", part, method, lambda, gateInit, gateLr);
    }

    public boolean dense() {
        return method.equals("dense");
    }

    public String csv() {
        return String.format(Locale.ROOT, "%s,%s,%g,%s,%g,%d,%d,%s,%.4f,%.4f,%.4f,%.4f,%.4f,%s,%s,%.1f", part, method, lambda, gateInit,
                gateLr, seed, records, schedule, prequential, validation, test, flopsReduction, paramsReduction, openChannels, widths,
                seconds);
    }

    public static StudyRow parse(String line) {
        String[] f = line.split(",", -1);
        if (f.length != 16) {
            throw new IllegalArgumentException("not a study row (16 fields expected, " + f.length + "): " + line);
        }
        return new StudyRow(f[0], f[1], Double.parseDouble(f[2]), f[3], Double.parseDouble(f[4]), Long.parseLong(f[5]),
                Long.parseLong(f[6]), f[7], Double.parseDouble(f[8]), Double.parseDouble(f[9]), Double.parseDouble(f[10]),
                Double.parseDouble(f[11]), Double.parseDouble(f[12]), f[13], f[14], Double.parseDouble(f[15]));
    }

    static StudyRow of(String part, RunResult r, String schedule) {
        ExperimentArm a = r.arm();
        return new StudyRow(part, a.method(), a.lambda(), initColumn(a), rateColumn(a), r.seed(), r.records(), schedule, r.prequentialAccuracy(),
                r.validationAccuracy(), r.testAccuracy(), r.flopsReduction(), r.paramsReduction(), join(r.openChannels()),
                join(r.widths()), r.seconds());
    }

    private static String join(int[] v) {
        return String.join(" ", java.util.Arrays.stream(v).mapToObj(Integer::toString).toList());
    }
}
