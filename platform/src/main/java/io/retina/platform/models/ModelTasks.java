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
  /**
   * Tasks that run no model and so take no uploads: only the built-in catalog names them. Workers
   * run them all the same.
   */
  public static final Set<String> WITHOUT_MODEL = Set.of("resize");

  /** Every task an uploaded version may name. */
  public static final Set<String> ALL =
      Set.of(
          "upscale",
          "remove-background",
          "remove-background-two-class",
          "matting",
          "pose",
          "face-detection",
          "face-attributes",
          "anonymize",
          "object-detection",
          "moderate",
          "denoise",
          "deblur");

  /** Options an uploaded version's artifact map may not carry: the registry sets them. */
  public static final Set<String> RESERVED_OPTIONS = Set.of("root", "store");

  /**
   * The upscale option that gives the pixel values a generator works on, "0..255" (the default) or
   * "0..1"; a setting, not a file.
   */
  public static final String UPSCALE_RANGE = "range";

  private static final Set<String> UPSCALE_RANGES = Set.of("0..255", "0..1");

  private static final Map<String, List<String>> REQUIRED =
      Map.of("face-attributes", List.of("detector", "faceres", "emotion"));

  private ModelTasks() {}

  /** Why these artifact options don't fit the task, or empty when they do. */
  public static Optional<String> checkOptions(String task, Map<String, String> options) {
    if (WITHOUT_MODEL.contains(task)) {
      return Optional.of(task + " runs no model, so it has no versions to upload");
    }
    if (!ALL.contains(task)) {
      return Optional.of("unknown task '" + task + "'; one of " + new java.util.TreeSet<>(ALL));
    }
    for (String reserved : RESERVED_OPTIONS) {
      if (options.containsKey(reserved)) {
        return Optional.of("artifact option '" + reserved + "' is set by the registry");
      }
    }
    if (task.equals("upscale")) {
      String range = options.get(UPSCALE_RANGE);
      if (range != null && !UPSCALE_RANGES.contains(range)) {
        return Optional.of(
            "artifact option 'range' is one of " + new java.util.TreeSet<>(UPSCALE_RANGES));
      }
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

  /** The options that name model files inside the artifact: all but a task's settings. */
  public static Map<String, String> modelFiles(String task, Map<String, String> options) {
    if (!task.equals("upscale") || !options.containsKey(UPSCALE_RANGE)) {
      return options;
    }
    Map<String, String> files = new java.util.LinkedHashMap<>(options);
    files.remove(UPSCALE_RANGE);
    return files;
  }
}
