package io.retina.workers.tfjs;

/** A tensor was refused before reaching the session because the model's signature can't take it. */
public final class FeedRejectedException extends Exception {
  public FeedRejectedException(String message) {
    super(message);
  }
}
