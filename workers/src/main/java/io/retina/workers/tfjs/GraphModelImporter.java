package io.retina.workers.tfjs;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.retina.workers.devices.Devices;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Imports a TF.js graph-model (a GraphDef in JSON plus weight shards) into a TensorFlow graph.
 * Stateless and thread-safe.
 */
final class GraphModelImporter {

  private GraphModelImporter() {}

  static TfModel importModel(ModelJson json) throws IOException {
    GraphDef.Builder def = GraphDef.newBuilder();
    try {
      JsonFormat.parser().ignoringUnknownFields().merge(json.topology().toString(), def);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("modelTopology is not a GraphDef: " + e.getMessage(), e);
    }
    JsonArray manifest =
        json.root().has("weightsManifest")
            ? json.root().getAsJsonArray("weightsManifest")
            : new JsonArray();
    Map<String, Weight> weights = WeightReader.read(json.dir(), manifest);
    fillConstants(def, weights);
    GraphDef fixed;
    try {
      fixed = GraphDefFixes.apply(def.build());
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
    GraphCheck.check(fixed, Devices.current().kind());
    ModelSignature signature = signature(json.root(), fixed);
    Graph graph = new Graph();
    try {
      graph.importGraphDef(fixed);
      for (TensorSpec spec : signature.inputs()) {
        graph.outputOrThrow(spec.name());
      }
      for (TensorSpec spec : signature.outputs()) {
        graph.outputOrThrow(spec.name());
      }
      return new TfModel(graph, signature);
    } catch (RuntimeException e) {
      graph.close();
      throw new IOException("TensorFlow can't import the graph: " + e.getMessage(), e);
    }
  }

  /** Gives every Const node the value the manifest holds for it. */
  private static void fillConstants(GraphDef.Builder def, Map<String, Weight> weights)
      throws IOException {
    for (NodeDef.Builder node : def.getNodeBuilderList()) {
      Weight w = weights.get(node.getName());
      if (!node.getOp().equals("Const") || w == null) {
        continue;
      }
      DataType dtype = node.getAttrOrThrow("dtype").getType();
      TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
      for (long d : w.shape()) {
        shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
      }
      TensorProto tensor =
          TensorProto.newBuilder()
              .setDtype(dtype)
              .setTensorShape(shape)
              .setTensorContent(ByteString.copyFrom(content(node.getName(), dtype, w)))
              .build();
      node.putAttr("value", AttrValue.newBuilder().setTensor(tensor).build());
    }
  }

  /** The little-endian bytes of a weight in the dtype its node declares. */
  private static ByteBuffer content(String name, DataType dtype, Weight w) throws IOException {
    int n = Math.toIntExact(w.elements());
    ByteBuffer out;
    switch (dtype) {
      case DT_FLOAT -> {
        out = allocate(n * 4);
        for (int i = 0; i < n; i++) {
          out.putFloat(w.isFloat() ? w.floats()[i] : w.ints()[i]);
        }
      }
      case DT_INT32 -> {
        out = allocate(n * 4);
        for (int i = 0; i < n; i++) {
          out.putInt(w.isFloat() ? Math.round(w.floats()[i]) : w.ints()[i]);
        }
      }
      case DT_INT64 -> {
        // TF.js has no int64: the converter stores these as int32, and the runtime reads past the
        // end of a too-short buffer (and crashes), so widen each value
        out = allocate(n * 8);
        for (int i = 0; i < n; i++) {
          out.putLong(w.isFloat() ? Math.round(w.floats()[i]) : w.ints()[i]);
        }
      }
      case DT_BOOL -> {
        out = allocate(n);
        for (int i = 0; i < n; i++) {
          out.put((byte) (w.isFloat() ? (w.floats()[i] != 0 ? 1 : 0) : w.ints()[i]));
        }
      }
      default -> throw new IOException("constant " + name + " has unsupported dtype " + dtype);
    }
    return out.flip();
  }

  private static ByteBuffer allocate(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * The declared signature, or else the placeholders as inputs and the unconsumed nodes as outputs.
   */
  private static ModelSignature signature(JsonObject root, GraphDef def) throws IOException {
    JsonObject declared = root.has("signature") ? root.getAsJsonObject("signature") : null;
    if (declared != null && declared.has("inputs") && declared.has("outputs")) {
      return new ModelSignature(
          specs(declared.getAsJsonObject("inputs")), specs(declared.getAsJsonObject("outputs")));
    }
    Set<String> consumed = new HashSet<>();
    for (NodeDef node : def.getNodeList()) {
      for (String in : node.getInputList()) {
        consumed.add(in.replaceFirst("^\\^", "").replaceFirst(":\\d+$", ""));
      }
    }
    List<TensorSpec> inputs = new ArrayList<>();
    List<TensorSpec> outputs = new ArrayList<>();
    for (NodeDef node : def.getNodeList()) {
      if (node.getOp().equals("Placeholder")) {
        long[] shape = null;
        if (node.containsAttr("shape")
            && !node.getAttrOrThrow("shape").getShape().getUnknownRank()) {
          shape =
              node.getAttrOrThrow("shape").getShape().getDimList().stream()
                  .mapToLong(d -> d.getSize())
                  .toArray();
        }
        inputs.add(
            new TensorSpec(node.getName() + ":0", node.getAttrOrThrow("dtype").getType(), shape));
      } else if (!consumed.contains(node.getName())
          && !node.getOp().equals("Const")
          && !node.getOp().equals("NoOp")) {
        DataType t =
            node.containsAttr("T") ? node.getAttrOrThrow("T").getType() : DataType.DT_FLOAT;
        outputs.add(new TensorSpec(node.getName() + ":0", t, null));
      }
    }
    if (inputs.isEmpty() || outputs.isEmpty()) {
      throw new IOException(
          "graph has no signature and no placeholder or output to infer one from");
    }
    return new ModelSignature(inputs, outputs);
  }

  private static List<TensorSpec> specs(JsonObject tensors) throws IOException {
    List<TensorSpec> specs = new ArrayList<>();
    for (Map.Entry<String, JsonElement> e : tensors.entrySet()) {
      JsonObject info = e.getValue().getAsJsonObject();
      String name = info.has("name") ? info.get("name").getAsString() : e.getKey();
      DataType dtype;
      try {
        dtype = DataType.valueOf(info.get("dtype").getAsString());
      } catch (IllegalArgumentException | NullPointerException ex) {
        throw new IOException("signature tensor " + name + " has no known dtype", ex);
      }
      long[] shape = null;
      JsonObject shapeJson = info.has("tensorShape") ? info.getAsJsonObject("tensorShape") : null;
      if (shapeJson != null
          && !(shapeJson.has("unknownRank") && shapeJson.get("unknownRank").getAsBoolean())) {
        JsonArray dims = shapeJson.has("dim") ? shapeJson.getAsJsonArray("dim") : new JsonArray();
        shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
          JsonObject dim = dims.get(i).getAsJsonObject();
          shape[i] = dim.has("size") ? dim.get("size").getAsLong() : -1;
        }
      }
      specs.add(new TensorSpec(name.contains(":") ? name : name + ":0", dtype, shape));
    }
    return specs;
  }
}
