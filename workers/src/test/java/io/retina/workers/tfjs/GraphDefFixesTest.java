package io.retina.workers.tfjs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

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
  void convertersDepthwiseOpIsRenamedToTheRuntimesOne() throws Exception {
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

  private static float[] run(NodeDef op) throws FeedRejectedException {
    GraphDef def =
        GraphDef.newBuilder()
            .addNode(
                NodeDef.newBuilder()
                    .setName("x")
                    .setOp("Placeholder")
                    .putAttr("dtype", type())
                    .build())
            .addNode(constant("filter", new long[] {1, 1, 2, 2}, FILTER))
            .addNode(constant("dwfilter", new long[] {1, 1, 2, 1}, new float[] {1, -1}))
            .addNode(constant("bias", new long[] {2}, BIAS))
            .addNode(constant("alpha", new long[] {2}, ALPHA))
            .addNode(op)
            .build();
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

  private static NodeDef constant(String name, long[] shape, float[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      bytes.putFloat(v);
    }
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (long d : shape) {
      s.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    TensorProto t =
        TensorProto.newBuilder()
            .setDtype(DataType.DT_FLOAT)
            .setTensorShape(s)
            .setTensorContent(ByteString.copyFrom(bytes.flip()))
            .build();
    return NodeDef.newBuilder()
        .setName(name)
        .setOp("Const")
        .putAttr("dtype", type())
        .putAttr("value", AttrValue.newBuilder().setTensor(t).build())
        .build();
  }
}
