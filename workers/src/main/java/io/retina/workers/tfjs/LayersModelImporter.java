package io.retina.workers.tfjs;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;

/**
 * Imports a TF.js layers-model (a Keras Sequential or Functional config plus weight shards) by
 * building the equivalent TensorFlow graph with the Ops API. Stateless and thread-safe.
 */
final class LayersModelImporter {

  private LayersModelImporter() {}

  static TfModel importModel(ModelJson json) throws IOException {
    JsonObject model =
        json.topology().has("model_config")
            ? json.topology().getAsJsonObject("model_config")
            : json.topology();
    JsonArray manifest =
        json.root().has("weightsManifest")
            ? json.root().getAsJsonArray("weightsManifest")
            : new JsonArray();
    KerasLayers layers = new KerasLayers(WeightReader.read(json.dir(), manifest));
    String type = model.get("class_name").getAsString();
    Graph graph = new Graph();
    try {
      Ops tf = Ops.create(graph);
      ModelSignature signature =
          switch (type) {
            case "Sequential" -> sequential(tf, layers, model.get("config"));
            case "Functional", "Model" -> functional(tf, layers, model.getAsJsonObject("config"));
            default -> throw new IOException("unsupported Keras model class " + type);
          };
      return new TfModel(graph, signature);
    } catch (IOException | RuntimeException e) {
      graph.close();
      if (e instanceof IOException io) {
        throw io;
      }
      throw new IOException("can't build the layers model: " + e.getMessage(), e);
    }
  }

  private static ModelSignature sequential(Ops tf, KerasLayers layers, JsonElement config)
      throws IOException {
    // Keras 2.4+ wraps the layer list in an object; older versions wrote the bare list
    JsonArray list =
        config.isJsonArray()
            ? config.getAsJsonArray()
            : config.getAsJsonObject().getAsJsonArray("layers");
    Operand<TFloat32> x = null;
    TensorSpec input = null;
    for (JsonElement e : list) {
      JsonObject layer = e.getAsJsonObject();
      JsonObject c = layer.getAsJsonObject("config");
      String name = c.get("name").getAsString();
      if (x == null) {
        Placeholder<TFloat32> p = placeholder(tf, name, c);
        input = spec(p, c);
        x = p;
        if (layer.get("class_name").getAsString().equals("InputLayer")) {
          continue;
        }
      }
      x =
          layers.apply(
              tf.withSubScope(opName(name)),
              layer.get("class_name").getAsString(),
              name,
              c,
              List.of(x));
    }
    if (x == null) {
      throw new IOException("Sequential model has no layers");
    }
    return new ModelSignature(List.of(input), List.of(output(tf, 0, x)));
  }

  private static ModelSignature functional(Ops tf, KerasLayers layers, JsonObject config)
      throws IOException {
    Map<String, Operand<TFloat32>> tensors = new HashMap<>(); // "layer#node" -> output
    Map<String, TensorSpec> inputSpecs = new HashMap<>();
    LinkedList<JsonObject> pending = new LinkedList<>();
    config.getAsJsonArray("layers").forEach(e -> pending.add(e.getAsJsonObject()));
    while (!pending.isEmpty()) {
      boolean progress = false;
      for (var it = pending.iterator(); it.hasNext(); ) {
        JsonObject layer = it.next();
        if (tryBuild(tf, layers, layer, tensors, inputSpecs)) {
          it.remove();
          progress = true;
        }
      }
      if (!progress) {
        throw new IOException(
            "layers with missing inputs: "
                + pending.stream().map(l -> l.get("name").getAsString()).toList());
      }
    }
    List<TensorSpec> inputs = new ArrayList<>();
    for (JsonElement ref : config.getAsJsonArray("input_layers")) {
      inputs.add(inputSpecs.get(ref.getAsJsonArray().get(0).getAsString()));
    }
    List<TensorSpec> outputs = new ArrayList<>();
    for (JsonElement ref : config.getAsJsonArray("output_layers")) {
      JsonArray r = ref.getAsJsonArray();
      outputs.add(
          output(
              tf, outputs.size(), tensors.get(r.get(0).getAsString() + "#" + r.get(1).getAsInt())));
    }
    return new ModelSignature(inputs, outputs);
  }

  /** Builds every call of a layer whose inputs are all built; false when some are not yet. */
  private static boolean tryBuild(
      Ops tf,
      KerasLayers layers,
      JsonObject layer,
      Map<String, Operand<TFloat32>> tensors,
      Map<String, TensorSpec> inputSpecs)
      throws IOException {
    String type = layer.get("class_name").getAsString();
    JsonObject c = layer.getAsJsonObject("config");
    String name = layer.has("name") ? layer.get("name").getAsString() : c.get("name").getAsString();
    if (type.equals("InputLayer")) {
      Placeholder<TFloat32> p = placeholder(tf, name, c);
      tensors.put(name + "#0", p);
      inputSpecs.put(name, spec(p, c));
      return true;
    }
    List<List<String>> calls = inboundCalls(layer.getAsJsonArray("inbound_nodes"));
    List<List<Operand<TFloat32>>> resolved = new ArrayList<>();
    for (List<String> call : calls) {
      List<Operand<TFloat32>> in = new ArrayList<>();
      for (String ref : call) {
        Operand<TFloat32> t = tensors.get(ref);
        if (t == null) {
          return false;
        }
        in.add(t);
      }
      resolved.add(in);
    }
    for (int k = 0; k < resolved.size(); k++) {
      Ops scope = tf.withSubScope(opName(name) + (k == 0 ? "" : "_call" + k));
      tensors.put(name + "#" + k, layers.apply(scope, type, name, c, resolved.get(k)));
    }
    return true;
  }

  /** The inputs ("layer#node") of each call of a layer, in Keras 2 or Keras 3 notation. */
  private static List<List<String>> inboundCalls(JsonArray inboundNodes) {
    List<List<String>> calls = new ArrayList<>();
    for (JsonElement node : inboundNodes) {
      List<String> refs = new ArrayList<>();
      if (node.isJsonArray()) { // Keras 2: [[layer, node, tensor, kwargs], ...]
        for (JsonElement ref : node.getAsJsonArray()) {
          JsonArray r = ref.getAsJsonArray();
          refs.add(r.get(0).getAsString() + "#" + r.get(1).getAsInt());
        }
      } else { // Keras 3: {"args": [keras tensor or list of them], "kwargs": {}}
        collectKerasHistory(node.getAsJsonObject().get("args"), refs);
      }
      calls.add(refs);
    }
    return calls;
  }

  private static void collectKerasHistory(JsonElement e, List<String> refs) {
    if (e == null || e.isJsonNull() || e.isJsonPrimitive()) {
      return;
    }
    if (e.isJsonArray()) {
      e.getAsJsonArray().forEach(x -> collectKerasHistory(x, refs));
      return;
    }
    JsonObject o = e.getAsJsonObject();
    if (o.has("config") && o.getAsJsonObject("config").has("keras_history")) {
      JsonArray h = o.getAsJsonObject("config").getAsJsonArray("keras_history");
      refs.add(h.get(0).getAsString() + "#" + h.get(1).getAsInt());
    }
  }

  private static Placeholder<TFloat32> placeholder(Ops tf, String name, JsonObject c)
      throws IOException {
    String dtype =
        c.has("dtype") && !c.get("dtype").isJsonNull() ? c.get("dtype").getAsString() : "float32";
    if (!dtype.equals("float32")) {
      throw new IOException(
          "input " + name + " has dtype " + dtype + "; only float32 inputs are supported");
    }
    return tf.withName(opName(name))
        .placeholder(TFloat32.class, Placeholder.shape(Shape.of(batchShape(name, c))));
  }

  private static TensorSpec spec(Placeholder<TFloat32> p, JsonObject c) throws IOException {
    return new TensorSpec(p.op().name() + ":0", DataType.DT_FLOAT, batchShape(p.op().name(), c));
  }

  private static long[] batchShape(String name, JsonObject c) throws IOException {
    JsonElement shape =
        c.has("batch_input_shape") ? c.get("batch_input_shape") : c.get("batch_shape");
    if (shape == null || !shape.isJsonArray()) {
      throw new IOException("input " + name + " declares no batch_input_shape");
    }
    JsonArray dims = shape.getAsJsonArray();
    long[] out = new long[dims.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = dims.get(i).isJsonNull() ? -1 : dims.get(i).getAsLong();
    }
    return out;
  }

  private static TensorSpec output(Ops tf, int index, Operand<TFloat32> x) {
    Operand<TFloat32> named = tf.withName("output_" + index).identity(x);
    long[] shape = x.shape().isUnknown() ? null : x.shape().asArray();
    return new TensorSpec(named.op().name() + ":0", DataType.DT_FLOAT, shape);
  }

  /** A Keras layer name as a valid TensorFlow op name. */
  private static String opName(String layer) {
    String s = layer.replaceAll("[^A-Za-z0-9_.\\-/]", "_");
    return s.isEmpty() || !Character.isLetterOrDigit(s.charAt(0)) && s.charAt(0) != '.'
        ? "l" + s
        : s;
  }
}
