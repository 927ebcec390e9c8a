package l0stream.pipeline.experiment;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYIntervalSeries;
import org.jfree.data.xy.XYIntervalSeriesCollection;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** PNG charts of experiment results, drawn with JFreeChart (headless). */
public final class ExperimentCharts {

    public static final int WIDTH = 960;
    public static final int HEIGHT = 640;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** One fixed, readable colour per method, so every chart reads the same. */
    private static final Map<String, Color> METHOD_COLORS = Map.of("dense", Color.BLACK, "L0-HC", new Color(0x1f77b4),
            "Dep-L0 forward", new Color(0xd62728), "Dep-L0 backward", new Color(0x2ca02c));

    private ExperimentCharts() {}

    /** Test accuracy against FLOPs reduction, one curve per method (points sorted by FLOPs reduction). */
    public static void accuracyVsFlops(List<RunResult> runs, String title, Path png) throws IOException {
        Map<String, XYSeries> series = new LinkedHashMap<>();
        runs.stream().sorted(Comparator.comparingDouble(RunResult::flopsReduction)).forEach(r ->
                series.computeIfAbsent(r.arm().method(), m -> new XYSeries(m, false, true))
                        .add(r.flopsReduction() * 100, r.testAccuracy() * 100));
        XYSeriesCollection data = new XYSeriesCollection();
        series.values().forEach(data::addSeries);
        NumberAxis x = new NumberAxis("FLOPs reduction of the compact network (%)");
        NumberAxis y = new NumberAxis("test accuracy (%)");
        y.setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            r.setSeriesStroke(i, new BasicStroke(2f));
            r.setSeriesPaint(i, METHOD_COLORS.getOrDefault(data.getSeriesKey(i).toString(), Color.GRAY));
        }
        XYPlot plot = new XYPlot(data, x, y, r);
        style(plot);
        save(new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true), png);
    }

    /**
     * Sparsity drift: open-channel ratio per gated layer (top) and windowed prequential accuracy
     * (bottom) over the records of each run, with the drift point marked.
     */
    public static void drift(List<RunResult> runs, long switchAt, String title, Path png) throws IOException {
        XYSeriesCollection open = new XYSeriesCollection();
        XYSeriesCollection acc = new XYSeriesCollection();
        for (RunResult run : runs) {
            int layers = run.widths().length;
            for (int l = 0; l < layers; l++) {
                XYSeries s = new XYSeries(run.arm().method() + " layer " + (l + 1) + " (of " + run.widths()[l] + ")");
                for (RunResult.TracePoint p : run.trace()) {
                    s.add(p.records(), p.openChannels()[l] / (double) run.widths()[l]);
                }
                open.addSeries(s);
            }
            XYSeries a = new XYSeries(run.arm().method() + " accuracy");
            for (RunResult.TracePoint p : run.trace()) {
                a.add(p.records(), p.windowAccuracy());
            }
            acc.addSeries(a);
            XYSeries ret = new XYSeries(run.arm().method() + " retention (probe)");
            for (RunResult.TracePoint p : run.trace()) {
                if (!Double.isNaN(p.retentionAccuracy())) {
                    ret.add(p.records(), p.retentionAccuracy());
                }
            }
            if (!ret.isEmpty()) {
                acc.addSeries(ret);
            }
        }
        NumberAxis records = new NumberAxis("records streamed");
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(records);
        XYPlot top = new XYPlot(open, null, new NumberAxis("open channels / width"), new XYLineAndShapeRenderer(true, false));
        NumberAxis accAxis = new NumberAxis("prequential accuracy (window)");
        accAxis.setRange(0, 1);
        XYPlot bottom = new XYPlot(acc, null, accAxis, new XYLineAndShapeRenderer(true, false));
        for (XYPlot p : new XYPlot[] {top, bottom}) {
            style(p);
            // every detection, a thin line in its run's colour order
            Color[] colours = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0x9467bd), new Color(0x8c564b)};
            for (int r = 0; r < runs.size(); r++) {
                for (long d : runs.get(r).detections()) {
                    ValueMarker dm = new ValueMarker(d, colours[r % colours.length], new BasicStroke(0.8f));
                    dm.setLabel(p == top ? "drift " + (r + 1) : null);
                    dm.setLabelAnchor(RectangleAnchor.BOTTOM_RIGHT);
                    dm.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
                    p.addDomainMarker(dm);
                }
            }
            if (switchAt < 0) {
                continue;
            }
            ValueMarker m = new ValueMarker(switchAt, Color.RED, new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER,
                    1f, new float[] {6f, 4f}, 0f));
            m.setLabel("switch");
            m.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
            m.setLabelTextAnchor(TextAnchor.TOP_LEFT);
            p.addDomainMarker(m);
        }
        plot.add(top, 3);
        plot.add(bottom, 2);
        save(new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true), png);
    }

    /**
     * The study's plot: every λ point's mean with ± one standard deviation on both axes (error bars), each
     * seed as a small dot, each method's Pareto frontier over the means as a line, the ablation (open
     * init) dashed, and dense's mean with the matched-accuracy band below it.
     */
    public static void study(List<StudyRow> rows, String title, Path png) throws IOException {
        XYIntervalSeriesCollection means = new XYIntervalSeriesCollection();
        XYSeriesCollection frontiers = new XYSeriesCollection();
        XYSeriesCollection seeds = new XYSeriesCollection();
        List<Color> meanColours = new java.util.ArrayList<>();
        List<Color> frontierColours = new java.util.ArrayList<>();
        List<Boolean> dashed = new java.util.ArrayList<>();
        double denseMean = Double.NaN;
        for (String part : List.of("sweep", "ablation")) {
            List<StudyReport.Point> pts = StudyReport.points(rows, part);
            for (String m : StudyReport.METHODS) {
                List<StudyReport.Point> mp = pts.stream().filter(p -> p.method().equals(m)).toList();
                if (mp.isEmpty()) {
                    continue;
                }
                String name = part.equals("sweep") ? m : m + " (open init)";
                Color c = METHOD_COLORS.getOrDefault(m, Color.GRAY);
                if (part.equals("ablation")) {
                    c = c.brighter();
                }
                XYIntervalSeries ms = new XYIntervalSeries(name + " mean ± sd");
                XYSeries ss = new XYSeries(name + " seeds", false, true);
                for (StudyReport.Point p : mp) {
                    StudyReport.Stat f = p.flops();
                    StudyReport.Stat t = p.test();
                    ms.add(100 * f.mean(), 100 * (f.mean() - f.sd()), 100 * (f.mean() + f.sd()), 100 * t.mean(), 100 * (t.mean() - t.sd()),
                            100 * (t.mean() + t.sd()));
                    p.seeds().forEach(r -> ss.add(100 * r.flopsReduction(), 100 * r.test()));
                }
                means.addSeries(ms);
                meanColours.add(c);
                seeds.addSeries(ss);
                XYSeries fs = new XYSeries(name + " frontier", false, true);
                StudyReport.frontier(mp).forEach(p -> fs.add(100 * p.flops().mean(), 100 * p.test().mean()));
                frontiers.addSeries(fs);
                frontierColours.add(c);
                dashed.add(part.equals("ablation"));
            }
            if (part.equals("sweep")) {
                denseMean = pts.stream().filter(p -> p.method().equals("dense")).mapToDouble(p -> p.test().mean()).findFirst()
                        .orElse(Double.NaN);
            }
        }
        NumberAxis x = new NumberAxis("FLOPs reduction of the compact network (%)");
        x.setAutoRangeIncludesZero(false); // with a margin, so points at 0 % (nothing pruned) stay visible
        x.setLowerMargin(0.04);
        NumberAxis y = new NumberAxis("test accuracy (%)");
        y.setAutoRangeIncludesZero(false);
        XYPlot plot = new XYPlot();
        plot.setDomainAxis(x);
        plot.setRangeAxis(y);
        XYErrorRenderer er = new XYErrorRenderer();
        er.setDrawXError(true);
        er.setDrawYError(true);
        XYLineAndShapeRenderer fr = new XYLineAndShapeRenderer(true, false);
        XYLineAndShapeRenderer sr = new XYLineAndShapeRenderer(false, true);
        for (int i = 0; i < meanColours.size(); i++) {
            er.setSeriesPaint(i, meanColours.get(i));
            fr.setSeriesPaint(i, frontierColours.get(i));
            fr.setSeriesStroke(i, dashed.get(i) ? new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f,
                    new float[] {6f, 4f}, 0f) : new BasicStroke(2f));
            fr.setSeriesVisibleInLegend(i, false);
            sr.setSeriesPaint(i, frontierColours.get(i));
            sr.setSeriesShape(i, new java.awt.geom.Ellipse2D.Double(-2, -2, 4, 4));
            sr.setSeriesVisibleInLegend(i, false);
        }
        plot.setDataset(0, means);
        plot.setRenderer(0, er);
        plot.setDataset(1, frontiers);
        plot.setRenderer(1, fr);
        plot.setDataset(2, seeds);
        plot.setRenderer(2, sr);
        if (!Double.isNaN(denseMean)) {
            ValueMarker d = new ValueMarker(100 * denseMean, Color.BLACK, new BasicStroke(1.5f));
            d.setLabel(String.format(java.util.Locale.ROOT, "dense %.2f %%", 100 * denseMean));
            d.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
            d.setLabelTextAnchor(TextAnchor.BOTTOM_RIGHT);
            plot.addRangeMarker(d);
            ValueMarker band = new ValueMarker(100 * (denseMean - StudyReport.MATCH_TOLERANCE), Color.GRAY, new BasicStroke(1f,
                    BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {4f, 4f}, 0f));
            band.setLabel("matched accuracy: dense − 0.5 points");
            band.setLabelAnchor(RectangleAnchor.BOTTOM_RIGHT);
            band.setLabelTextAnchor(TextAnchor.TOP_RIGHT);
            plot.addRangeMarker(band);
        }
        style(plot);
        save(new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true), png);
    }

    private static void style(XYPlot p) {
        p.setBackgroundPaint(Color.WHITE);
        p.setDomainGridlinePaint(Color.LIGHT_GRAY);
        p.setRangeGridlinePaint(Color.LIGHT_GRAY);
    }

    private static void save(JFreeChart chart, Path png) throws IOException {
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
    }
}
