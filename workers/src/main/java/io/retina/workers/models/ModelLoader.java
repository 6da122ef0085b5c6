package io.retina.workers.models;

import io.retina.platform.cluster.RunnerId;
import io.retina.platform.models.ModelArchive;
import io.retina.platform.models.ModelLoads;
import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.ModelVersion;
import io.retina.workers.tasks.ImageTask;
import io.retina.workers.tasks.ImageTasks;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a version in the registry into a loaded, warmed-up task on this node: its source (a catalog
 * package or an upload) is materialized, each model file is loaded through its canonical
 * SavedModel, and the outcome is recorded in the registry. In TensorFlow Serving's words, the
 * source and the loader; the replica that calls it is the manager. Blocking: call it on the
 * blocking executor.
 */
public final class ModelLoader {
  private static final Logger log = LoggerFactory.getLogger(ModelLoader.class);

  /** A loaded version, or why it could not be loaded ({@code task} null, {@code error} set). */
  public record Loaded(ModelVersion version, ImageTask task, long bytes, String error) {
    public boolean ok() {
      return task != null;
    }
  }

  private final ModelRepository models;
  private final Path modelCache;
  private final String nodeName;

  public ModelLoader(ModelRepository models, Path modelCache, String nodeName) {
    this.models = models;
    this.modelCache = modelCache;
    this.nodeName = nodeName;
  }

  /** Loads the version; never throws for a model that fails, it says why instead. */
  public Loaded load(RunnerId id) {
    ModelVersion v =
        models
            .find(id.model(), id.version())
            .orElseThrow(() -> new IllegalStateException("no model version " + id));
    Map<String, String> options = new HashMap<>(v.artifact());
    options.remove("root");
    options.remove(ModelArchive.STORE_OPTION); // says where the artifact is; not a model file
    CanonicalModels canonical = new CanonicalModels(modelCache);
    Loaded loaded;
    try {
      Path dir = new ArtifactStore(models).materialize(v, modelCache);
      ImageTask t = ImageTasks.load(v.task(), dir, options, canonical);
      long warm = Warmup.run(t);
      log.info("{} warmed up in {} ms", id, warm);
      long bytes =
          Footprint.bytes(canonical.loaded().stream().map(CanonicalModels.Loaded::form).toList());
      loaded = new Loaded(v, t, bytes, null);
    } catch (Exception | OutOfMemoryError e) {
      loaded = new Loaded(v, null, 0, reason(e));
    }
    report(v, loaded, canonical.loaded());
    return loaded;
  }

  /** Tells the registry how this node's load went; a store outage only costs the record. */
  private void report(ModelVersion v, Loaded loaded, List<CanonicalModels.Loaded> forms) {
    try {
      ModelLoads loads = models.loads();
      if (loaded.ok()) {
        Path root = modelCache.toAbsolutePath();
        loads.loaded(
            v.modelName(),
            v.version(),
            nodeName,
            forms.stream()
                .map(
                    f ->
                        new ModelLoads.Form(
                            file(root, f.source()), f.sourceDigest(), f.canonicalDigest()))
                .toList());
      } else {
        loads.failed(v.modelName(), v.version(), nodeName, loaded.error());
      }
    } catch (RuntimeException e) {
      log.warn("could not record the load of {} in the registry: {}", v.ref(), e.toString());
    }
  }

  /** A model file as the admin knows it: relative to its package or upload, not to this node. */
  private static String file(Path cache, Path source) {
    Path p = source.toAbsolutePath().normalize();
    if (!p.startsWith(cache)) {
      return p.getFileName().toString();
    }
    Path relative = cache.relativize(p);
    // <package>/<file>, or uploads/<digest>/<file>: drop the folder that names the artifact
    int skip = relative.getName(0).toString().equals("uploads") ? 2 : 1;
    return relative.getNameCount() > skip
        ? relative.subpath(skip, relative.getNameCount()).toString()
        : relative.toString();
  }

  /** The error and its causes' messages, which say more than the outermost alone. */
  public static String reason(Throwable error) {
    StringBuilder why = new StringBuilder();
    for (Throwable t = error; t != null && why.length() < 2000; t = t.getCause()) {
      String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
      if (why.indexOf(message) < 0) {
        why.append(why.length() == 0 ? "" : ": ").append(message);
      }
    }
    return why.toString();
  }
}
