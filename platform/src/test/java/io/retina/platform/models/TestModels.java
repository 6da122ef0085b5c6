package io.retina.platform.models;

import java.util.List;
import java.util.Map;

/** A small registered model version for store and API tests that need one. */
public final class TestModels {
  private TestModels() {}

  public static ModelVersion echo(int version) {
    return echo("echo", version);
  }

  /** The same test model under another name. */
  public static ModelVersion echo(String name, int version) {
    return new ModelVersion(
        name,
        version,
        "echo",
        "tfjs-graph",
        "test",
        "sha256-test",
        Map.of("root", "none"),
        List.of(new ParameterSpec("scale", "a test parameter", List.of("2", "4"), "2")),
        false,
        1,
        0,
        1000,
        500,
        ModelVersion.Status.ACTIVE);
  }
}
