package io.retina.platform.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * What every metric family shares: a validated name, help text, label names, one child per
 * label-value tuple, and the Prometheus text-format rules for writing them.
 */
abstract sealed class Metric<C> permits Counter, Histogram, Gauge {

  private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
  private static final Comparator<List<String>> BY_LABEL_VALUES =
      (a, b) -> {
        for (int i = 0; i < a.size(); i++) {
          int c = a.get(i).compareTo(b.get(i));
          if (c != 0) {
            return c;
          }
        }
        return 0;
      };

  private final String name;
  private final String help;
  private final List<String> labelNames;
  private final Map<List<String>, C> children = new ConcurrentHashMap<>();
  private final Function<List<String>, C> newChild;

  Metric(String name, String help, String[] labelNames, Function<List<String>, C> newChild) {
    if (name == null || !METRIC_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("invalid metric name: " + name);
    }
    if (help == null) {
      throw new IllegalArgumentException("metric " + name + " needs help text");
    }
    for (String label : labelNames) {
      if (label == null || !LABEL_NAME.matcher(label).matches() || label.startsWith("__")) {
        throw new IllegalArgumentException("invalid label name for " + name + ": " + label);
      }
    }
    if (Arrays.stream(labelNames).distinct().count() != labelNames.length) {
      throw new IllegalArgumentException("duplicate label name for " + name);
    }
    this.name = name;
    this.help = help;
    this.labelNames = List.of(labelNames);
    this.newChild = newChild;
    if (labelNames.length == 0) {
      child(); // an unlabelled metric is exposed as 0 before its first update
    }
  }

  public final String name() {
    return name;
  }

  abstract String type();

  /** Appends the sample lines of the child for {@code labelValues}. */
  abstract void writeChild(StringBuilder out, List<String> labelValues, C child);

  final List<String> labelNames() {
    return labelNames;
  }

  final C child(String... labelValues) {
    if (labelValues.length != labelNames.size()) {
      throw new IllegalArgumentException(
          name + " has labels " + labelNames + " but got " + labelValues.length + " values");
    }
    for (String value : labelValues) {
      if (value == null) {
        throw new IllegalArgumentException(name + " got a null label value");
      }
    }
    // List.of copies, so a caller reusing its array cannot change the key.
    return children.computeIfAbsent(List.of(labelValues), newChild);
  }

  final void writeTo(StringBuilder out) {
    out.append("# HELP ").append(name).append(' ');
    escape(out, help, false);
    out.append("\n# TYPE ").append(name).append(' ').append(type()).append('\n');
    List<Map.Entry<List<String>, C>> sorted = new ArrayList<>(children.entrySet());
    sorted.sort(Map.Entry.comparingByKey(BY_LABEL_VALUES));
    for (Map.Entry<List<String>, C> child : sorted) {
      writeChild(out, child.getKey(), child.getValue());
    }
  }

  /**
   * Appends one sample line: {@code name{labels} value}. {@code extraLabel}, if not null, is
   * appended after the metric's own labels (a histogram's {@code le}).
   */
  final void writeSample(
      StringBuilder out,
      String suffix,
      List<String> labelValues,
      String extraLabel,
      String extraValue,
      String value) {
    out.append(name).append(suffix);
    if (!labelValues.isEmpty() || extraLabel != null) {
      out.append('{');
      for (int i = 0; i < labelValues.size(); i++) {
        out.append(i > 0 ? "," : "").append(labelNames.get(i)).append("=\"");
        escape(out, labelValues.get(i), true);
        out.append('"');
      }
      if (extraLabel != null) {
        out.append(labelValues.isEmpty() ? "" : ",").append(extraLabel).append("=\"");
        out.append(extraValue).append('"');
      }
      out.append('}');
    }
    out.append(' ').append(value).append('\n');
  }

  /** Formats a sample value as Prometheus parses it: integers without ".0", and +Inf/-Inf/NaN. */
  static String format(double value) {
    if (Double.isNaN(value)) {
      return "NaN";
    }
    if (Double.isInfinite(value)) {
      return value > 0 ? "+Inf" : "-Inf";
    }
    // Below 2^53 every integral double is exactly a long.
    if (value == Math.rint(value) && Math.abs(value) < 0x1p53) {
      return Long.toString((long) value);
    }
    return Double.toString(value);
  }

  /** HELP text escapes backslash and newline; label values also escape the double quote. */
  private static void escape(StringBuilder out, String text, boolean quote) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '"' -> out.append(quote ? "\\\"" : "\"");
        default -> out.append(c);
      }
    }
  }
}
