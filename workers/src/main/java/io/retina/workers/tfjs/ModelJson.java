package io.retina.workers.tfjs;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The parsed {@code model.json} of a TF.js model, graph or layers. Immutable after parsing; read
 * only by the importer that parsed it.
 */
record ModelJson(Path dir, String format, JsonObject topology, JsonObject root) {

  static ModelJson read(Path file) throws IOException {
    JsonObject root;
    try {
      root =
          JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
    } catch (JsonParseException | IllegalStateException e) {
      throw new IOException(file + " is not a TF.js model.json", e);
    }
    if (!root.has("modelTopology") || !root.get("modelTopology").isJsonObject()) {
      throw new IOException(file + " has no modelTopology");
    }
    JsonObject topology = root.getAsJsonObject("modelTopology");
    String format;
    if (root.has("format")) {
      format = root.get("format").getAsString();
    } else {
      // older converters wrote no format: a GraphDef has nodes, a Keras topology a config
      format = topology.has("node") ? "graph-model" : "layers-model";
    }
    Path dir = file.toAbsolutePath().getParent();
    return new ModelJson(dir, format, topology, root);
  }

  boolean isGraphModel() {
    return format.equals("graph-model");
  }
}
