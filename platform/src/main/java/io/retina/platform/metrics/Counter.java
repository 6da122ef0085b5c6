package io.retina.platform.metrics;

import java.util.List;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * A monotonically increasing count, one per label-value tuple. Thread-safe; increments from many
 * threads are not lost. By Prometheus convention its name ends in {@code _total}.
 */
public final class Counter extends Metric<DoubleAdder> {

  Counter(String name, String help, String[] labelNames) {
    super(name, help, labelNames, values -> new DoubleAdder());
  }

  /** Adds one. Label values are given in the order the label names were registered. */
  public void inc(String... labelValues) {
    child(labelValues).add(1);
  }

  /** Adds {@code amount}, which must be zero or more. */
  public void inc(double amount, String... labelValues) {
    if (!(amount >= 0)) {
      throw new IllegalArgumentException(name() + " can only increase, not by " + amount);
    }
    child(labelValues).add(amount);
  }

  /** The current count for these label values; 0 if never incremented. */
  public double value(String... labelValues) {
    return child(labelValues).sum();
  }

  @Override
  String type() {
    return "counter";
  }

  @Override
  void writeChild(StringBuilder out, List<String> labelValues, DoubleAdder child) {
    writeSample(out, "", labelValues, null, null, format(child.sum()));
  }
}
