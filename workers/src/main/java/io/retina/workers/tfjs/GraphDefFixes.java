package io.retina.workers.tfjs;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Rewrites the ops the TF.js converter emits that the TensorFlow runtime can't import as they are.
 * Stateless and thread-safe.
 */
final class GraphDefFixes {

  private static final Set<String> FUSED_OPS =
      Set.of(
          "_FusedConv2D",
          "_FusedDepthwiseConv2dNative",
          "FusedDepthwiseConv2dNative",
          "_FusedMatMul");

  /** Attributes only the fused form of an op has. */
  private static final Set<String> FUSED_ONLY_ATTRS =
      Set.of("fused_ops", "num_args", "TArgs", "epsilon", "leakyrelu_alpha", "num_host_args");

  private GraphDefFixes() {}

  static GraphDef apply(GraphDef def) {
    GraphDef.Builder out = def.toBuilder().clearNode();
    for (NodeDef node : def.getNodeList()) {
      if (FUSED_OPS.contains(node.getOp())) {
        out.addAllNode(fixFused(node));
      } else if (node.getOp().equals("Prelu")) {
        out.addAllNode(
            prelu(
                node.getName(),
                dataInputs(node).get(0),
                dataInputs(node).get(1),
                type(node),
                node));
      } else {
        out.addNode(node);
      }
    }
    return out.build();
  }

  private static List<NodeDef> fixFused(NodeDef node) {
    List<String> fusedOps = new ArrayList<>();
    if (node.containsAttr("fused_ops")) {
      node.getAttrOrThrow("fused_ops")
          .getList()
          .getSList()
          .forEach(s -> fusedOps.add(s.toStringUtf8()));
    }
    if (fusedOps.contains("Prelu")) {
      return splitFusedPrelu(node, fusedOps);
    }
    NodeDef.Builder b = node.toBuilder();
    if (node.getOp().equals("FusedDepthwiseConv2dNative")) {
      // the converter's name for TensorFlow's internal op, whose kernel has no explicit paddings
      b.setOp("_FusedDepthwiseConv2dNative").removeAttr("explicit_paddings");
    }
    if (node.getOp().equals("_FusedConv2D") && !node.containsAttr("TArgs")) {
      // _FusedConv2D types its arguments one by one (the other fused ops take num_args * T), and
      // the
      // converter writes no TArgs
      long numArgs = node.containsAttr("num_args") ? node.getAttrOrThrow("num_args").getI() : 0;
      AttrValue.ListValue.Builder types = AttrValue.ListValue.newBuilder();
      for (long i = 0; i < numArgs; i++) {
        types.addType(type(node));
      }
      b.putAttr("TArgs", AttrValue.newBuilder().setList(types).build());
    }
    return List.of(b.build());
  }

  /**
   * {@code [BiasAdd, Prelu]} has no fused kernel: emit the base op, a BiasAdd and a PReLU made of
   * plain ops. The last node keeps the fused node's name so that its consumers need no change.
   */
  private static List<NodeDef> splitFusedPrelu(NodeDef node, List<String> fusedOps) {
    if (!fusedOps.equals(List.of("BiasAdd", "Prelu"))) {
      throw new IllegalArgumentException(node.getName() + ": unsupported fused ops " + fusedOps);
    }
    List<String> in = dataInputs(node);
    String name = node.getName();
    String baseOp =
        switch (node.getOp()) {
          case "_FusedConv2D" -> "Conv2D";
          case "_FusedMatMul" -> "MatMul";
          default -> "DepthwiseConv2dNative";
        };
    NodeDef.Builder base =
        node.toBuilder()
            .setName(name + "/base")
            .setOp(baseOp)
            .clearInput()
            .addInput(in.get(0))
            .addInput(in.get(1));
    FUSED_ONLY_ATTRS.forEach(base::removeAttr);
    if (!baseOp.equals("Conv2D")) {
      base.removeAttr("explicit_paddings");
    }
    node.getInputList().stream().filter(s -> s.startsWith("^")).forEach(base::addInput);
    NodeDef bias =
        NodeDef.newBuilder()
            .setName(name + "/bias")
            .setOp("BiasAdd")
            .addInput(name + "/base")
            .addInput(in.get(2))
            .putAttr("T", typeAttr(type(node)))
            .build();
    List<NodeDef> out = new ArrayList<>(List.of(base.build(), bias));
    out.addAll(prelu(name, name + "/bias", in.get(3), type(node), node));
    return out;
  }

  /** prelu(x) = relu(x) + alpha * (x - relu(x)), ending in a node named {@code name}. */
  private static List<NodeDef> prelu(
      String name, String x, String alpha, DataType t, NodeDef original) {
    AttrValue type = typeAttr(t);
    NodeDef pos = node(name + "/prelu_pos", "Relu", type, x);
    NodeDef neg = node(name + "/prelu_neg", "Sub", type, x, pos.getName());
    NodeDef scaled = node(name + "/prelu_scaled", "Mul", type, alpha, neg.getName());
    NodeDef sum = node(name, "AddV2", type, pos.getName(), scaled.getName());
    if (!original.getDevice().isEmpty()) {
      sum = sum.toBuilder().setDevice(original.getDevice()).build();
    }
    return List.of(pos, neg, scaled, sum);
  }

  private static NodeDef node(String name, String op, AttrValue type, String... inputs) {
    return NodeDef.newBuilder()
        .setName(name)
        .setOp(op)
        .addAllInput(List.of(inputs))
        .putAttr("T", type)
        .build();
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
