package l0stream.pipeline.report;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.List;
import java.util.Locale;

/**
 * The PNG charts of {@code l0stream report}, drawn with JFreeChart (headless), in the style of
 * {@link l0stream.pipeline.experiment.ExperimentCharts}: white background, light-grey grid,
 * 2-px lines with a marker per snapshot, {@value #WIDTH}×{@value #HEIGHT} pixels.
 *
 * <ul>
 *   <li>{@value #OPEN_CHANNELS_PNG}: open channels (units for dense layers) of each gated layer
 *       over training steps, one line per layer;
 *   <li>{@value #ACCURACY_FLOPS_PNG}: prequential accuracy and FLOPs reduction over training
 *       steps, both as percentages on one 0–100 % axis.
 * </ul>
 * Stateless and thread-safe. Example: {@code ReportCharts.writeAll(series, Path.of("/tmp/report"))}.
 */
public final class ReportCharts {

    public static final int WIDTH = 960;
    public static final int HEIGHT = 640;
    public static final String OPEN_CHANNELS_PNG = "open-channels-per-layer.png";
    public static final String ACCURACY_FLOPS_PNG = "accuracy-and-flops.png";

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** Tableau's ten colours: distinct and readable on white, one per layer in layer order. */
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
        new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
        new Color(0xbcbd22), new Color(0x17becf)};

    private ReportCharts() {}

    /** Writes both charts into {@code dir} (created if missing); returns their paths, in the order listed above. */
    public static List<Path> writeAll(SnapshotSeries series, Path dir) throws IOException {
        Files.createDirectories(dir);
        return List.of(openChannels(series, dir.resolve(OPEN_CHANNELS_PNG)), accuracyAndFlops(series, dir.resolve(ACCURACY_FLOPS_PNG)));
    }

    /** Open channels per gated layer against training step; a layer missing from a snapshot has no point there. */
    public static Path openChannels(SnapshotSeries series, Path png) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (String layer : series.layers()) {
            XYSeries s = new XYSeries(layer + " (first " + first(series, layer) + ", latest " + latest(series, layer) + ")",
                    false, true);
            for (SnapshotSeries.Point p : series.points()) {
                Integer n = p.openChannels().get(layer);
                if (n != null) {
                    s.add(p.step(), n);
                }
            }
            data.addSeries(s);
        }
        NumberAxis y = new NumberAxis("open channels / units");
        y.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        y.setAutoRangeIncludesZero(true);
        XYPlot plot = new XYPlot(data, stepAxis(), y, renderer(data.getSeriesCount(), PALETTE));
        JFreeChart chart = new JFreeChart("Open channels per gated layer over training", JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.addSubtitle(subtitle(series));
        return save(chart, plot, png);
    }

    /** Prequential accuracy and FLOPs reduction (both in %) against training step. */
    public static Path accuracyAndFlops(SnapshotSeries series, Path png) throws IOException {
        XYSeries acc = new XYSeries("prequential accuracy since the previous snapshot", false, true);
        XYSeries flops = new XYSeries("FLOPs reduction of the compact network (1 − compact ÷ dense)", false, true);
        for (SnapshotSeries.Point p : series.points()) {
            acc.add(p.step(), p.accuracy() * 100);
            flops.add(p.step(), p.flopsReduction() * 100);
        }
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(acc);
        data.addSeries(flops);
        NumberAxis y = new NumberAxis("percent");
        double low = Math.min(0, series.points().stream().mapToDouble(p -> p.flopsReduction() * 100).min().orElse(0));
        y.setRange(Math.floor(low / 10) * 10, 100);
        y.setNumberFormatOverride(new DecimalFormat("0'%'", DecimalFormatSymbols.getInstance(Locale.ROOT)));
        XYPlot plot = new XYPlot(data, stepAxis(), y, renderer(2, new Color[] {new Color(0x1f77b4), new Color(0xd62728)}));
        JFreeChart chart = new JFreeChart("Prequential accuracy and FLOPs reduction over training", JFreeChart.DEFAULT_TITLE_FONT,
                plot, true);
        chart.addSubtitle(subtitle(series));
        return save(chart, plot, png);
    }

    private static NumberAxis stepAxis() {
        NumberAxis x = new NumberAxis("training step");
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        x.setAutoRangeIncludesZero(true);
        x.setUpperMargin(0.04); // the last snapshot's marker clear of the plot's edge
        return x;
    }

    private static XYLineAndShapeRenderer renderer(int series, Color[] colors) {
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < series; i++) {
            r.setSeriesStroke(i, new BasicStroke(2f));
            r.setSeriesPaint(i, colors[i % colors.length]);
        }
        return r;
    }

    private static TextTitle subtitle(SnapshotSeries s) {
        String text = s.points().size() == 1
                ? String.format(Locale.ROOT, "1 snapshot (v%d, step %,d) from %s", s.first().version(), s.first().step(), s.source())
                : String.format(Locale.ROOT, "%d snapshots (v%d–v%d, steps %,d–%,d) from %s", s.points().size(),
                        s.first().version(), s.latest().version(), s.first().step(), s.latest().step(), s.source());
        return new TextTitle(text, new Font("SansSerif", Font.PLAIN, 12));
    }

    private static String first(SnapshotSeries s, String layer) {
        return s.points().stream().map(p -> p.openChannels().get(layer)).filter(n -> n != null).findFirst()
                .map(String::valueOf).orElse("-");
    }

    private static String latest(SnapshotSeries s, String layer) {
        for (int i = s.points().size() - 1; i >= 0; i--) {
            Integer n = s.points().get(i).openChannels().get(layer);
            if (n != null) {
                return n.toString();
            }
        }
        return "-";
    }

    private static Path save(JFreeChart chart, XYPlot plot, Path png) throws IOException {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
        return png;
    }
}
