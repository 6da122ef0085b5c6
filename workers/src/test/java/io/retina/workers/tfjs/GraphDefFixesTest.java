package io.retina.workers.tfjs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/** The converter's fused ops, rewritten, import and compute what their plain definitions say. */
class GraphDefFixesTest {

  // input [1,1,2,2]: two pixels, two channels
  private static final float[] X = {1, -2, -3, 4};
  // 1x1 conv filter [1,1,2,2]: out0 = in0 + 2*in1, out1 = -in0 + in1
  private static final float[] FILTER = {1, -1, 2, 1};
  private static final float[] BIAS = {0.5f, -0.5f};
  private static final float[] ALPHA = {0.1f, 0.2f};

  @Test
  void fusedConvWithBiasAndPreluIsSplitIntoPlainOps() throws Exception {
    NodeDef conv =
        fused("y", "_FusedConv2D", List.of("BiasAdd", "Prelu"), "x", "filter", "bias", "alpha")
            .putAttr(
                "explicit_paddings",
                AttrValue.newBuilder().setList(AttrValue.ListValue.getDefaultInstance()).build())
            .build();
    // conv: [-3, -3], [5, 7]; + bias: [-2.5, -3.5], [5.5, 6.5]; prelu: negatives * alpha
    assertArrayEquals(new float[] {-0.25f, -0.7f, 5.5f, 6.5f}, run(conv), 1e-6f);
  }

  @Test
  void fusedConvWithBiasAndReluGetsItsArgumentTypes() throws Exception {
    NodeDef conv =
        fused("y", "_FusedConv2D", List.of("BiasAdd", "Relu"), "x", "filter", "bias").build();
    assertArrayEquals(new float[] {0f, 0f, 5.5f, 6.5f}, run(conv), 1e-6f);
  }

  @Test
  void fusedDepthwiseConvIsSplitIntoPublicOps() throws Exception {
    // the depthwise filter [1,1,2,1] reads FILTER's first two values: channel 0 * 1, channel 1 * -1
    NodeDef dw =
        fused("y", "FusedDepthwiseConv2dNative", List.of("BiasAdd"), "x", "dwfilter", "bias")
            .putAttr(
                "explicit_paddings",
                AttrValue.newBuilder().setList(AttrValue.ListValue.getDefaultInstance()).build())
            .build();
    assertArrayEquals(new float[] {1.5f, 1.5f, -2.5f, -4.5f}, run(dw), 1e-6f);
  }

  @Test
  void fusedDepthwiseConvWithBiasAndRelu6ClampsBothWays() throws Exception {
    // depthwise: [1, 2], [-3, -4]; + bias: [1.5, 1.5], [-2.5, -4.5]; relu6: [1.5, 1.5], [0, 0]
    NodeDef dw =
        fused(
                "y",
                "FusedDepthwiseConv2dNative",
                List.of("BiasAdd", "Relu6"),
                "x",
                "dwfilter",
                "bias")
            .build();
    assertArrayEquals(new float[] {1.5f, 1.5f, 0f, 0f}, run(dw), 1e-6f);
  }

  @Test
  void fusedConvWithLeakyReluKeepsItsAlpha() throws Exception {
    NodeDef conv =
        fused("y", "_FusedConv2D", List.of("BiasAdd", "LeakyRelu"), "x", "filter", "bias")
            .putAttr("leakyrelu_alpha", AttrValue.newBuilder().setF(0.5f).build())
            .build();
    assertArrayEquals(new float[] {-1.25f, -1.75f, 5.5f, 6.5f}, run(conv), 1e-6f);
  }

  @Test
  void fusedMatMulWithBiasIsAPlainMatMulAndBiasAdd() throws Exception {
    // x as a [2,2] matrix times FILTER as a [2,2] matrix, plus the bias
    NodeDef matmul =
        NodeDef.newBuilder()
            .setName("y")
            .setOp("_FusedMatMul")
            .addAllInput(List.of("x2d", "filter2d", "bias"))
            .putAttr("T", type())
            .putAttr("num_args", AttrValue.newBuilder().setI(1).build())
            .putAttr("transpose_a", AttrValue.newBuilder().setB(false).build())
            .putAttr("transpose_b", AttrValue.newBuilder().setB(false).build())
            .putAttr("fused_ops", strings("BiasAdd"))
            .build();
    assertArrayEquals(new float[] {-2.5f, -3.5f, 5.5f, 6.5f}, run(matmul), 1e-6f);
  }

  @Test
  void noInternalOpSurvivesTheRewrite() {
    GraphDef def =
        graph(
            fused("a", "_FusedConv2D", List.of("BiasAdd", "Relu"), "x", "filter", "bias").build(),
            fused("b", "FusedDepthwiseConv2dNative", List.of("BiasAdd"), "a", "dwfilter", "bias")
                .build(),
            fused(
                    "c",
                    "_FusedDepthwiseConv2dNative",
                    List.of("BiasAdd", "Prelu"),
                    "b",
                    "dwfilter",
                    "bias",
                    "alpha")
                .build());
    List<String> internal =
        GraphDefFixes.apply(def).getNodeList().stream()
            .map(NodeDef::getOp)
            .filter(op -> op.startsWith("_") || op.startsWith("Fused"))
            .toList();
    assertEquals(List.of(), internal);
  }

  @Test
  void anUnknownFusionIsRefusedByName() {
    GraphDef def =
        graph(fused("y", "_FusedConv2D", List.of("FusedBatchNorm"), "x", "filter", "bias").build());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> GraphDefFixes.apply(def));
    assertTrue(e.getMessage().startsWith("y:"), e.getMessage());
  }

  @Test
  void standalonePreluIsBuiltFromPlainOps() throws Exception {
    NodeDef prelu =
        NodeDef.newBuilder()
            .setName("y")
            .setOp("Prelu")
            .addInput("x")
            .addInput("alpha")
            .putAttr("T", type())
            .build();
    assertArrayEquals(new float[] {1f, -0.4f, -0.3f, 4f}, run(prelu), 1e-6f);
  }

  /** The test's inputs and constants, then {@code ops}. */
  private static GraphDef graph(NodeDef... ops) {
    return GraphDef.newBuilder()
        .addNode(
            NodeDef.newBuilder().setName("x").setOp("Placeholder").putAttr("dtype", type()).build())
        .addNode(constant("filter", new long[] {1, 1, 2, 2}, FILTER))
        .addNode(constant("filter2d", new long[] {2, 2}, FILTER))
        .addNode(constant("shape2d", new long[] {2}, new float[] {2, 2}, DataType.DT_INT32))
        .addNode(
            NodeDef.newBuilder()
                .setName("x2d")
                .setOp("Reshape")
                .addInput("x")
                .addInput("shape2d")
                .putAttr("T", type())
                .putAttr("Tshape", AttrValue.newBuilder().setType(DataType.DT_INT32).build())
                .build())
        .addNode(constant("dwfilter", new long[] {1, 1, 2, 1}, new float[] {1, -1}))
        .addNode(constant("bias", new long[] {2}, BIAS))
        .addNode(constant("alpha", new long[] {2}, ALPHA))
        .addAllNode(List.of(ops))
        .build();
  }

  private static float[] run(NodeDef op) throws FeedRejectedException {
    GraphDef def = graph(op);
    Graph graph = new Graph();
    graph.importGraphDef(GraphDefFixes.apply(def));
    ModelSignature sig =
        new ModelSignature(
            List.of(new TensorSpec("x:0", DataType.DT_FLOAT, new long[] {1, 1, 2, 2})),
            List.of(new TensorSpec("y:0", DataType.DT_FLOAT, null)));
    try (TfModel model = new TfModel(graph, sig)) {
      return model.run(new FloatTensor(new long[] {1, 1, 2, 2}, X)).data();
    }
  }

  private static NodeDef.Builder fused(
      String name, String op, List<String> fusedOps, String... inputs) {
    AttrValue.ListValue.Builder ops = AttrValue.ListValue.newBuilder();
    fusedOps.forEach(s -> ops.addS(ByteString.copyFromUtf8(s)));
    return NodeDef.newBuilder()
        .setName(name)
        .setOp(op)
        .addAllInput(List.of(inputs))
        .putAttr("T", type())
        .putAttr("num_args", AttrValue.newBuilder().setI(inputs.length - 2).build())
        .putAttr("strides", ints(1, 1, 1, 1))
        .putAttr("dilations", ints(1, 1, 1, 1))
        .putAttr("padding", AttrValue.newBuilder().setS(ByteString.copyFromUtf8("SAME")).build())
        .putAttr(
            "data_format", AttrValue.newBuilder().setS(ByteString.copyFromUtf8("NHWC")).build())
        .putAttr("fused_ops", AttrValue.newBuilder().setList(ops).build());
  }

  private static AttrValue ints(long... values) {
    AttrValue.ListValue.Builder list = AttrValue.ListValue.newBuilder();
    for (long v : values) {
      list.addI(v);
    }
    return AttrValue.newBuilder().setList(list).build();
  }

  private static AttrValue type() {
    return AttrValue.newBuilder().setType(DataType.DT_FLOAT).build();
  }

  private static AttrValue strings(String... values) {
    AttrValue.ListValue.Builder list = AttrValue.ListValue.newBuilder();
    for (String v : values) {
      list.addS(ByteString.copyFromUtf8(v));
    }
    return AttrValue.newBuilder().setList(list).build();
  }

  private static NodeDef constant(String name, long[] shape, float[] values) {
    return constant(name, shape, values, DataType.DT_FLOAT);
  }

  private static NodeDef constant(String name, long[] shape, float[] values, DataType dtype) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      if (dtype == DataType.DT_INT32) {
        bytes.putInt((int) v);
      } else {
        bytes.putFloat(v);
      }
    }
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (long d : shape) {
      s.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    TensorProto t =
        TensorProto.newBuilder()
            .setDtype(dtype)
            .setTensorShape(s)
            .setTensorContent(ByteString.copyFrom(bytes.flip()))
            .build();
    return NodeDef.newBuilder()
        .setName(name)
        .setOp("Const")
        .putAttr("dtype", AttrValue.newBuilder().setType(dtype).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(t).build())
        .build();
  }
}
