package io.retina.workers.tasks;

import com.typesafe.config.ConfigFactory;
import io.retina.platform.models.BuiltinCatalog;
import io.retina.platform.models.ModelVersion;
import io.retina.workers.tfjs.ModelCacheFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The built-in catalog's files, as the server ships them, read from the source tree. */
final class CatalogFixtures {

  private CatalogFixtures() {}

  /** The versions of {@code model} that {@code file} (e.g. "models.conf") declares. */
  static List<ModelVersion> versions(String file, String model) {
    return BuiltinCatalog.read(
            ConfigFactory.parseFile(file(file).toFile()).resolve(), ModelCacheFixtures.cache())
        .stream()
        .map(BuiltinCatalog.Entry::version)
        .filter(v -> v.modelName().equals(model))
        .toList();
  }

  /** {@code server/src/main/resources/<name>}, found from the working directory up. */
  static Path file(String name) {
    Path rel = Path.of("server", "src", "main", "resources", name);
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve(rel))) {
        return dir.resolve(rel);
      }
    }
    throw new IllegalStateException(rel + " not found above " + Path.of("").toAbsolutePath());
  }
}
