package io.retina.workers.tasks;

/**
 * The input can't be processed (undecodable image, unsupported shape, bad parameter); the message
 * is shown to the tenant, so it names the problem and never internals.
 */
public final class InvalidInputException extends Exception {
  public InvalidInputException(String message) {
    super(message);
  }
}
