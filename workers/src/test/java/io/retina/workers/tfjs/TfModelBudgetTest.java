package io.retina.workers.tfjs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.retina.workers.budget.WorkBudget;
import io.retina.workers.budget.WorkStoppedException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/** A model run observes the work budget bound to its thread. */
class TfModelBudgetTest {

  /** Matrix side: one 768x768 product is about 0.9 GFLOP, tens of milliseconds on a CPU core. */
  private static final int SIDE = 768;

  /** Products chained in one run: several seconds (about 10 on a loaded 2-core machine). */
  private static final int PRODUCTS = 300;

  static TfModel slow;

  @BeforeAll
  static void build() {
    AttrValue f32 = AttrValue.newBuilder().setType(DataType.DT_FLOAT).build();
    GraphDef.Builder def =
        GraphDef.newBuilder()
            .addNode(NodeDef.newBuilder().setName("x").setOp("Placeholder").putAttr("dtype", f32));
    String previous = "x";
    for (int i = 0; i < PRODUCTS; i++) {
      String name = i == PRODUCTS - 1 ? "y" : "p" + i;
      def.addNode(
          NodeDef.newBuilder()
              .setName(name)
              .setOp("MatMul")
              .addInput(previous)
              .addInput("x")
              .putAttr("T", f32));
      previous = name;
    }
    Graph graph = new Graph();
    graph.importGraphDef(def.build());
    slow =
        new TfModel(
            graph,
            new ModelSignature(
                List.of(new TensorSpec("x:0", DataType.DT_FLOAT, new long[] {SIDE, SIDE})),
                List.of(new TensorSpec("y:0", DataType.DT_FLOAT, null))));
  }

  @AfterAll
  static void close() {
    slow.close();
  }

  private static FloatTensor input() {
    float[] data = new float[SIDE * SIDE];
    Arrays.fill(data, 1f / SIDE); // every product stays all 1/SIDE: no overflow, whatever the count
    return new FloatTensor(new long[] {SIDE, SIDE}, data);
  }

  @Test
  void aRunLongerThanTheTimeLeftFreesItsCallerAtTheDeadline() {
    WorkBudget budget = WorkBudget.of(Duration.ofMillis(500), () -> true, Duration.ofMillis(250));
    long start = System.nanoTime();

    WorkStoppedException e;
    try (WorkBudget.Binding bound = budget.bind()) {
      e = assertThrows(WorkStoppedException.class, () -> slow.run(input()));
    }

    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertEquals(WorkStoppedException.Reason.DEADLINE_EXCEEDED, e.reason());
    System.out.println("a run with 500 ms left freed its caller after " + took.toMillis() + " ms");
    assertTrue(took.compareTo(Duration.ofSeconds(5)) < 0, "stopped after " + took);
  }

  @Test
  void noRunStartsOnceTheJobIsNoLongerWanted() {
    WorkBudget budget = WorkBudget.of(null, () -> false, Duration.ZERO);

    WorkStoppedException e;
    try (WorkBudget.Binding bound = budget.bind()) {
      e = assertThrows(WorkStoppedException.class, () -> slow.run(input()));
    }

    assertEquals(WorkStoppedException.Reason.CANCELED, e.reason());
  }
}
