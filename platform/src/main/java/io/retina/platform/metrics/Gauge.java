package io.retina.platform.metrics;

import java.util.List;
import java.util.Objects;
import java.util.function.DoubleSupplier;
import java.util.function.Function;

/**
 * An unlabelled value sampled from a supplier at each scrape, such as a queue's depth. The supplier
 * is called from the scraping thread, so it must be thread-safe and quick.
 */
public final class Gauge extends Metric<DoubleSupplier> {

  private final DoubleSupplier supplier;

  Gauge(String name, String help, DoubleSupplier supplier) {
    super(name, help, new String[0], constant(Objects.requireNonNull(supplier, "supplier")));
    this.supplier = supplier;
  }

  private static Function<List<String>, DoubleSupplier> constant(DoubleSupplier supplier) {
    return values -> supplier;
  }

  /** Samples the supplier now. */
  public double value() {
    return supplier.getAsDouble();
  }

  @Override
  String type() {
    return "gauge";
  }

  @Override
  void writeChild(StringBuilder out, List<String> labelValues, DoubleSupplier child) {
    double value;
    try {
      value = child.getAsDouble();
    } catch (RuntimeException e) {
      return; // one failing supplier should not break the whole scrape; the sample is omitted
    }
    writeSample(out, "", labelValues, null, null, format(value));
  }
}
