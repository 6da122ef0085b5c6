package io.retina.platform.jobs;

import java.util.Map;
import java.util.UUID;

/**
 * An admitted request, ready to be stored: the image has been probed and the parameters resolved.
 */
public record NewJob(
    UUID tenantId,
    String modelName,
    int modelVersion,
    Map<String, String> params,
    String inputMediaType,
    int inputWidth,
    int inputHeight,
    String inputDigest,
    byte[] input,
    int maxAttempts) {

  public NewJob {
    params = Map.copyOf(params);
  }
}
