package io.retina.workers.tasks;

import java.util.Map;

/**
 * A loaded model plus its task's pre- and post-processing. Thread-safe: {@link #run} may be called
 * concurrently; {@link #close} releases the model once runs have finished.
 */
public interface ImageTask extends AutoCloseable {

  /**
   * Runs on one encoded image (PNG, JPEG or WebP bytes). {@code params} are already-validated
   * strings (e.g. "scale" -> "4").
   */
  TaskOutput run(byte[] encodedImage, Map<String, String> params) throws InvalidInputException;

  @Override
  void close();
}
