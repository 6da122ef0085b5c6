package io.retina.workers.tasks;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.Json;
import io.retina.workers.tasks.vision.Box;
import io.retina.workers.tfjs.ModelCacheFixtures;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The hand-labelled detection set of {@code detection/labels.json} (its header states the labelling
 * rules): photographs that Debian and npm packages ship, with their COCO objects.
 */
final class LabelledPhotos {

  /** A photo: where it comes from, its file, its size and its objects. */
  record Photo(
      String source, Path file, int width, int height, List<AveragePrecision.Labelled> objects) {}

  private LabelledPhotos() {}

  /**
   * Reads the set; fails, naming the package to install, if a photo's file is missing (CI's {@code
   * .ci/run} installs the Debian ones; the build fetches the npm ones).
   */
  static List<Photo> load() {
    JsonNode root;
    try (InputStream in = LabelledPhotos.class.getResourceAsStream("/detection/labels.json")) {
      root = Json.MAPPER.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<Photo> photos = new ArrayList<>();
    for (JsonNode p : root.get("photos")) {
      String pkg = p.get("package").asText();
      Path file = file(pkg, p.get("path").asText());
      if (!Files.isRegularFile(file)) {
        throw new IllegalStateException(
            file
                + " is missing: "
                + (pkg.startsWith("deb:")
                    ? "apt-get install " + pkg.substring(4)
                    : "run the workers build, which fetches " + pkg));
      }
      List<AveragePrecision.Labelled> objects = new ArrayList<>();
      for (JsonNode o : p.get("objects")) {
        JsonNode b = o.get("box");
        double x = b.get(0).asDouble();
        double y = b.get(1).asDouble();
        objects.add(
            new AveragePrecision.Labelled(
                o.get("label").asText(),
                new Box(x, y, x + b.get(2).asDouble(), y + b.get(3).asDouble()),
                o.path("difficult").asBoolean(false),
                o.path("crowd").asBoolean(false)));
      }
      photos.add(
          new Photo(
              pkg + " " + p.get("path").asText(),
              file,
              p.get("width").asInt(),
              p.get("height").asInt(),
              List.copyOf(objects)));
    }
    return List.copyOf(photos);
  }

  /**
   * A Debian package's file is its absolute path; an npm package's lies in the model cache's
   * directory for it, named as the build unpacks it ({@code @scope/name@1.0.0} in {@code
   * scope_name_1.0.0}).
   */
  private static Path file(String pkg, String path) {
    if (pkg.startsWith("deb:")) {
      return Path.of(path);
    }
    if (!pkg.startsWith("npm:")) {
      throw new IllegalArgumentException("unknown package kind: " + pkg);
    }
    String spec = pkg.substring(4);
    int at = spec.lastIndexOf('@');
    String dir =
        spec.substring(0, at).replaceFirst("^@", "").replace('/', '_')
            + "_"
            + spec.substring(at + 1);
    return ModelCacheFixtures.cache().resolve(dir).resolve(path);
  }
}
