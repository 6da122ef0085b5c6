package io.retina.platform.models;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built-in catalog of {@code retina.models.builtin}: model versions whose weights the build
 * fetched into the model cache, and tasks that need no model file. Registers each at start with the
 * digest its package was verified against, or, without a package, the digest its entry gives.
 */
public final class BuiltinCatalog {
  private static final Logger log = LoggerFactory.getLogger(BuiltinCatalog.class);

  /** A catalog entry and the description of its model. */
  public record Entry(ModelVersion version, String description) {}

  private BuiltinCatalog() {}

  /** Reads the catalog; an entry whose package is not in the cache is skipped with a warning. */
  public static List<Entry> read(Config config, Path modelCache) {
    List<Entry> entries = new ArrayList<>();
    for (Config m : config.getConfigList("retina.models.builtin")) {
      Map<String, String> artifact = new LinkedHashMap<>();
      if (m.hasPath("artifact")) {
        m.getConfig("artifact")
            .entrySet()
            .forEach(e -> artifact.put(e.getKey(), e.getValue().unwrapped().toString()));
      }
      String digest = digest(m, artifact, modelCache);
      if (digest == null) {
        continue;
      }
      List<ParameterSpec> parameters = new ArrayList<>();
      for (Config p : m.getConfigList("parameters")) {
        parameters.add(
            new ParameterSpec(
                p.getString("name"),
                p.getString("description"),
                p.hasPath("allowed") ? p.getStringList("allowed") : List.of(),
                p.getString("default"),
                p.hasPath("min") ? p.getInt("min") : null,
                p.hasPath("max") ? p.getInt("max") : null));
      }
      ModelVersion version =
          new ModelVersion(
              m.getString("name"),
              m.getInt("version"),
              m.getString("task"),
              m.getString("format"),
              m.getString("source"),
              digest,
              artifact,
              parameters,
              m.getBoolean("batch-safe"),
              m.hasPath("max-batch-size") ? m.getInt("max-batch-size") : 1,
              m.hasPath("max-batch-delay") ? (int) m.getDuration("max-batch-delay").toMillis() : 0,
              m.getLong("price-per-image-micros"),
              m.getLong("price-per-megapixel-micros"),
              m.hasPath("status")
                  ? ModelVersion.Status.valueOf(m.getString("status").toUpperCase())
                  : ModelVersion.Status.ACTIVE);
      entries.add(new Entry(version, m.getString("description")));
    }
    return entries;
  }

  /**
   * The digest an entry's version is registered with: for a package, the one it was verified
   * against; for a task that needs no model file (no {@code root}), the entry's own {@code digest},
   * which names the revision of the code that does the work. Null, with a warning, when the package
   * is not in the cache.
   */
  private static String digest(Config m, Map<String, String> artifact, Path modelCache) {
    if (artifact.get("root") == null) {
      return m.getString("digest");
    }
    Path root = modelCache.resolve(artifact.get("root"));
    try {
      return Files.readString(root.resolve(".verified"), StandardCharsets.US_ASCII).trim();
    } catch (IOException e) {
      log.warn(
          "model {} skipped: its package is not in {} (run the build, which fetches it)",
          m.getString("name"),
          modelCache);
      return null;
    }
  }

  /** Registers every readable entry; versions already registered are left as they are. */
  public static List<Entry> register(Config config, Path modelCache, ModelRepository models) {
    List<Entry> entries = read(config, modelCache);
    for (Entry e : entries) {
      models.register(e.version(), e.description());
    }
    return entries;
  }
}
