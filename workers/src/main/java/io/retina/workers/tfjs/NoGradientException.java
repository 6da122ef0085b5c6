package io.retina.workers.tfjs;

/**
 * A model's graph can't give the gradient asked of it: a tensor is missing or of the wrong shape,
 * or an op on the way has no gradient in TensorFlow's C++ registry.
 */
public final class NoGradientException extends Exception {
  public NoGradientException(String message) {
    super(message);
  }
}
