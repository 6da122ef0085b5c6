package io.retina.workers.tfjs;

import com.google.gson.JsonElement;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads a TF.js model (graph-model or layers-model) from its {@code model.json} into a runnable
 * {@link TfModel}. Stateless and thread-safe; each call builds an independent graph and session.
 */
public final class TfjsModels {

  private TfjsModels() {}

  /**
   * The files a model consists of: its {@code model.json} first, then the weight shards its
   * manifest names, in the manifest's order.
   */
  public static List<Path> files(Path modelJson) throws IOException {
    ModelJson json = ModelJson.read(modelJson);
    List<Path> files = new ArrayList<>();
    files.add(modelJson);
    try {
      if (json.root().has("weightsManifest")) {
        for (JsonElement group : json.root().getAsJsonArray("weightsManifest")) {
          for (JsonElement shard : group.getAsJsonObject().getAsJsonArray("paths")) {
            Path file = json.dir().resolve(shard.getAsString()).normalize();
            if (!file.startsWith(json.dir())) {
              throw new IOException(modelJson + " names a weight file outside its folder");
            }
            files.add(file);
          }
        }
      }
    } catch (RuntimeException e) {
      throw new IOException(modelJson + " has a malformed weightsManifest: " + e, e);
    }
    return files;
  }

  /** Imports the model; fails if the files can't be read or TensorFlow can't import the graph. */
  public static TfModel load(Path modelJson) throws IOException {
    ModelJson json = ModelJson.read(modelJson);
    try {
      return json.isGraphModel()
          ? GraphModelImporter.importModel(json)
          : LayersModelImporter.importModel(json);
    } catch (RuntimeException e) {
      // a malformed JSON structure surfaces as Gson's ClassCast/IllegalState/NullPointer
      throw new IOException(modelJson + " is not an importable TF.js model: " + e, e);
    }
  }
}
