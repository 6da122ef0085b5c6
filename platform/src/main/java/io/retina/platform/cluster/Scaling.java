package io.retina.platform.cluster;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * How a version scales: between {@code minReplicas} and {@code maxReplicas} replicas on distinct
 * worker nodes, a replica added when the expected queue wait passes {@code targetWait}, submissions
 * refused past {@code maxWait}, and {@code device} "gpu" to place replicas on GPU workers only.
 */
public record Scaling(
    int minReplicas, int maxReplicas, Duration targetWait, Duration maxWait, String device)
    implements CborSerializable {

  public Scaling {
    if (minReplicas < 0 || maxReplicas < 1 || minReplicas > maxReplicas) {
      throw new IllegalArgumentException(
          "replicas must satisfy 0 <= min <= max, max >= 1; got "
              + minReplicas
              + ".."
              + maxReplicas);
    }
    if (!device.equals("any") && !device.equals("gpu")) {
      throw new IllegalArgumentException("device is 'any' or 'gpu', not '" + device + "'");
    }
  }

  /** A version's own settings, each null where the node's default applies. */
  public record Overrides(
      Integer minReplicas,
      Integer maxReplicas,
      Duration targetWait,
      Duration maxWait,
      String device) {
    public static final Overrides NONE = new Overrides(null, null, null, null, null);

    /** These overrides over {@code defaults}; fails if they contradict each other. */
    public Scaling over(Scaling defaults) {
      int min = minReplicas != null ? minReplicas : defaults.minReplicas();
      int max = maxReplicas != null ? maxReplicas : Math.max(defaults.maxReplicas(), min);
      return new Scaling(
          min,
          max,
          targetWait != null ? targetWait : defaults.targetWait(),
          maxWait != null ? maxWait : defaults.maxWait(),
          device != null ? device : defaults.device());
    }
  }

  /** The node's defaults, from {@code retina.workers.scaling}. */
  public static Scaling defaults(Config scaling) {
    return new Scaling(
        scaling.getInt("min-replicas"),
        scaling.getInt("max-replicas"),
        scaling.getDuration("target-wait"),
        scaling.getDuration("max-wait"),
        "any");
  }
}
