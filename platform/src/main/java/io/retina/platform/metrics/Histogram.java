package io.retina.platform.metrics;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * A distribution of observed values in fixed buckets, one per label-value tuple. Thread-safe.
 *
 * <p>A scrape reads each bucket once, so the cumulative buckets it writes are consistent with each
 * other and with {@code _count}; {@code _sum} may include an observation the buckets do not yet
 * show.
 */
public final class Histogram extends Metric<Histogram.Child> {

  private final double[] upperBounds;

  Histogram(String name, String help, double[] buckets, String[] labelNames) {
    this(name, help, labelNames, upperBounds(name, buckets));
  }

  private Histogram(String name, String help, String[] labelNames, double[] upperBounds) {
    super(name, help, labelNames, values -> new Child(upperBounds.length));
    this.upperBounds = upperBounds;
    if (labelNames().contains("le")) {
      throw new IllegalArgumentException(name + ": the label name le is reserved for buckets");
    }
  }

  /** Records one value; it falls in the first bucket whose upper bound is at least the value. */
  public void observe(double value, String... labelValues) {
    if (Double.isNaN(value)) {
      throw new IllegalArgumentException(name() + " cannot observe NaN");
    }
    Child child = child(labelValues);
    int bucket = Arrays.binarySearch(upperBounds, value);
    // binarySearch gives the exact bound, or -(insertion point) - 1 for the next larger one.
    child.counts[bucket >= 0 ? bucket : -bucket - 1].increment();
    child.sum.add(value);
  }

  @Override
  String type() {
    return "histogram";
  }

  @Override
  void writeChild(StringBuilder out, List<String> labelValues, Child child) {
    long cumulative = 0;
    for (int i = 0; i < upperBounds.length; i++) {
      cumulative += child.counts[i].sum();
      writeSample(
          out, "_bucket", labelValues, "le", format(upperBounds[i]), Long.toString(cumulative));
    }
    writeSample(out, "_sum", labelValues, null, null, format(child.sum.sum()));
    writeSample(out, "_count", labelValues, null, null, Long.toString(cumulative));
  }

  /** The given bounds, checked to be strictly increasing, with +Inf appended if missing. */
  private static double[] upperBounds(String name, double[] buckets) {
    if (buckets == null || buckets.length == 0) {
      throw new IllegalArgumentException(name + " needs at least one bucket");
    }
    for (int i = 0; i < buckets.length; i++) {
      if (Double.isNaN(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1])) {
        throw new IllegalArgumentException(
            name + " buckets must be strictly increasing: " + Arrays.toString(buckets));
      }
    }
    if (buckets[buckets.length - 1] == Double.POSITIVE_INFINITY) {
      return buckets.clone();
    }
    double[] bounds = Arrays.copyOf(buckets, buckets.length + 1);
    bounds[buckets.length] = Double.POSITIVE_INFINITY;
    return bounds;
  }

  /** The counts of one label-value tuple; bucket counts are per bucket, not cumulative. */
  static final class Child {
    private final LongAdder[] counts;
    private final DoubleAdder sum = new DoubleAdder();

    private Child(int buckets) {
      counts = new LongAdder[buckets];
      for (int i = 0; i < buckets; i++) {
        counts[i] = new LongAdder();
      }
    }
  }
}
