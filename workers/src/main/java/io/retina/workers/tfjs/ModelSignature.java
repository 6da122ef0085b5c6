package io.retina.workers.tfjs;

import java.util.List;

/** The inputs and outputs of an imported model, in their declared order. Immutable. */
public record ModelSignature(List<TensorSpec> inputs, List<TensorSpec> outputs) {

  public ModelSignature {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
  }

  /** The only input; fails if the model has several. */
  public TensorSpec input() {
    if (inputs.size() != 1) {
      throw new IllegalStateException("model has " + inputs.size() + " inputs");
    }
    return inputs.get(0);
  }

  /** The first output. */
  public TensorSpec output() {
    if (outputs.isEmpty()) {
      throw new IllegalStateException("model has no outputs");
    }
    return outputs.get(0);
  }
}
