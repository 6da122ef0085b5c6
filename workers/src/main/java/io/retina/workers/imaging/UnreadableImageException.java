package io.retina.workers.imaging;

/** The bytes are not an image Retina can decode: unknown format, truncated, corrupt or too big. */
public final class UnreadableImageException extends Exception {
  public UnreadableImageException(String message) {
    super(message);
  }

  public UnreadableImageException(String message, Throwable cause) {
    super(message, cause);
  }
}
