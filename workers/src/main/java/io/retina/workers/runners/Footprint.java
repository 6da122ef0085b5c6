package io.retina.workers.runners;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;

/**
 * An estimate of a loaded version's memory: the bytes of the weight files its model files name.
 * Weights dequantized from float16 or uint8 take two to four times that in float32; the budget is
 * set with that in mind (see workers.conf).
 */
final class Footprint {
  private Footprint() {}

  static long bytes(Path root, Collection<String> options) {
    long total = 0;
    for (String option : options) {
      Path file = root.resolve(option).normalize();
      if (!option.endsWith(".json") || !file.startsWith(root) || !Files.isRegularFile(file)) {
        continue;
      }
      try {
        JsonNode manifest = Json.MAPPER.readTree(file.toFile()).path("weightsManifest");
        for (JsonNode group : manifest) {
          for (JsonNode shard : group.path("paths")) {
            Path weights = file.getParent().resolve(shard.asText()).normalize();
            if (weights.startsWith(root) && Files.isRegularFile(weights)) {
              total += Files.size(weights);
            }
          }
        }
      } catch (IOException e) {
        // an unreadable manifest counts as nothing; the load itself reports the problem
      }
    }
    return total;
  }
}
