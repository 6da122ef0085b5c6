package io.retina.workers.training;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * Every float variable of a training graph (the model's and the optimizer's slots and counters),
 * read as a map from op name to values and written back from one, so that a training can stop after
 * an epoch and go on exactly. Made once the graph is complete and before its session starts, since
 * it adds a feed and an assignment per variable. Not thread-safe.
 */
final class GraphVariables {

  /**
   * The variable op TensorFlow Java's {@code Ops.variable} makes, and the optimizers' slots too.
   */
  private static final String VARIABLE_OP = "VariableV2";

  private record Restorable(Output<TFloat32> value, Placeholder<TFloat32> feed, Op assign) {}

  /** By op name, sorted, so that a state lists its variables in one order whatever the graph's. */
  private final Map<String, Restorable> variables = new TreeMap<>();

  /** Finds the variables of {@code graph}, through whose {@code tf} it adds their restores. */
  GraphVariables(Graph graph, Ops tf) {
    List<GraphOperation> found = new ArrayList<>();
    for (Iterator<GraphOperation> it = graph.operations(); it.hasNext(); ) {
      GraphOperation op = it.next();
      if (op.type().equals(VARIABLE_OP)) {
        found.add(op);
      }
    }
    Ops restore = tf.withSubScope("restore");
    for (GraphOperation op : found) {
      Output<TFloat32> value = ((Output<?>) op.output(0)).expect(TFloat32.class);
      Placeholder<TFloat32> feed =
          restore
              .withName("v" + variables.size())
              .placeholder(TFloat32.class, Placeholder.shape(value.shape()));
      variables.put(op.name(), new Restorable(value, feed, tf.assign(value, feed)));
    }
  }

  /** Every variable's value by name, as they stand in {@code session}. */
  Map<String, float[]> read(Session session) {
    Session.Runner runner = session.runner();
    variables.values().forEach(v -> runner.fetch(v.value()));
    Map<String, float[]> state = new LinkedHashMap<>();
    try (Result r = runner.run()) {
      int i = 0;
      for (String name : variables.keySet()) {
        state.put(name, floats((TFloat32) r.get(i++)));
      }
    }
    return state;
  }

  /**
   * Sets every variable in {@code session} to the values {@link #read} gave, from a graph built
   * alike.
   *
   * @throws IllegalArgumentException if the state is not of such a graph
   */
  void write(Session session, Map<String, float[]> state) {
    if (!state.keySet().equals(variables.keySet())) {
      throw new IllegalArgumentException(
          "the checkpoint holds variables " + state.keySet() + ", not " + variables.keySet());
    }
    List<TFloat32> feeds = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      for (Map.Entry<String, Restorable> e : variables.entrySet()) {
        Shape shape = e.getValue().value().shape();
        float[] values = state.get(e.getKey());
        if (values.length != shape.size()) {
          throw new IllegalArgumentException(e.getKey() + " holds " + values.length + " values");
        }
        TFloat32 t = TFloat32.tensorOf(shape, DataBuffers.of(values, true, false));
        feeds.add(t);
        runner.feed(e.getValue().feed(), t).addTarget(e.getValue().assign());
      }
      runner.run().close();
    } finally {
      feeds.forEach(TFloat32::close);
    }
  }

  static float[] floats(TFloat32 t) {
    float[] out = new float[Math.toIntExact(t.size())];
    t.copyTo(DataBuffers.of(out, false, false));
    return out;
  }
}
