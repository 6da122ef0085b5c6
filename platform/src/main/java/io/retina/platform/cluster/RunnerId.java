package io.retina.platform.cluster;

import io.retina.platform.models.ModelVersion;

/**
 * Names a model version's runner in the cluster: its sharding entity id, its replicas, its metrics
 * and its events all use {@code name@version}, written and read only here.
 */
public record RunnerId(String model, int version) {
  public RunnerId {
    if (model == null || model.isEmpty() || model.indexOf('@') >= 0 || version < 1) {
      throw new IllegalArgumentException("not a model version: " + model + "@" + version);
    }
  }

  public static RunnerId of(ModelVersion v) {
    return new RunnerId(v.modelName(), v.version());
  }

  /** Reads {@code name@version}; fails on anything else. */
  public static RunnerId parse(String ref) {
    int at = ref.lastIndexOf('@');
    if (at <= 0) {
      throw new IllegalArgumentException("not name@version: " + ref);
    }
    try {
      return new RunnerId(ref.substring(0, at), Integer.parseInt(ref.substring(at + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not name@version: " + ref, e);
    }
  }

  /** {@code name@version}: the entity id. */
  @Override
  public String toString() {
    return model + "@" + version;
  }
}
