package io.retina.workers.tasks;

import io.retina.workers.models.CanonicalModels;
import io.retina.workers.tasks.vision.ModelSource;
import io.retina.workers.tfjs.TensorSpec;
import io.retina.workers.tfjs.TfModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.proto.DataType;

/** Loads the {@link ImageTask} a model version names. Stateless and thread-safe. */
public final class ImageTasks {

  private ImageTasks() {}

  /**
   * Loads a task, its models through their canonical forms in the default model cache ({@code
   * RETINA_MODEL_CACHE}, else {@code ~/.cache/retina/models}). For tools and tests; workers name
   * their cache with {@link #load(String, Path, Map, CanonicalModels)}.
   */
  public static ImageTask load(String task, Path artifactRoot, Map<String, String> options)
      throws IOException {
    return load(task, artifactRoot, options, new CanonicalModels(defaultModelCache()));
  }

  /**
   * Loads a task. {@code task} is "upscale" or "remove-background"; {@code artifactRoot} is the
   * unpacked package directory (null for a task that needs no model file, such as "resize"); {@code
   * options} are the task's artifact options, e.g. upscale: {"x2": "models/x2/model.json", "x4":
   * "models/x4/model.json"}, remove-background: {"model": "models/selfie.json"}. Each option names
   * a TF.js model.json or a SavedModel directory; every model is loaded from its canonical
   * SavedModel. Fails with IOException if the artifact can't be read or imported.
   */
  public static ImageTask load(
      String task, Path artifactRoot, Map<String, String> options, CanonicalModels canonical)
      throws IOException {
    ModelSource models = key -> canonical.load(resolve(artifactRoot, required(options, key)));
    return switch (task) {
      case "upscale" -> loadUpscale(artifactRoot, options, canonical);
      case "remove-background" -> RemoveBackgroundTask.of(models.load("model"));
      // vision tasks: each names its models by artifact option ("model"; face-attributes:
      // "detector", "faceres", "emotion")
      case "pose" -> PoseTask.load(models);
      case "face-detection" -> FaceDetectionTask.load(models);
      case "anonymize" -> AnonymizeTask.load(models);
      case "face-attributes" -> FaceAttributesTask.load(models);
      case "object-detection" -> ObjectDetectionTask.load(models);
      // restoration, matting and moderation: one model each, artifact option "model"
      case "moderate" -> {
        Path model = resolve(artifactRoot, required(options, "model"));
        yield ModerationTask.of(
            model.getFileName().toString().endsWith(".js")
                ? canonical.load(model, ModerationUmdBundle::importModel)
                : canonical.load(model));
      }
      // a tenant's trained classifier: "model" names its classifier.json; the backbone it was
      // trained on comes from this node's model cache
      case "classify" ->
          ClassifyTask.load(resolve(artifactRoot, required(options, "model")), canonical);
      // a tenant's trained denoiser: "model" names its denoiser.json, which holds the whole network
      case "denoise-trained" ->
          TrainedDenoiseTask.load(resolve(artifactRoot, required(options, "model")));
      case "remove-background-two-class" -> MattingTask.twoClass(models.load("model"));
      case "matting" -> MattingTask.recurrent(models.load("model"));
      case "denoise", "deblur" -> RestoreTask.of(models.load("model"), task);
      // no model: its version has no artifact, and artifactRoot is null
      case "resize" -> new ResizeTask();
      default -> provided(task, artifactRoot, options);
    };
  }

  /** A task a {@link TaskProvider} on the classpath provides. */
  private static ImageTask provided(String task, Path artifactRoot, Map<String, String> options)
      throws IOException {
    for (TaskProvider p : java.util.ServiceLoader.load(TaskProvider.class)) {
      if (p.task().equals(task)) {
        return p.load(artifactRoot, options);
      }
    }
    throw new IllegalArgumentException("unknown task " + task);
  }

  /** Where the build puts the model packages unless told otherwise. */
  public static Path defaultModelCache() {
    String env = System.getenv("RETINA_MODEL_CACHE");
    return env != null && !env.isBlank()
        ? Path.of(env)
        : Path.of(System.getProperty("user.home"), ".cache", "retina", "models");
  }

  private static ImageTask loadUpscale(
      Path root, Map<String, String> options, CanonicalModels canonical) throws IOException {
    Map<Integer, TfModel> byScale = new TreeMap<>();
    List<TfModel> loaded = new ArrayList<>();
    try {
      UpscaleTask.PixelRange range =
          options.containsKey(UpscaleTask.PixelRange.OPTION)
              ? UpscaleTask.PixelRange.parse(options.get(UpscaleTask.PixelRange.OPTION))
              : UpscaleTask.PixelRange.BYTE;
      for (Map.Entry<String, String> e : options.entrySet()) {
        if (!e.getKey().matches("x[1-9][0-9]?")) {
          continue; // other options belong to someone else
        }
        TfModel model = canonical.load(resolve(root, e.getValue()));
        loaded.add(model);
        requireImageToImage(model, e.getKey());
        byScale.put(Integer.parseInt(e.getKey().substring(1)), model);
      }
      if (byScale.isEmpty()) {
        throw new IOException(
            "upscale needs at least one x<scale> model option, got " + options.keySet());
      }
      return new UpscaleTask(byScale, range);
    } catch (IOException | RuntimeException e) {
      loaded.forEach(TfModel::close);
      throw e;
    }
  }

  /**
   * An upscaler takes and gives float NHWC RGB of any batch and size: it runs several tiles at once
   * and tiles vary in size. A model that doesn't (NCHW, a fixed batch, uint8) is refused at load.
   */
  private static void requireImageToImage(TfModel model, String option) throws IOException {
    TensorSpec in = model.signature().input();
    TensorSpec out = model.signature().output();
    long[] i = in.shape();
    long[] o = out.shape();
    boolean fits =
        in.dtype() == DataType.DT_FLOAT
            && out.dtype() == DataType.DT_FLOAT
            && i != null
            && i.length == 4
            && i[0] < 0
            && i[1] < 0
            && i[2] < 0
            && i[3] == 3
            && (o == null || (o.length == 4 && (o[3] == 3 || o[3] < 0)));
    if (!fits) {
      throw new IOException(
          "upscale model "
              + option
              + " must map float [any batch, any height, any width, 3] to float RGB; it takes "
              + in
              + " and gives "
              + out);
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
