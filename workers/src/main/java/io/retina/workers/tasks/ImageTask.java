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

  /**
   * Where a long run reports how far it has got. Called on the running thread, in order, with
   * {@code done} rising to {@code total}; it must be cheap or throttle itself.
   */
  @FunctionalInterface
  interface Progress {
    Progress NONE = (done, total) -> {};

    void done(int done, int total);
  }

  /**
   * Runs as {@link #run(byte[], Map)} and reports progress along the way. By default reports
   * nothing; a task whose runs take long (tiles, several model runs) overrides this.
   */
  default TaskOutput run(byte[] encodedImage, Map<String, String> params, Progress progress)
      throws InvalidInputException {
    return run(encodedImage, params);
  }

  /** One image of a batch and its parameters. */
  record BatchItem(byte[] encodedImage, Map<String, String> params) {}

  /** What one image of a batch came to: an output, or why the input was refused. */
  record BatchResult(TaskOutput output, InvalidInputException refused) {}

  /**
   * Runs several images, one result per item in order; a refused item does not fail the others. By
   * default one by one; a task whose model is proven batch-safe overrides this to run them through
   * the model together.
   */
  default java.util.List<BatchResult> runBatch(java.util.List<BatchItem> items) {
    java.util.List<BatchResult> results = new java.util.ArrayList<>();
    for (BatchItem item : items) {
      try {
        results.add(new BatchResult(run(item.encodedImage(), item.params()), null));
      } catch (InvalidInputException e) {
        results.add(new BatchResult(null, e));
      }
    }
    return results;
  }

  @Override
  void close();
}
