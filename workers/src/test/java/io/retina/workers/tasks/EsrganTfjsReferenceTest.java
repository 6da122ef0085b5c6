package io.retina.workers.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.PngEncoder;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.ModelCacheFixtures;
import io.retina.workers.tfjs.TfModel;
import io.retina.workers.tfjs.TfjsModels;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * ESRGAN-medium and -thick (super-resolution versions 2 and 3) against their packages' own TF.js
 * model definitions: the fixtures are TF.js's outputs on a window of each package's {@code
 * assets/fixture.png}, written by {@code build/reference/upscale/make-fixtures.sh}.
 */
class EsrganTfjsReferenceTest {

  /** On 0..1 of the range's white: a quarter of one 8-bit level. */
  private static final double TOLERANCE = 1e-3;

  private static Path pkg(String size) {
    return ModelCacheFixtures.cache().resolve("upscalerjs_esrgan-" + size + "_1.0.0");
  }

  /** The window the fixture script used: 20x20 at (54, 54), or 10x10 at (59, 59) at x8. */
  private static RgbaImage window(String size, int scale) throws Exception {
    RgbaImage fixture =
        ImageDecoder.decode(Files.readAllBytes(pkg(size).resolve("assets/fixture.png")));
    return scale == 8
        ? Quality.crop(fixture, 59, 59, 10, 10)
        : Quality.crop(fixture, 54, 54, 20, 20);
  }

  /** A 16-bit RGB fixture as floats in [0, 1]. */
  private static float[] reference(String name) throws Exception {
    try (InputStream in =
        EsrganTfjsReferenceTest.class.getResourceAsStream("/reference/upscale/" + name)) {
      BufferedImage png = ImageIO.read(in);
      Raster r = png.getRaster();
      int w = png.getWidth();
      float[] v = new float[w * png.getHeight() * 3];
      for (int i = 0; i < v.length; i++) {
        v[i] = r.getSample((i / 3) % w, (i / 3) / w, i % 3) / 65535f;
      }
      return v;
    }
  }

  /** The generator's raw output for {@code img} with its input multiplied by {@code gain}. */
  private static float[] run(TfModel model, RgbaImage img, float white, float gain)
      throws Exception {
    float[] in = PixelPacking.rgb(img, white / 255f * gain);
    FloatTensor out = model.run(new FloatTensor(new long[] {1, img.height(), img.width(), 3}, in));
    float[] v = out.data();
    for (int i = 0; i < v.length; i++) {
      v[i] /= white;
    }
    return v;
  }

  /** The largest difference after clipping {@code actual} to [0, 1], as the fixture's PNG is. */
  private static double maxDiff(float[] expected, float[] actual) {
    assertEquals(expected.length, actual.length);
    double max = 0;
    for (int i = 0; i < expected.length; i++) {
      max = Math.max(max, Math.abs(expected[i] - Math.min(1f, Math.max(0f, actual[i]))));
    }
    return max;
  }

  /**
   * Measured here (max abs diff on 0..1): 7.8e-6 to 9.1e-6 for both; the input multiplied by
   * 250/255 moves the output by 1.95e-2 to 2.01e-2, twenty times the tolerance.
   */
  @ParameterizedTest(name = "{0} x{1}")
  @CsvSource({
    "medium, 2, 255",
    "medium, 3, 255",
    "medium, 4, 255",
    "medium, 8, 255",
    "thick, 2, 1",
    "thick, 3, 1",
    "thick, 4, 1",
    "thick, 8, 1"
  })
  void eachScaleMatchesTfjsAndAPerturbedInputFallsOutsideTheTolerance(
      String size, int scale, float white) throws Exception {
    float[] expected = reference(size + "-x" + scale + ".png");
    RgbaImage img = window(size, scale);
    try (TfModel model = TfjsModels.load(pkg(size).resolve("models/x" + scale + "/model.json"))) {
      double same = maxDiff(expected, run(model, img, white, 1f));
      double perturbed = maxDiff(expected, run(model, img, white, 250f / 255f));
      System.out.printf(
          "esrgan-%s x%d vs TF.js: max abs diff %.2e; input x250/255: %.2e%n",
          size, scale, same, perturbed);
      assertTrue(same < TOLERANCE, "max abs diff " + same);
      assertTrue(perturbed > 10 * TOLERANCE, "perturbed: max abs diff " + perturbed);
    }
  }

  /**
   * Through the upscale task as the catalog loads it (thick with {@code range = 0..1}), the PNG is
   * TF.js's output rounded: within one level (measured: 0.50). Thick fed 0..255 instead fails that
   * check.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource({"medium, 0..255", "thick, 0..1"})
  void theTaskAsCataloguedGivesTfjsOutputRounded(String size, String range) throws Exception {
    float[] expected = reference(size + "-x4.png");
    byte[] input = PngEncoder.encode(window(size, 4), false);
    Map<String, String> options = Map.of("x4", "models/x4/model.json", "range", range);
    try (ImageTask task = ImageTasks.load("upscale", pkg(size), options)) {
      RgbaImage out =
          ImageDecoder.decode(
              task.run(input, Map.of("scale", "4", "fidelity", "generator")).body());
      double max = 0;
      for (int i = 0; i < expected.length; i++) {
        max = Math.max(max, Math.abs(expected[i] * 255 - (out.rgba()[i / 3 * 4 + i % 3] & 0xff)));
      }
      System.out.printf("esrgan-%s x4 task output vs TF.js: max abs diff %.2f levels%n", size, max);
      assertTrue(max <= 1.0, max + " levels");
    }
    if (size.equals("thick")) {
      Map<String, String> wrong = Map.of("x4", "models/x4/model.json", "range", "0..255");
      try (ImageTask task = ImageTasks.load("upscale", pkg(size), wrong)) {
        RgbaImage out =
            ImageDecoder.decode(
                task.run(input, Map.of("scale", "4", "fidelity", "generator")).body());
        double wrongMax = 0;
        for (int i = 0; i < expected.length; i++) {
          wrongMax =
              Math.max(
                  wrongMax, Math.abs(expected[i] * 255 - (out.rgba()[i / 3 * 4 + i % 3] & 0xff)));
        }
        System.out.printf("esrgan-thick x4 fed 0..255: max abs diff %.2f levels%n", wrongMax);
        assertTrue(wrongMax > 1.0, "thick on 0..255: max abs diff " + wrongMax + " levels");
      }
    }
  }
}
