package l0stream.pipeline.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code index.html} of {@code l0stream report}: title, where the snapshots came from, a
 * summary (first vs latest snapshot and the run-level facts of the source), the two charts of
 * {@link ReportCharts} (linked by relative file name, so the directory can be moved or served as
 * is), and the snapshot table — version, step, prequential accuracy, open channels per layer,
 * FLOPs reduction, artifact bytes. Every piece of text from the input is HTML-escaped. A single,
 * self-contained file: no scripts, no external resources. Stateless and thread-safe.
 */
public final class ReportPage {

    public static final String FILE = "index.html";

    private ReportPage() {}

    /** Writes {@value #FILE} into {@code dir} (which must exist) and returns its path. */
    public static Path write(SnapshotSeries series, Path dir) throws IOException {
        Path page = dir.resolve(FILE);
        Files.writeString(page, html(series), StandardCharsets.UTF_8);
        return page;
    }

    /** The page's text. */
    public static String html(SnapshotSeries s) {
        List<String> layers = s.layers();
        SnapshotSeries.Point first = s.first();
        SnapshotSeries.Point last = s.latest();
        StringBuilder h = new StringBuilder(4096);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<title>l0stream report: ").append(escape(s.source())).append("</title>\n")
                .append("<style>\n")
                .append("body{font-family:sans-serif;margin:2em auto;max-width:1000px;color:#222}\n")
                .append("table{border-collapse:collapse;margin:1em 0}\n")
                .append("th,td{border:1px solid #ccc;padding:4px 10px}\n")
                .append("td.n{text-align:right;font-variant-numeric:tabular-nums}\n")
                .append("th{background:#f3f3f3}\n")
                .append("img{max-width:100%;height:auto;border:1px solid #ddd;margin:0.5em 0}\n")
                .append("dt{font-weight:bold;float:left;clear:left;width:16em}dd{margin-left:16em}\n")
                .append("</style>\n</head>\n<body>\n");
        h.append("<h1>l0stream report</h1>\n");
        h.append("<p>Source: <code>").append(escape(s.source())).append("</code></p>\n");

        h.append("<h2>Summary</h2>\n<dl>\n");
        dd(h, "snapshots", String.format(Locale.ROOT, "%d (v%d to v%d)", s.points().size(), first.version(), last.version()));
        dd(h, "training steps", String.format(Locale.ROOT, "%,d to %,d", first.step(), last.step()));
        dd(h, "latest prequential accuracy", String.format(Locale.ROOT, "%.4f (first snapshot: %.4f)", last.accuracy(),
                first.accuracy()));
        dd(h, "latest FLOPs reduction", String.format(Locale.ROOT, "%.1f %% (first snapshot: %.1f %%)", last.flopsReduction() * 100,
                first.flopsReduction() * 100));
        dd(h, "latest open channels", channels(last, layers) + " (first snapshot: " + channels(first, layers) + ")");
        dd(h, "latest artifact", String.format(Locale.ROOT, "%,d bytes (first snapshot: %,d bytes)", last.bytes(), first.bytes()));
        for (Map.Entry<String, String> f : s.facts().entrySet()) {
            dd(h, f.getKey(), f.getValue());
        }
        h.append("</dl>\n");

        h.append("<h2>Charts</h2>\n");
        img(h, ReportCharts.OPEN_CHANNELS_PNG, "Open channels per gated layer over training steps");
        img(h, ReportCharts.ACCURACY_FLOPS_PNG, "Prequential accuracy and FLOPs reduction over training steps");

        h.append("<h2>Snapshots</h2>\n<table>\n<thead>\n<tr><th>version</th><th>step</th><th>accuracy</th>");
        for (String l : layers) {
            h.append("<th>open ").append(escape(l)).append("</th>");
        }
        h.append("<th>FLOPs reduction</th><th>bytes</th></tr>\n</thead>\n<tbody>\n");
        for (SnapshotSeries.Point p : s.points()) {
            h.append("<tr id=\"v").append(p.version()).append("\">");
            cell(h, Long.toString(p.version()));
            cell(h, String.format(Locale.ROOT, "%,d", p.step()));
            cell(h, String.format(Locale.ROOT, "%.4f", p.accuracy()));
            for (String l : layers) {
                Integer n = p.openChannels().get(l);
                cell(h, n == null ? "–" : n.toString());
            }
            cell(h, String.format(Locale.ROOT, "%.3f", p.flopsReduction()));
            cell(h, String.format(Locale.ROOT, "%,d", p.bytes()));
            h.append("</tr>\n");
        }
        h.append("</tbody>\n</table>\n");
        h.append("<p><small>accuracy: prequential (test-then-train) accuracy over the records since the previous snapshot;"
                + " FLOPs reduction: 1 − FLOPs of the compact (pruned) network ÷ FLOPs of the dense one.</small></p>\n");
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    /** Escapes {@code & < > " '} for HTML text and attribute values. */
    public static String escape(String text) {
        StringBuilder b = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    private static String channels(SnapshotSeries.Point p, List<String> layers) {
        StringBuilder b = new StringBuilder();
        for (String l : layers) {
            Integer n = p.openChannels().get(l);
            if (n != null) {
                b.append(b.length() == 0 ? "" : ", ").append(l).append(' ').append(n);
            }
        }
        return b.length() == 0 ? "none recorded" : b.toString();
    }

    private static void dd(StringBuilder h, String label, String value) {
        h.append("<dt>").append(escape(label)).append("</dt><dd>").append(escape(value)).append("</dd>\n");
    }

    private static void img(StringBuilder h, String file, String alt) {
        h.append("<figure><img src=\"").append(escape(file)).append("\" alt=\"").append(escape(alt)).append("\" width=\"")
                .append(ReportCharts.WIDTH).append("\" height=\"").append(ReportCharts.HEIGHT).append("\"><figcaption>")
                .append(escape(alt)).append("</figcaption></figure>\n");
    }

    private static void cell(StringBuilder h, String text) {
        h.append("<td class=\"n\">").append(escape(text)).append("</td>");
    }
}
