package io.retina.workers.tasks;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A task beyond the built-in ones, found with {@link java.util.ServiceLoader} on the worker's
 * classpath: an operator's own pre- and post-processing, or a test fixture. A version names it by
 * {@link #task()}; its artifact options are passed as they are. Implementations must be
 * thread-safe.
 */
public interface TaskProvider {
  /** The task name versions use, e.g. "sleep". */
  String task();

  /** Loads the task for a version; {@code artifactRoot} is null for a version with no artifact. */
  ImageTask load(Path artifactRoot, Map<String, String> options) throws IOException;
}
