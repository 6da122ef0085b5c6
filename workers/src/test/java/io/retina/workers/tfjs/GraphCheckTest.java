package io.retina.workers.tfjs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.FunctionDefLibrary;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.types.TFloat32;

/** Only math that runs on this machine's device reaches TensorFlow. */
class GraphCheckTest {

  @Test
  void plainMathPasses() throws Exception {
    GraphCheck.check(graph(node("y", "Sigmoid", DataType.DT_FLOAT, "x")), "cpu");
  }

  @Test
  void aFileReadingOpIsRefusedByName() {
    ModelRefusedException e =
        assertThrows(
            ModelRefusedException.class,
            () -> GraphCheck.check(graph(node("leak", "ReadFile", null, "x")), "cpu"));
    assertEquals("ReadFile", e.op());
    assertTrue(e.getMessage().contains("node leak"), e.getMessage());
  }

  @Test
  void anOpInsideAFunctionIsCheckedToo() {
    FunctionDef f =
        FunctionDef.newBuilder()
            .setSignature(OpDef.newBuilder().setName("innocent"))
            .addNodeDef(node("write", "WriteFile", null, "x"))
            .build();
    GraphDef def =
        graph(node("call", "innocent", null, "x")).toBuilder()
            .setLibrary(FunctionDefLibrary.newBuilder().addFunction(f))
            .build();
    ModelRefusedException e =
        assertThrows(ModelRefusedException.class, () -> GraphCheck.check(def, "cpu"));
    assertEquals("WriteFile", e.op());
    assertTrue(e.getMessage().contains("in function innocent"), e.getMessage());
  }

  @Test
  void tensorFlowsInternalFusedOpsAreRefusedOnEveryDevice() {
    for (String device : new String[] {"cpu", "gpu"}) {
      ModelRefusedException e =
          assertThrows(
              ModelRefusedException.class,
              () ->
                  GraphCheck.check(
                      graph(node("dw", "_FusedDepthwiseConv2dNative", DataType.DT_FLOAT, "x")),
                      device));
      assertTrue(e.getMessage().contains("internal"), e.getMessage());
    }
  }

  @Test
  void anOpWithNoKernelForItsTypesIsRefused() {
    // Sigmoid has CPU kernels for floating types only
    ModelRefusedException e =
        assertThrows(
            ModelRefusedException.class,
            () -> GraphCheck.check(graph(node("y", "Sigmoid", DataType.DT_INT32, "x")), "cpu"));
    assertTrue(e.getMessage().contains("no CPU kernel"), e.getMessage());
  }

  @Test
  void aSavedModelThatReadsFilesNeverLoads(@TempDir Path dir) throws Exception {
    Path secret = Files.writeString(dir.resolve("secret.txt"), "admin token");
    Path model = dir.resolve("model");
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class);
      var contents = tf.io.readFile(tf.constant(secret.toString()));
      Signature sig =
          Signature.builder(SavedModels.SIGNATURE).input("x", x).output("leak", contents).build();
      try (Session s = new Session(g)) {
        SavedModelBundle.exporter(model.toString())
            .withTags(SavedModels.SERVE)
            .withFunction(SessionFunction.create(sig, s))
            .export();
      }
    }
    ModelRefusedException e =
        assertThrows(ModelRefusedException.class, () -> SavedModels.load(model));
    assertEquals("ReadFile", e.op());
  }

  private static GraphDef graph(NodeDef op) {
    return GraphDef.newBuilder()
        .addNode(
            NodeDef.newBuilder()
                .setName("x")
                .setOp("Placeholder")
                .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build()))
        .addNode(op)
        .build();
  }

  private static NodeDef node(String name, String op, DataType t, String input) {
    NodeDef.Builder b = NodeDef.newBuilder().setName(name).setOp(op).addInput(input);
    if (t != null) {
      b.putAttr("T", AttrValue.newBuilder().setType(t).build());
    }
    return b.build();
  }
}
