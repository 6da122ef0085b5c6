package io.retina.platform.models;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A servable version of a model: where its artifact is and how to load it, the parameters it
 * accepts, whether it may be batched, its price and its lifecycle status.
 *
 * @param maxBatchSize jobs one run may take together; more than 1 only for batch-safe versions
 * @param maxBatchDelayMs how long the first queued job may wait for others to join its batch
 * @param artifact loader options: {@code root} names the artifact's directory in the model cache;
 *     the rest are task-specific paths inside it
 */
public record ModelVersion(
    String modelName,
    int version,
    String task,
    String format,
    String source,
    String artifactDigest,
    Map<String, String> artifact,
    List<ParameterSpec> parameters,
    boolean batchSafe,
    int maxBatchSize,
    int maxBatchDelayMs,
    long pricePerImageMicros,
    long pricePerMegapixelMicros,
    Status status) {

  public enum Status {
    STAGED,
    ACTIVE,
    RETIRED;

    public String dbValue() {
      return name().toLowerCase();
    }
  }

  public ModelVersion {
    if (!batchSafe && maxBatchSize != 1) {
      throw new IllegalArgumentException(
          "a version not proven batch-safe is never batched: max batch size must be 1");
    }
    artifact = Map.copyOf(artifact);
    parameters = List.copyOf(parameters);
  }

  /** This version with another status. */
  public ModelVersion withStatus(Status other) {
    return new ModelVersion(
        modelName,
        version,
        task,
        format,
        source,
        artifactDigest,
        artifact,
        parameters,
        batchSafe,
        maxBatchSize,
        maxBatchDelayMs,
        pricePerImageMicros,
        pricePerMegapixelMicros,
        other);
  }

  /** {@code name@version}, the pinned reference tenants can use. */
  public String ref() {
    return modelName + "@" + version;
  }

  /**
   * The request's parameters with defaults filled in, or the reason they are refused: unknown names
   * and values a parameter does not take (outside its list or its range) are errors, never silently
   * ignored.
   */
  public Map<String, String> resolveParameters(Map<String, String> given)
      throws InvalidParametersException {
    Map<String, String> resolved = new LinkedHashMap<>();
    for (String name : given.keySet()) {
      if (parameters.stream().noneMatch(p -> p.name().equals(name))) {
        throw new InvalidParametersException(
            name, "unknown parameter '" + name + "' for " + ref() + "; accepted: " + names());
      }
    }
    for (ParameterSpec p : parameters) {
      String value = given.getOrDefault(p.name(), p.defaultValue());
      if (!p.accepts(value)) {
        throw new InvalidParametersException(
            p.name(), p.name() + " must be " + p.expectation() + ", not '" + value + "'");
      }
      resolved.put(p.name(), value);
    }
    return resolved;
  }

  /** The price of one job on an image of this many pixels, in millionths of the currency unit. */
  public long priceMicros(long pixels) {
    return pricePerImageMicros + Math.round(pricePerMegapixelMicros * (pixels / 1_000_000.0));
  }

  private List<String> names() {
    return parameters.stream().map(ParameterSpec::name).toList();
  }

  /** A request's parameters don't fit the version's parameter specs. */
  public static final class InvalidParametersException extends Exception {
    private final String parameter;

    public InvalidParametersException(String parameter, String message) {
      super(message);
      this.parameter = parameter;
    }

    public String parameter() {
      return parameter;
    }
  }
}
