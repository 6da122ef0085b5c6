package io.retina.workers.models;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.stream.Stream;

/**
 * An estimate of a loaded version's memory: the bytes of the canonical SavedModels it was loaded
 * from. Their weights are float32, as TensorFlow holds them, whatever the source's quantization.
 */
final class Footprint {
  private Footprint() {}

  static long bytes(Collection<Path> forms) {
    long total = 0;
    for (Path form : forms) {
      try (Stream<Path> files = Files.walk(form)) {
        total +=
            files
                .filter(Files::isRegularFile)
                .mapToLong(
                    f -> {
                      try {
                        return Files.size(f);
                      } catch (IOException e) {
                        throw new UncheckedIOException(e);
                      }
                    })
                .sum();
      } catch (IOException | UncheckedIOException e) {
        // a form that vanished after loading counts as nothing; it is made again when needed
      }
    }
    return total;
  }
}
