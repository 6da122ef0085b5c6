package io.retina.platform.models;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The tasks a worker can run, and the artifact options each needs: the names under which a version
 * lists the model files of its package. Mirrors what the workers' task loader reads, so that an
 * upload that could never load is refused before it is stored. Stateless.
 */
public final class ModelTasks {
  /** Every task a version may name. */
  public static final Set<String> ALL =
      Set.of(
          "upscale",
          "remove-background",
          "remove-background-two-class",
          "matting",
          "pose",
          "face-detection",
          "face-attributes",
          "object-detection",
          "moderate",
          "denoise",
          "deblur");

  /** Options an uploaded version's artifact map may not carry: the registry sets them. */
  public static final Set<String> RESERVED_OPTIONS = Set.of("root", "store");

  private static final Map<String, List<String>> REQUIRED =
      Map.of("face-attributes", List.of("detector", "faceres", "emotion"));

  private ModelTasks() {}

  /** Why these artifact options don't fit the task, or empty when they do. */
  public static Optional<String> checkOptions(String task, Map<String, String> options) {
    if (!ALL.contains(task)) {
      return Optional.of("unknown task '" + task + "'; one of " + new java.util.TreeSet<>(ALL));
    }
    for (String reserved : RESERVED_OPTIONS) {
      if (options.containsKey(reserved)) {
        return Optional.of("artifact option '" + reserved + "' is set by the registry");
      }
    }
    if (task.equals("upscale")) {
      boolean scales = options.keySet().stream().anyMatch(k -> k.matches("x[1-9][0-9]?"));
      return scales
          ? Optional.empty()
          : Optional.of("upscale needs a model per scale: artifact options x2, x4, ...");
    }
    for (String key : REQUIRED.getOrDefault(task, List.of("model"))) {
      if (!options.containsKey(key)) {
        return Optional.of(task + " needs the artifact option '" + key + "'");
      }
    }
    return Optional.empty();
  }
}
