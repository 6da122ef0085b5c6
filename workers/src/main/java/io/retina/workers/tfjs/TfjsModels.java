package io.retina.workers.tfjs;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Loads a TF.js model (graph-model or layers-model) from its {@code model.json} into a runnable
 * {@link TfModel}. Stateless and thread-safe; each call builds an independent graph and session.
 */
public final class TfjsModels {

  private TfjsModels() {}

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
