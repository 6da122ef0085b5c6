package io.retina.workers.tasks;

import io.retina.workers.tfjs.TfModel;
import io.retina.workers.tfjs.TfjsModels;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Loads the {@link ImageTask} a model version names. Stateless and thread-safe. */
public final class ImageTasks {

  private ImageTasks() {}

  /**
   * Loads a task. {@code task} is "upscale" or "remove-background"; {@code artifactRoot} is the
   * unpacked package directory; {@code options} are the task's artifact options, e.g. upscale:
   * {"x2": "models/x2/model.json", "x4": "models/x4/model.json"}, remove-background: {"model":
   * "models/selfie.json"}. Fails with IOException if the artifact can't be read or imported.
   */
  public static ImageTask load(String task, Path artifactRoot, Map<String, String> options)
      throws IOException {
    return switch (task) {
      case "upscale" -> loadUpscale(artifactRoot, options);
      case "remove-background" ->
          RemoveBackgroundTask.of(
              TfjsModels.load(resolve(artifactRoot, required(options, "model"))));
      // vision tasks: each names its models by artifact option ("model"; face-attributes:
      // "detector", "faceres", "emotion")
      case "pose" ->
          PoseTask.load(key -> TfjsModels.load(resolve(artifactRoot, required(options, key))));
      case "face-detection" ->
          FaceDetectionTask.load(
              key -> TfjsModels.load(resolve(artifactRoot, required(options, key))));
      case "face-attributes" ->
          FaceAttributesTask.load(
              key -> TfjsModels.load(resolve(artifactRoot, required(options, key))));
      case "object-detection" ->
          ObjectDetectionTask.load(
              key -> TfjsModels.load(resolve(artifactRoot, required(options, key))));
      // restoration, matting and moderation: one model each, artifact option "model"
      case "moderate" -> ModerationTask.load(resolve(artifactRoot, required(options, "model")));
      case "remove-background-two-class" ->
          MattingTask.twoClass(TfjsModels.load(resolve(artifactRoot, required(options, "model"))));
      case "matting" ->
          MattingTask.recurrent(TfjsModels.load(resolve(artifactRoot, required(options, "model"))));
      case "denoise", "deblur" ->
          RestoreTask.of(TfjsModels.load(resolve(artifactRoot, required(options, "model"))), task);
      default -> throw new IllegalArgumentException("unknown task " + task);
    };
  }

  private static ImageTask loadUpscale(Path root, Map<String, String> options) throws IOException {
    Map<Integer, TfModel> byScale = new TreeMap<>();
    List<TfModel> loaded = new ArrayList<>();
    try {
      for (Map.Entry<String, String> e : options.entrySet()) {
        if (!e.getKey().matches("x[1-9][0-9]?")) {
          continue; // other options belong to someone else
        }
        TfModel model = TfjsModels.load(resolve(root, e.getValue()));
        loaded.add(model);
        byScale.put(Integer.parseInt(e.getKey().substring(1)), model);
      }
      if (byScale.isEmpty()) {
        throw new IOException(
            "upscale needs at least one x<scale> model option, got " + options.keySet());
      }
      return new UpscaleTask(byScale);
    } catch (IOException | RuntimeException e) {
      loaded.forEach(TfModel::close);
      throw e;
    }
  }

  private static String required(Map<String, String> options, String key) throws IOException {
    String value = options.get(key);
    if (value == null || value.isBlank()) {
      throw new IOException("artifact option '" + key + "' is missing");
    }
    return value;
  }

  /** A path inside the artifact; one that escapes it (../, absolute) is refused. */
  private static Path resolve(Path root, String relative) throws IOException {
    Path base = root.toAbsolutePath().normalize();
    Path p = base.resolve(relative).normalize();
    if (!p.startsWith(base)) {
      throw new IOException("artifact path escapes the package: " + relative);
    }
    return p;
  }
}
