package io.retina.workers.tfjs;

import java.io.IOException;

/** A model that may not or can't run on this worker, because of the op it names. */
public final class ModelRefusedException extends IOException {
  private static final long serialVersionUID = 1L;

  private final String op;

  public ModelRefusedException(String op, String message) {
    super(message);
    this.op = op;
  }

  /** The op that was refused. */
  public String op() {
    return op;
  }
}
