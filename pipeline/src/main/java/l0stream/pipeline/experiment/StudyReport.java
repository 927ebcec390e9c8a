package l0stream.pipeline.experiment;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.commons.math3.distribution.TDistribution;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What the study's runs say, by rules fixed before the runs: which gate rate each method gets (on
 * validation), each λ point's mean ± standard deviation over seeds, each method's Pareto frontier, and
 * the headline: FLOPs reduction at matched accuracy with the Dep-L0 − L0-HC difference and its interval.
 */
public final class StudyReport {

    /** The gated methods compared, in display order. */
    public static final List<String> METHODS = List.of("L0-HC", "Dep-L0 forward", "Dep-L0 backward");

    /** "Matched accuracy": a mean within this of dense's mean (0.5 points). */
    public static final double MATCH_TOLERANCE = 0.005;

    private static final ObjectMapper JSON = new ObjectMapper();

    private StudyReport() {}

    /** A method's gate init and rate as chosen by {@link #choose}, with the numbers the choice rested on. */
    public record Choice(String method, String gateInit, double gateLr, double validationFlopsReduction, double validationAccuracy,
                         String why) {}

    /**
     * Chooses each method's (gate init, gate rate) from the tune runs, on the validation split only. A
     * tune run is <em>admissible</em> when its validation accuracy is within {@code tolerance} of dense's;
     * a config scores the largest FLOPs reduction among its admissible runs (its λ grid); the highest
     * score wins, ties to the higher validation accuracy. Choosing by accuracy alone would pick the rate
     * at which gates never close (the unpruned network is the most accurate), which is the unfairness
     * this study removes; accuracy decides what is admissible, pruning what is best.
     */
    public static Map<String, Choice> choose(List<StudyRow> tune, double tolerance) {
        double dense = tune.stream().filter(StudyRow::dense).mapToDouble(StudyRow::validation).average()
                .orElseThrow(() -> new IllegalStateException("the tune part has no dense run yet: run --part tune first"));
        Map<String, Choice> out = new LinkedHashMap<>();
        for (String m : METHODS) {
            Map<String, List<StudyRow>> configs = new LinkedHashMap<>();
            tune.stream().filter(r -> r.method().equals(m))
                    .forEach(r -> configs.computeIfAbsent(r.gateInit() + "|" + r.gateLr(), k -> new ArrayList<>()).add(r));
            Choice best = null;
            for (List<StudyRow> runs : configs.values()) {
                double score = runs.stream().filter(r -> r.validation() >= dense - tolerance).mapToDouble(StudyRow::flopsReduction)
                        .max().orElse(-1);
                double acc = runs.stream().mapToDouble(StudyRow::validation).max().orElse(0);
                StudyRow r0 = runs.get(0);
                if (best == null || score > best.validationFlopsReduction()
                        || score == best.validationFlopsReduction() && acc > best.validationAccuracy()) {
                    best = new Choice(m, r0.gateInit(), r0.gateLr(), score, acc, score < 0
                            ? String.format(Locale.ROOT, "no config within %.1f points of dense's validation accuracy %.4f; the most accurate one",
                                    100 * tolerance, dense)
                            : String.format(Locale.ROOT, "largest validation FLOPs reduction %.1f%% within %.1f points of dense's validation"
                                    + " accuracy %.4f", 100 * score, 100 * tolerance, dense));
                }
            }
            if (best != null) {
                out.put(m, best);
            }
        }
        return out;
    }

    /** One λ point of a method over its seeds. */
    public record Point(String part, String method, double lambda, String gateInit, double gateLr, List<StudyRow> seeds) {
        public Stat test() {
            return Stat.of(seeds.stream().mapToDouble(StudyRow::test).toArray());
        }

        public Stat validation() {
            return Stat.of(seeds.stream().mapToDouble(StudyRow::validation).toArray());
        }

        public Stat flops() {
            return Stat.of(seeds.stream().mapToDouble(StudyRow::flopsReduction).toArray());
        }

        public Stat params() {
            return Stat.of(seeds.stream().mapToDouble(StudyRow::paramsReduction).toArray());
        }
    }

    /** Mean and sample standard deviation (n − 1; 0 for one value) of per-seed values, kept for intervals. */
    public record Stat(double mean, double sd, double[] values) {
        static Stat of(double[] v) {
            double m = 0;
            for (double x : v) {
                m += x;
            }
            m /= v.length;
            double ss = 0;
            for (double x : v) {
                ss += (x - m) * (x - m);
            }
            return new Stat(m, v.length > 1 ? Math.sqrt(ss / (v.length - 1)) : 0, v);
        }

        int n() {
            return values.length;
        }
    }

    /** The rows of {@code part} grouped into λ points (dense is one point), in first-seen order. */
    public static List<Point> points(List<StudyRow> rows, String part) {
        Map<String, List<StudyRow>> g = new LinkedHashMap<>();
        rows.stream().filter(r -> r.part().equals(part)).forEach(r -> g.computeIfAbsent(r.config(), k -> new ArrayList<>()).add(r));
        List<Point> out = new ArrayList<>();
        g.values().forEach(v -> out.add(new Point(part, v.get(0).method(), v.get(0).lambda(), v.get(0).gateInit(), v.get(0).gateLr(),
                List.copyOf(v))));
        return out;
    }

    /**
     * A method's Pareto frontier over its points' means: the points no other point beats on both FLOPs
     * reduction and test accuracy, by FLOPs reduction.
     */
    public static List<Point> frontier(List<Point> methodPoints) {
        List<Point> f = new ArrayList<>();
        for (Point p : methodPoints) {
            boolean dominated = methodPoints.stream().anyMatch(q -> q != p && q.flops().mean() >= p.flops().mean()
                    && q.test().mean() >= p.test().mean() && (q.flops().mean() > p.flops().mean() || q.test().mean() > p.test().mean()));
            if (!dominated) {
                f.add(p);
            }
        }
        f.sort(Comparator.comparingDouble(p -> p.flops().mean()));
        return f;
    }

    /**
     * A method's largest mean FLOPs reduction among its points whose mean test accuracy is within
     * {@code tolerance} of dense's mean; dense itself (λ = 0: nothing pruned) always qualifies, so a
     * method with no qualifying point is matched at 0 with dense's seeds.
     */
    public static Point matched(List<Point> methodPoints, Point dense, double tolerance) {
        return methodPoints.stream().filter(p -> p.test().mean() >= dense.test().mean() - tolerance)
                .max(Comparator.comparingDouble(p -> p.flops().mean())).orElse(dense);
    }

    /** A difference of two means with its two-sided interval (Welch's t, unequal variances). */
    public record Interval(double difference, double low, double high, double df, double level) {}

    public static Interval welch(double[] a, double[] b, double level) {
        Stat x = Stat.of(a);
        Stat y = Stat.of(b);
        double d = x.mean() - y.mean();
        double va = x.n() > 1 ? x.sd() * x.sd() / x.n() : 0;
        double vb = y.n() > 1 ? y.sd() * y.sd() / y.n() : 0;
        double se = Math.sqrt(va + vb);
        if (x.n() < 2 || y.n() < 2) {
            return new Interval(d, Double.NaN, Double.NaN, Double.NaN, level); // one seed: no interval
        }
        if (se == 0) {
            return new Interval(d, d, d, x.n() + y.n() - 2, level);
        }
        double df = (va + vb) * (va + vb) / (va * va / (x.n() - 1) + vb * vb / (y.n() - 1));
        double t = new TDistribution(null, df).inverseCumulativeProbability(0.5 + level / 2);
        return new Interval(d, d - t * se, d + t * se, df, level);
    }

    /** The summary as JSON, and as text for the console. */
    public static ObjectNode summarise(List<StudyRow> rows, StringBuilder text) {
        ObjectNode json = JSON.createObjectNode();
        List<StudyRow> tune = rows.stream().filter(r -> r.part().equals("tune")).toList();
        if (!tune.isEmpty()) {
            text.append(String.format(Locale.ROOT, "%nTune (validation split; one seed; %,d records):%n%-16s %-9s %8s %8s %9s %9s  %s%n",
                    tune.get(0).records(), "method", "init", "gate lr", "lambda", "val acc", "FLOPs red", "open channels"));
            for (StudyRow r : tune) {
                text.append(String.format(Locale.ROOT, "%-16s %-9s %8s %8s %9.4f %8.1f%%  %s%n", r.method(), r.gateInit(),
                        r.dense() ? "-" : String.format(Locale.ROOT, "%.0e", r.gateLr()),
                        r.dense() ? "-" : String.format(Locale.ROOT, "%.0e", r.lambda()), r.validation(), 100 * r.flopsReduction(),
                        r.openChannels()));
            }
            if (tune.stream().anyMatch(StudyRow::dense)) {
                ObjectNode c = json.putObject("chosen");
                choose(tune, MATCH_TOLERANCE).forEach((m, ch) -> {
                    c.putObject(m).put("gate_init", ch.gateInit()).put("gate_lr", ch.gateLr())
                            .put("validation_flops_reduction", round(ch.validationFlopsReduction())).put("why", ch.why());
                    text.append(String.format(Locale.ROOT, "chosen for %s: init %s, gate lr %.0e (%s)%n", m, ch.gateInit(), ch.gateLr(),
                            ch.why()));
                });
            }
        }
        for (String part : List.of("sweep", "ablation")) {
            List<Point> pts = points(rows, part);
            if (pts.isEmpty()) {
                continue;
            }
            text.append(String.format(Locale.ROOT, "%n%s (test split; mean ± sd over seeds):%n%-16s %-9s %8s %8s %5s %17s %17s %17s %17s%n",
                    part.equals("sweep") ? "Sweep" : "Ablation (Dep-L0, every gate open at the start)", "method", "init", "gate lr",
                    "lambda", "seeds", "test acc %", "val acc %", "FLOPs red %", "params red %"));
            ArrayNode arr = json.putArray(part);
            for (Point p : pts) {
                text.append(String.format(Locale.ROOT, "%-16s %-9s %8s %8s %5d %17s %17s %17s %17s%n", p.method(), p.gateInit(),
                        p.method().equals("dense") ? "-" : String.format(Locale.ROOT, "%.0e", p.gateLr()),
                        p.method().equals("dense") ? "-" : String.format(Locale.ROOT, "%.0e", p.lambda()), p.seeds().size(),
                        pm(p.test()), pm(p.validation()), pm(p.flops()), pm(p.params())));
                arr.add(pointJson(p));
            }
        }
        Optional<Point> dense = points(rows, "sweep").stream().filter(p -> p.method().equals("dense")).findFirst();
        if (dense.isPresent()) {
            Point d = dense.get();
            ObjectNode h = json.putObject("headline");
            h.put("dense_test_accuracy_mean", round(d.test().mean())).put("dense_test_accuracy_sd", round(d.test().sd()))
                    .put("dense_seeds", d.seeds().size()).put("match_tolerance", MATCH_TOLERANCE);
            text.append(String.format(Locale.ROOT, "%nAt matched accuracy (mean test accuracy ≥ dense's %.2f %% − %.1f points):%n",
                    100 * d.test().mean(), 100 * MATCH_TOLERANCE));
            Map<String, Point> matched = new LinkedHashMap<>();
            for (String m : METHODS) {
                List<Point> mp = points(rows, "sweep").stream().filter(p -> p.method().equals(m)).toList();
                if (mp.isEmpty()) {
                    continue;
                }
                Point best = matched(mp, d, MATCH_TOLERANCE);
                matched.put(m, best);
                h.putObject(m).put("lambda", best == d ? 0 : best.lambda()).put("seeds", best.seeds().size())
                        .put("test_accuracy_mean", round(best.test().mean())).put("flops_reduction_mean", round(best.flops().mean()))
                        .put("flops_reduction_sd", round(best.flops().sd())).put("params_reduction_mean", round(best.params().mean()))
                        .put("params_reduction_sd", round(best.params().sd()));
                text.append(String.format(Locale.ROOT, "  %-16s λ=%-6s FLOPs reduction %s %%, params reduction %s %% (test %s %%, %d seeds)%n", m,
                        best == d ? "0" : String.format(Locale.ROOT, "%.0e", best.lambda()), pm(best.flops()), pm(best.params()),
                        pm(best.test()), best.seeds().size()));
            }
            Point hc = matched.get("L0-HC");
            for (String m : List.of("Dep-L0 forward", "Dep-L0 backward")) {
                if (hc != null && matched.containsKey(m)) {
                    Interval iv = welch(matched.get(m).flops().values(), hc.flops().values(), 0.95);
                    ObjectNode o = h.putObject(m + " - L0-HC").put("flops_reduction_difference", round(iv.difference()));
                    if (Double.isNaN(iv.low())) {
                        o.putNull("ci95_low").putNull("ci95_high");
                    } else {
                        o.put("ci95_low", round(iv.low())).put("ci95_high", round(iv.high())).put("welch_df", Math.round(iv.df() * 10) / 10.0);
                    }
                    text.append(String.format(Locale.ROOT, "  %s − L0-HC: %+.1f points of FLOPs reduction, 95 %% interval %s%n", m,
                            100 * iv.difference(), Double.isNaN(iv.low()) ? "n/a (one seed)"
                                    : String.format(Locale.ROOT, "[%+.1f, %+.1f] (Welch, df %.1f)", 100 * iv.low(), 100 * iv.high(), iv.df())));
                }
            }
        }
        return json;
    }

    private static ObjectNode pointJson(Point p) {
        ObjectNode o = JSON.createObjectNode();
        o.put("method", p.method()).put("lambda", p.lambda()).put("gate_init", p.gateInit()).put("gate_lr", p.gateLr())
                .put("seeds", p.seeds().size());
        put(o, "test_accuracy", p.test());
        put(o, "validation_accuracy", p.validation());
        put(o, "flops_reduction", p.flops());
        put(o, "params_reduction", p.params());
        return o;
    }

    private static void put(ObjectNode o, String name, Stat s) {
        o.put(name + "_mean", round(s.mean())).put(name + "_sd", round(s.sd()));
    }

    private static String pm(Stat s) {
        return String.format(Locale.ROOT, "%.2f ± %.2f", 100 * s.mean(), 100 * s.sd());
    }

    private static double round(double v) {
        return Math.round(v * 10000) / 10000.0;
    }
}
