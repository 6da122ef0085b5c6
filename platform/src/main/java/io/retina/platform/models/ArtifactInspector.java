package io.retina.platform.models;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Looks at the graphs inside an uploaded artifact before it is stored, for what a model may not run
 * (files, strings, state, TensorFlow's internal ops). Implemented where TensorFlow lives, so that
 * the HTTP tier can refuse an upload without loading a model. Implementations are thread-safe and
 * stateless.
 */
@FunctionalInterface
public interface ArtifactInspector {
  /** Accepts every artifact: for nodes and tests without the workers' code. */
  ArtifactInspector NONE = (zip, format, options) -> Optional.empty();

  /**
   * Why the zip's models (each named by an artifact option, in {@code format}) may not run, or
   * empty if they may. The zip has passed {@link ModelArchive#check} already.
   *
   * @throws IOException if the zip can't be read
   */
  Optional<String> refusal(Path zip, String format, Map<String, String> options) throws IOException;
}
