package io.retina.platform.jobs;

import java.util.regex.Pattern;

/**
 * A job's error as its tenant may read it: the reason without the server's file paths or Java class
 * names, which say nothing to a tenant and much to someone probing the platform. The full reason
 * stays in the node's log and, for model loads, in the admin's model registry. Stateless.
 */
public final class JobErrorDetail {
  /** An absolute path of two or more segments, e.g. {@code /var/lib/retina/models/x/y.pb}. */
  private static final Pattern PATH =
      Pattern.compile("(?<![\\w.:/])/(?:[\\w.@+~-]+/)+[\\w.@+~-]*|file:[^\\s'\"]+");

  /** A qualified class name, e.g. {@code org.tensorflow.exceptions.TFInvalidArgumentException}. */
  private static final Pattern QUALIFIED_CLASS =
      Pattern.compile("\\b(?:[a-z_][a-z0-9_]*\\.){2,}[A-Z][\\w$]*(?::\\s*)?");

  /** A bare exception or error class name, e.g. {@code NullPointerException:}. */
  private static final Pattern SIMPLE_CLASS =
      Pattern.compile("\\b[A-Z][A-Za-z0-9]*(?:Exception|Error)\\b(?::\\s*)?");

  private static final int MAX_LENGTH = 500;

  private JobErrorDetail() {}

  /** The detail with paths and class names taken out; never null, never empty. */
  public static String forTenant(String detail) {
    if (detail == null || detail.isBlank()) {
      return "the job failed";
    }
    String clean = PATH.matcher(detail).replaceAll("<path>");
    clean = QUALIFIED_CLASS.matcher(clean).replaceAll("");
    clean = SIMPLE_CLASS.matcher(clean).replaceAll("");
    clean = clean.replaceAll("\\s{2,}", " ").replaceAll("(:\\s*)+$", "").trim();
    if (clean.isEmpty() || clean.endsWith(":")) {
      clean = clean.isEmpty() ? "the job failed" : clean.substring(0, clean.length() - 1).trim();
    }
    return clean.length() > MAX_LENGTH ? clean.substring(0, MAX_LENGTH) + "..." : clean;
  }
}
