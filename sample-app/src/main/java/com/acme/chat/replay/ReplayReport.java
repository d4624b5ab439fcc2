package com.acme.chat.replay;

import com.acme.chat.load.Timeline;
import com.acme.chat.util.Json;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;

/**
 * {@code replay --report FILE.html}: per second of every run, the share of messages delivered in
 * time and their p99 latency, side by side on one time axis (seconds from the bad deploy), with
 * what happened marked: the bad deploy, the first alert, the kill switch opening and closing, the
 * auto-fence going up, the good pack by hand or by the service's own rollback. Drawn with
 * JFreeChart to SVG (JFreeSVG); the page is self-contained (inline SVG, the table, and the data as
 * JSON), and the SVG is also written on its own beside it ({@code FILE.svg}).
 */
public final class ReplayReport {
  static final int WIDTH = 960;
  static final int HEIGHT = 600;
  private static final Color[] COLORS = {
    new Color(0xC0392B), new Color(0x1F77B4), new Color(0x2CA02C), new Color(0x9467BD)
  };

  /** A moment of one run, in seconds from its bad deploy. */
  public record Marker(String run, String what, double seconds) {}

  private ReplayReport() {}

  /** The markers of one run. */
  static List<Marker> markers(Replay.RunResult r) {
    List<Marker> m = new ArrayList<>();
    add(m, r, "first alert", r.firstAlertSeconds());
    add(m, r, "switch open", r.killSwitchOpenSeconds());
    add(m, r, "fence", r.fenceSeconds());
    if (r.goodPackSeconds() != null) {
      add(m, r, "good pack by hand", r.goodPackSeconds());
      if (r.killSwitchClosedSeconds() != null)
        add(m, r, "switch closed", r.goodPackSeconds() + r.killSwitchClosedSeconds());
    }
    add(m, r, "rollback", r.rollbackSeconds());
    return m;
  }

  private static void add(List<Marker> m, Replay.RunResult r, String what, Double at) {
    if (at != null) m.add(new Marker(r.label(), what, at));
  }

  /** Writes {@code html} and the SVG beside it; returns the SVG's path. */
  public static Path write(Path html, Replay.Report report, String table) throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<Replay.RunResult> runs = new ArrayList<>();
    for (Replay.RunResult r : report.runs()) {
      if (!r.timeline().isEmpty()) runs.add(r);
    }
    JFreeChart chart = chart(runs);
    SVGGraphics2D g = new SVGGraphics2D(WIDTH, HEIGHT);
    g.setGeomDoubleConverter(d -> decimals(d, 10)); // a tenth of a pixel keeps the file small
    g.setTransformDoubleConverter(d -> decimals(d, 1000));
    chart.draw(g, new Rectangle2D.Double(0, 0, WIDTH, HEIGHT));
    String name = html.getFileName().toString();
    Path svg =
        html.resolveSibling(
            (name.endsWith(".html") ? name.substring(0, name.length() - 5) : name) + ".svg");
    Files.writeString(svg, g.getSVGDocument(), StandardCharsets.UTF_8);
    Files.writeString(html, page(g.getSVGElement(), runs, table), StandardCharsets.UTF_8);
    return svg;
  }

  /** {@code d} rounded to 1/{@code scale}, without a locale and without a trailing ".0". */
  static String decimals(double d, int scale) {
    double r = Math.round(d * scale) / (double) scale;
    return r == Math.rint(r) ? Long.toString((long) r) : Double.toString(r);
  }

  static JFreeChart chart(List<Replay.RunResult> runs) {
    XYSeriesCollection delivered = new XYSeriesCollection();
    XYSeriesCollection p99 = new XYSeriesCollection();
    for (Replay.RunResult r : runs) {
      XYSeries d = new XYSeries(r.label());
      XYSeries p = new XYSeries(r.label());
      for (Timeline.Second s : r.timeline()) {
        double x = s.epochSecond() + 0.5 - r.badDeployMicros() / 1e6;
        if (s.sent() > 0) d.add(x, s.deliveredPct());
        // a second in which nothing arrived in time has no p99: a gap, not a line across it
        p.add(x, Double.isNaN(s.p99Ms()) ? null : Double.valueOf(Math.max(0.1, s.p99Ms())));
      }
      delivered.addSeries(d);
      p99.addSeries(p);
    }
    NumberAxis pct = new NumberAxis("delivered in time, %");
    pct.setRange(0, 105);
    XYPlot top = new XYPlot(delivered, null, pct, renderer(runs.size()));
    LogAxis ms = new LogAxis("p99 latency, ms (log)");
    ms.setSmallestValue(0.1);
    ms.setTickUnit(new NumberTickUnit(1.0), false, true); // one tick a decade
    ms.setNumberFormatOverride(new DecimalFormat("#,##0.#"));
    XYLineAndShapeRenderer lower = renderer(runs.size());
    for (int i = 0; i < runs.size(); i++) lower.setSeriesVisibleInLegend(i, false);
    XYPlot bottom = new XYPlot(p99, null, ms, lower);
    NumberAxis time = new NumberAxis("seconds from the bad deploy");
    CombinedDomainXYPlot plot = new CombinedDomainXYPlot(time);
    plot.add(top, 1);
    plot.add(bottom, 1);
    for (XYPlot sub : List.of(top, bottom)) {
      sub.setBackgroundPaint(Color.WHITE);
      sub.setDomainGridlinePaint(new Color(0xDDDDDD));
      sub.setRangeGridlinePaint(new Color(0xDDDDDD));
      int row = 0; // labels one under the other: several markers fall within a second
      sub.addDomainMarker(marker(0, "bad deploy", Color.BLACK, sub == top ? row++ : -1));
      for (int i = 0; i < runs.size(); i++) {
        for (Marker m : markers(runs.get(i))) {
          sub.addDomainMarker(
              marker(m.seconds(), m.what(), COLORS[i % COLORS.length], sub == top ? row++ : -1));
        }
      }
    }
    JFreeChart chart =
        new JFreeChart(
            "Outage replay: the bad emoji pack, without and with Firebreak",
            new Font("SansSerif", Font.BOLD, 16),
            plot,
            true);
    chart.setBackgroundPaint(Color.WHITE);
    return chart;
  }

  private static XYLineAndShapeRenderer renderer(int series) {
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
    for (int i = 0; i < series; i++) {
      r.setSeriesPaint(i, COLORS[i % COLORS.length]);
      r.setSeriesStroke(i, new BasicStroke(2f));
    }
    return r;
  }

  /** A dashed vertical line; labelled when {@code row >= 0}, the label {@code row} lines down. */
  private static ValueMarker marker(double x, String label, Color color, int row) {
    ValueMarker m =
        new ValueMarker(
            x,
            color,
            new BasicStroke(
                1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {4f, 3f}, 0f));
    if (row >= 0) {
      m.setLabel(String.format("%s (%.1f s)", label, x));
      m.setLabelFont(new Font("SansSerif", Font.PLAIN, 10));
      m.setLabelPaint(color);
      m.setLabelBackgroundColor(new Color(255, 255, 255, 220));
      m.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
      m.setLabelTextAnchor(TextAnchor.TOP_LEFT);
      m.setLabelOffset(new RectangleInsets(4 + 14 * row, 3, 0, 0));
    }
    return m;
  }

  private static String page(String svg, List<Replay.RunResult> runs, String table) {
    List<Object> data = new ArrayList<>();
    for (Replay.RunResult r : runs) {
      Map<String, Object> run = new LinkedHashMap<>();
      run.put("name", r.label());
      run.put("agent", r.agent());
      run.put("rules", r.rules());
      List<Object> seconds = new ArrayList<>();
      for (Timeline.Second s : r.timeline()) {
        seconds.add(
            Json.obj(
                "t",
                Math.round((s.epochSecond() - r.badDeployMicros() / 1e6) * 10) / 10.0,
                "sent",
                s.sent(),
                "delivered",
                s.delivered(),
                "p99_ms",
                Double.isNaN(s.p99Ms()) ? null : s.p99Ms()));
      }
      run.put("seconds", seconds);
      List<Object> marks = new ArrayList<>();
      for (Marker m : markers(r)) marks.add(Json.obj("what", m.what(), "t", m.seconds()));
      run.put("markers", marks);
      data.add(run);
    }
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        + "<title>Firebreak outage replay</title>"
        + "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}"
        + "pre{background:#f6f6f6;padding:1em;overflow-x:auto}</style></head><body>\n"
        + "<h1>Firebreak outage replay</h1>\n"
        + svg
        + "\n<h2>The figures</h2>\n<pre>"
        + escape(table)
        + "</pre>\n<script type=\"application/json\" id=\"replay-data\">"
        + Json.write(Json.obj("runs", data)).replace("</", "<\\/")
        + "</script>\n</body></html>\n";
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
