package io.retina.workers.training;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.framework.optimizers.Optimizer;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.train.ApplyAdam;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.family.TType;

/**
 * Adam (Kingma and Ba) on TensorFlow's own {@code ApplyAdam} kernel, through the framework's {@link
 * Optimizer}, as TensorFlow Java's {@link org.tensorflow.framework.optimizers.Adam} builds it with
 * one difference: the step's decay counters ({@code beta1_power}, {@code beta2_power}) advance only
 * after every variable's update has read them. The framework's Adam 1.1.0 puts no order between the
 * two, so each step raced them: measured here, two heads restored to one state and given one batch
 * took different steps in 16 runs of 20, and two steps from zero left five different weights. In
 * order, a step is a function of the state and the batch, which is what lets a checkpoint resume
 * exactly. Built once per graph; not thread-safe while building.
 */
final class OrderedAdam extends Optimizer {

  /** The decay rates and epsilon of the Adam paper, and of every TensorFlow Adam's defaults. */
  private static final float BETA_ONE = 0.9f;

  private static final float BETA_TWO = 0.999f;
  private static final float EPSILON = 1e-8f;

  private static final String FIRST_MOMENT = "m";
  private static final String SECOND_MOMENT = "v";

  private final float learningRate;
  private Variable<TFloat32> betaOnePower;
  private Variable<TFloat32> betaTwoPower;

  OrderedAdam(Graph graph, float learningRate) {
    super(graph, "Adam");
    this.learningRate = learningRate;
  }

  @Override
  protected void createSlots(List<Output<? extends TType>> variables) {
    for (Output<? extends TType> v : variables) {
      createZeroSlots(v);
    }
    Ops init = tf.withInitScope();
    betaOnePower = init.withName("beta1_power").variable(init.constant(BETA_ONE));
    betaTwoPower = init.withName("beta2_power").variable(init.constant(BETA_TWO));
  }

  private <T extends TType> void createZeroSlots(Output<T> variable) {
    Ops init = tf.withInitScope();
    Operand<T> zeros =
        init.fill(
            init.constant(variable.shape()), init.dtypes.cast(init.constant(0f), variable.type()));
    createSlot(variable, FIRST_MOMENT, zeros);
    createSlot(variable, SECOND_MOMENT, zeros);
  }

  @Override
  protected <T extends TType> Op applyDense(Ops deps, Output<T> gradient, Output<T> variable) {
    Class<T> type = variable.type();
    return deps.train.applyAdam(
        variable,
        getSlot(variable, FIRST_MOMENT).orElseThrow(),
        getSlot(variable, SECOND_MOMENT).orElseThrow(),
        deps.dtypes.cast(betaOnePower, type),
        deps.dtypes.cast(betaTwoPower, type),
        deps.dtypes.cast(deps.constant(learningRate), type),
        deps.dtypes.cast(deps.constant(BETA_ONE), type),
        deps.dtypes.cast(deps.constant(BETA_TWO), type),
        deps.dtypes.cast(deps.constant(EPSILON), type),
        gradient,
        ApplyAdam.useLocking(true));
  }

  /** Advances the decay counters once every update of the step is done. */
  @Override
  protected Op finish(List<Op> updates, String name) {
    Ops after = tf.withControlDependencies(updates);
    List<Op> step = new ArrayList<>(updates);
    step.add(after.assign(betaOnePower, after.math.mul(betaOnePower, after.constant(BETA_ONE))));
    step.add(after.assign(betaTwoPower, after.math.mul(betaTwoPower, after.constant(BETA_TWO))));
    return super.finish(step, name);
  }

  @Override
  public String getOptimizerName() {
    return "Adam";
  }
}
