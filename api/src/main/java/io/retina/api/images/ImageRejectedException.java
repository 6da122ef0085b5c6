package io.retina.api.images;

import java.util.Objects;

/**
 * Thrown when an upload is not an image Retina accepts. The message is a sentence meant for the
 * developer who sent the file; {@link #reason()} is what callers branch on.
 */
public final class ImageRejectedException extends Exception {

  private static final long serialVersionUID = 1L;

  /** Why an upload was rejected. */
  public enum Reason {
    /** The bytes are not PNG, JPEG or WebP, whatever the declared content type says. */
    UNSUPPORTED_FORMAT,
    /** The format is recognised but its structure is invalid (bad checksum, impossible values). */
    MALFORMED,
    /** The structure is valid as far as it goes but the file ends early. */
    TRUNCATED,
    /** A JPEG with more scans than any encoder writes: decoding it would cost minutes or hours. */
    TOO_MANY_SCANS
  }

  private final Reason reason;

  public ImageRejectedException(Reason reason, String message) {
    // Rejections are routine and their cause is in the message, so a stack trace is not worth
    // filling in on every bad upload.
    super(message, null, false, false);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public Reason reason() {
    return reason;
  }
}
