package io.retina.workers.tfjs;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Rewrites what the TF.js converter emits into public TensorFlow ops that have a kernel on every
 * device Retina runs on. The converter fuses a convolution or matmul with its bias and activation
 * into TensorFlow's internal {@code _Fused*} ops; those are implementation details of the runtime,
 * and their CPU kernels depend on the build: {@code _FusedDepthwiseConv2dNative}'s is a placeholder
 * that only oneDNN's rewrite replaces, so with oneDNN off (most CPUs without AVX-512, and GPU
 * builds) it runs and produces nothing. Each fused node becomes its base op, a {@code BiasAdd} and
 * its activation, the last node keeping the fused node's name so that its consumers need no change.
 * Stateless and thread-safe.
 */
final class GraphDefFixes {

  /** The converter's fused ops and the public op each one fuses a bias and activation onto. */
  private static final Map<String, String> BASE_OPS =
      Map.of(
          "_FusedConv2D", "Conv2D",
          "_FusedDepthwiseConv2dNative", "DepthwiseConv2dNative",
          "FusedDepthwiseConv2dNative", "DepthwiseConv2dNative",
          "_FusedMatMul", "MatMul");

  /** Activations a fused op may end in that are one public op of the same name. */
  private static final Set<String> PLAIN_ACTIVATIONS =
      Set.of("Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh", "LeakyRelu");

  /** Attributes only the fused form of an op has. */
  private static final Set<String> FUSED_ONLY_ATTRS =
      Set.of(
          "fused_ops",
          "num_args",
          "TArgs",
          "epsilon",
          "leakyrelu_alpha",
          "num_host_args",
          "TAlpha");

  private GraphDefFixes() {}

  /**
   * The graph with every fused node split into public ops and every {@code Prelu} built from plain
   * ones.
   *
   * @throws IllegalArgumentException naming the node, for a fusion this rewrite doesn't know
   */
  static GraphDef apply(GraphDef def) {
    GraphDef.Builder out = def.toBuilder().clearNode();
    for (NodeDef node : def.getNodeList()) {
      if (BASE_OPS.containsKey(node.getOp())) {
        out.addAllNode(unfuse(node));
      } else if (node.getOp().equals("Prelu")) {
        List<String> in = dataInputs(node);
        out.addAllNode(prelu(node.getName(), in.get(0), in.get(1), type(node), node));
      } else {
        out.addNode(node);
      }
    }
    return out.build();
  }

  /**
   * {@code base(x, w)}, then {@code BiasAdd} with the third input if fused, then the activation (a
   * {@code Prelu}'s alpha is the fourth input).
   */
  private static List<NodeDef> unfuse(NodeDef node) {
    List<String> fusedOps = new ArrayList<>();
    if (node.containsAttr("fused_ops")) {
      node.getAttrOrThrow("fused_ops")
          .getList()
          .getSList()
          .forEach(s -> fusedOps.add(s.toStringUtf8()));
    }
    List<String> in = dataInputs(node);
    boolean bias = !fusedOps.isEmpty() && fusedOps.get(0).equals("BiasAdd");
    List<String> activations = fusedOps.subList(bias ? 1 : 0, fusedOps.size());
    int argsNeeded = 2 + (bias ? 1 : 0) + (activations.equals(List.of("Prelu")) ? 1 : 0);
    if (activations.size() > 1
        || (activations.size() == 1
            && !activations.get(0).equals("Prelu")
            && !PLAIN_ACTIVATIONS.contains(activations.get(0)))
        || in.size() != argsNeeded) {
      throw new IllegalArgumentException(
          node.getName() + ": unsupported fusion " + node.getOp() + fusedOps);
    }
    String name = node.getName();
    DataType t = type(node);
    boolean activated = !activations.isEmpty();
    List<NodeDef> out = new ArrayList<>();
    // the last node of the chain takes the fused node's name
    String last = bias || activated ? name + "/base" : name;
    NodeDef.Builder base =
        node.toBuilder()
            .setName(last)
            .setOp(BASE_OPS.get(node.getOp()))
            .clearInput()
            .addInput(in.get(0))
            .addInput(in.get(1));
    FUSED_ONLY_ATTRS.forEach(base::removeAttr);
    if (base.getOp().equals("MatMul")) {
      List.of("explicit_paddings", "strides", "padding", "dilations", "data_format")
          .forEach(base::removeAttr);
    } else if (base.getOp().equals("DepthwiseConv2dNative") && !isExplicit(node)) {
      // the converter writes an empty list the depthwise op only takes with EXPLICIT padding
      base.removeAttr("explicit_paddings");
    }
    node.getInputList().stream().filter(s -> s.startsWith("^")).forEach(base::addInput);
    out.add(base.build());
    if (bias) {
      String biasName = activated ? name + "/bias" : name;
      NodeDef.Builder biasAdd = node(biasName, "BiasAdd", typeAttr(t), last, in.get(2));
      if (node.containsAttr("data_format") && !base.getOp().equals("MatMul")) {
        biasAdd.putAttr("data_format", node.getAttrOrThrow("data_format"));
      }
      out.add(biasAdd.build());
      last = biasName;
    }
    if (activated && activations.get(0).equals("Prelu")) {
      out.addAll(prelu(name, last, in.get(argsNeeded - 1), t, node));
    } else if (activated) {
      NodeDef.Builder act = node(name, activations.get(0), typeAttr(t), last);
      if (activations.get(0).equals("LeakyRelu") && node.containsAttr("leakyrelu_alpha")) {
        act.putAttr("alpha", node.getAttrOrThrow("leakyrelu_alpha"));
      }
      out.add(act.build());
    }
    return withDevice(out, node);
  }

  private static boolean isExplicit(NodeDef node) {
    return node.containsAttr("padding")
        && node.getAttrOrThrow("padding").getS().toStringUtf8().equals("EXPLICIT");
  }

  /** prelu(x) = relu(x) + alpha * (x - relu(x)), ending in a node named {@code name}. */
  private static List<NodeDef> prelu(
      String name, String x, String alpha, DataType t, NodeDef original) {
    AttrValue type = typeAttr(t);
    NodeDef pos = node(name + "/prelu_pos", "Relu", type, x).build();
    NodeDef neg = node(name + "/prelu_neg", "Sub", type, x, pos.getName()).build();
    NodeDef scaled = node(name + "/prelu_scaled", "Mul", type, alpha, neg.getName()).build();
    NodeDef sum = node(name, "AddV2", type, pos.getName(), scaled.getName()).build();
    return withDevice(List.of(pos, neg, scaled, sum), original);
  }

  /** The nodes placed where {@code original} asked to be, if it asked. */
  private static List<NodeDef> withDevice(List<NodeDef> nodes, NodeDef original) {
    if (original.getDevice().isEmpty()) {
      return nodes;
    }
    return nodes.stream().map(n -> n.toBuilder().setDevice(original.getDevice()).build()).toList();
  }

  private static NodeDef.Builder node(String name, String op, AttrValue type, String... inputs) {
    return NodeDef.newBuilder()
        .setName(name)
        .setOp(op)
        .addAllInput(List.of(inputs))
        .putAttr("T", type);
  }

  private static List<String> dataInputs(NodeDef node) {
    return node.getInputList().stream().filter(s -> !s.startsWith("^")).toList();
  }

  private static DataType type(NodeDef node) {
    return node.containsAttr("T") ? node.getAttrOrThrow("T").getType() : DataType.DT_FLOAT;
  }

  private static AttrValue typeAttr(DataType t) {
    return AttrValue.newBuilder().setType(t).build();
  }
}
