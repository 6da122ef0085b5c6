package io.retina.api.models;

import io.retina.platform.models.ModelVersion;
import java.util.LinkedHashMap;
import java.util.Map;

/** The JSON fields of a model version that the tenant catalog and the admin registry share. */
public final class ModelVersionJson {
  private ModelVersionJson() {}

  /**
   * Identity, lifecycle and provenance: name, version, ref, status, task, format, source, digest.
   */
  public static Map<String, Object> common(ModelVersion v) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", v.modelName());
    m.put("version", v.version());
    m.put("ref", v.ref());
    m.put("status", v.status().dbValue());
    m.put("task", v.task());
    m.put("format", v.format());
    m.put("source", v.source());
    m.put("digest", v.artifactDigest());
    return m;
  }

  /** What one job costs: per image and per megapixel of input, in micros. */
  public static Map<String, Object> price(ModelVersion v) {
    return Map.of(
        "perImageMicros", v.pricePerImageMicros(),
        "perMegapixelMicros", v.pricePerMegapixelMicros());
  }
}
