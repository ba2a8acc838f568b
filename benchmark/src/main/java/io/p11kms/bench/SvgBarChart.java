package io.p11kms.bench;

import java.util.List;
import java.util.Locale;

/**
 * A grouped bar chart as hand-written SVG: one group of bars per x value, one bar per series, a
 * labelled y axis from zero, a legend, the value over each bar, and an optional dashed reference
 * line (such as the direct loop's best throughput).
 */
final class SvgBarChart {
  private static final String[] COLOURS = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2"};
  private static final int WIDTH = 760;
  private static final int HEIGHT = 420;
  private static final int LEFT = 80;
  private static final int RIGHT = 20;
  private static final int TOP = 50;
  private static final int BOTTOM = 60;

  /** One series: a value per group, NaN where there is none. */
  record Series(String name, double[] values) {}

  /** A horizontal dashed line at {@code value}, labelled. */
  record Reference(String label, double value) {}

  private SvgBarChart() {}

  static String render(
      String title,
      String xLabel,
      String yLabel,
      List<String> groups,
      List<Series> series,
      Reference reference) {
    double max = reference == null ? 0 : reference.value();
    for (Series s : series) {
      for (double v : s.values()) {
        if (!Double.isNaN(v)) {
          max = Math.max(max, v);
        }
      }
    }
    double step = niceStep(max / 5);
    double top = Math.max(step, Math.ceil(max * 1.1 / step) * step);
    int plotWidth = WIDTH - LEFT - RIGHT;
    int plotHeight = HEIGHT - TOP - BOTTOM;
    StringBuilder svg = new StringBuilder();
    svg.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d"
                + " %d\" font-family=\"sans-serif\" font-size=\"12\">%n",
            WIDTH,
            HEIGHT,
            WIDTH,
            HEIGHT));
    svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    text(svg, WIDTH / 2.0, 24, "middle", "font-size=\"15\" font-weight=\"bold\"", title);
    for (double y = 0; y <= top + step / 2; y += step) {
      double py = TOP + plotHeight - y / top * plotHeight;
      svg.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>%n",
              LEFT,
              py,
              LEFT + plotWidth,
              py));
      text(svg, LEFT - 6, py + 4, "end", "", compact(y));
    }
    svg.append(
        String.format(
            Locale.ROOT,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n"
                + "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
            LEFT,
            TOP,
            LEFT,
            TOP + plotHeight,
            LEFT,
            TOP + plotHeight,
            LEFT + plotWidth,
            TOP + plotHeight));
    double groupWidth = (double) plotWidth / groups.size();
    double barWidth = groupWidth * 0.8 / series.size();
    for (int g = 0; g < groups.size(); g++) {
      double groupLeft = LEFT + g * groupWidth + groupWidth * 0.1;
      text(svg, LEFT + (g + 0.5) * groupWidth, TOP + plotHeight + 18, "middle", "", groups.get(g));
      for (int s = 0; s < series.size(); s++) {
        double v = series.get(s).values()[g];
        if (Double.isNaN(v)) {
          continue;
        }
        double h = v / top * plotHeight;
        double x = groupLeft + s * barWidth;
        svg.append(
            String.format(
                Locale.ROOT,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>%n",
                x,
                TOP + plotHeight - h,
                barWidth - 2,
                h,
                COLOURS[s % COLOURS.length]));
        text(
            svg,
            x + barWidth / 2 - 1,
            TOP + plotHeight - h - 4,
            "middle",
            "font-size=\"10\"",
            compact(v));
      }
    }
    if (reference != null) {
      double py = TOP + plotHeight - reference.value() / top * plotHeight;
      svg.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"black\""
                  + " stroke-dasharray=\"6,4\"/>%n",
              LEFT,
              py,
              LEFT + plotWidth,
              py));
      text(svg, LEFT + plotWidth - 4, py - 5, "end", "", reference.label());
    }
    text(svg, LEFT + plotWidth / 2.0, HEIGHT - 16, "middle", "", xLabel);
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 18 %.1f)\">"
                + "%s</text>%n",
            TOP + plotHeight / 2.0,
            TOP + plotHeight / 2.0,
            escape(yLabel)));
    for (int s = 0; s < series.size(); s++) {
      double y = TOP + 4 + s * 16;
      svg.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%d\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>%n",
              LEFT + 10,
              y,
              COLOURS[s % COLOURS.length]));
      text(svg, LEFT + 26, y + 9, "start", "", series.get(s).name());
    }
    return svg.append("</svg>\n").toString();
  }

  private static void text(
      StringBuilder svg, double x, double y, String anchor, String attributes, String content) {
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" %s>%s</text>%n",
            x,
            y,
            anchor,
            attributes,
            escape(content)));
  }

  /** 1, 2 or 5 times a power of ten, at least {@code raw}. */
  static double niceStep(double raw) {
    if (raw <= 0 || Double.isNaN(raw)) {
      return 1;
    }
    double power = Math.pow(10, Math.floor(Math.log10(raw)));
    for (double m : new double[] {1, 2, 5, 10}) {
      if (m * power >= raw) {
        return m * power;
      }
    }
    return 10 * power;
  }

  static String compact(double v) {
    if (v >= 10_000) {
      return String.format(Locale.ROOT, "%.0fk", v / 1000);
    }
    if (v >= 1000) {
      return String.format(Locale.ROOT, "%.1fk", v / 1000);
    }
    if (v >= 10 || v == 0) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    return String.format(Locale.ROOT, "%.2f", v);
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
