package io.retina.workers.tasks;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.PngEncoder;
import io.retina.workers.imaging.RgbaImage;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * How the upscale task finishes ESRGAN-slim's output for a job ({@code detail}, {@code fidelity}),
 * on a real photo. The generator's own kernels are checked by {@link UpscaleTaskTest} with oneDNN
 * off and on; what is checked here is Java, so it runs once.
 */
class UpscaleFinishTest {

  private static ImageTask task;

  @BeforeAll
  static void load() throws Exception {
    task = UpscaleTaskTest.slim();
  }

  @AfterAll
  static void close() {
    task.close();
  }

  private static RgbaImage run(byte[] png, Map<String, String> params) throws Exception {
    return ImageDecoder.decode(task.run(png, params).body());
  }

  /**
   * What a job without parameters gets (half the generator's detail, made to agree with the input)
   * beats bicubic on the photo crop at every scale, and is sharper: its mean gradient is higher.
   * Averaged back down it gives the input again, which the generator's own output does not.
   */
  @Test
  void aJobWithoutParametersBeatsBicubicOnThePhotoAndAgreesWithItsInput() throws Exception {
    RgbaImage truth = UpscaleTaskTest.photoCrop();
    for (int s : new int[] {2, 3, 4, 8}) {
      RgbaImage small = Quality.areaDownscale(truth, s);
      byte[] png = PngEncoder.encode(small, false);
      RgbaImage served = run(png, Map.of("scale", String.valueOf(s)));
      RgbaImage raw = run(png, Map.of("scale", String.valueOf(s), "fidelity", "generator"));
      RgbaImage bicubic = Quality.bicubic(small, s);
      double psnr = ImageFixtures.psnr(served, truth);
      double bicubicPsnr = ImageFixtures.psnr(bicubic, truth);
      double gradient = Quality.meanGradient(served) / Quality.meanGradient(bicubic);
      double agrees = ImageFixtures.psnr(Quality.areaDownscale(served, s), small);
      double rawAgrees = ImageFixtures.psnr(Quality.areaDownscale(raw, s), small);
      System.out.printf(
          "x%d served: %.2f dB vs the photo (bicubic %.2f, generator %.2f), mean gradient %.2fx"
              + " bicubic's; averaged down, %.1f dB vs the input (generator %.1f)%n",
          s, psnr, bicubicPsnr, ImageFixtures.psnr(raw, truth), gradient, agrees, rawAgrees);
      assertTrue(psnr > bicubicPsnr, "x" + s + ": " + psnr + " dB, bicubic " + bicubicPsnr);
      assertTrue(gradient > 1.0, "x" + s + ": mean gradient " + gradient + "x bicubic's");
      assertTrue(agrees > 45, "x" + s + ": averaged down, " + agrees + " dB vs the input");
      assertTrue(agrees > rawAgrees + 3, "x" + s + ": no closer to the input than the generator");
    }
  }

  @Test
  void detailZeroIsBicubicMadeToAgreeAndDetailIsBounded() throws Exception {
    RgbaImage small = Quality.areaDownscale(UpscaleTaskTest.photoCrop(), 2);
    byte[] png = PngEncoder.encode(small, false);
    RgbaImage none = run(png, Map.of("scale", "2", "detail", "0"));
    RgbaImage all = run(png, Map.of("scale", "2", "detail", "100"));
    RgbaImage half = run(png, Map.of("scale", "2"));
    double bicubicLike = ImageFixtures.psnr(none, Quality.bicubic(small, 2));
    double noneFromAll = ImageFixtures.rgbDiff(none, all).mean();
    double halfFromAll = ImageFixtures.rgbDiff(half, all).mean();
    System.out.printf(
        "detail 0 vs java.awt bicubic: %.1f dB; mean abs diff from detail 100: detail 0 %.3f,"
            + " detail 50 %.3f%n",
        bicubicLike, noneFromAll, halfFromAll);
    assertTrue(bicubicLike > 40, "detail 0 vs bicubic: " + bicubicLike + " dB");
    assertTrue(halfFromAll > 0.05, "detail 50 is detail 100: " + halfFromAll);
    assertTrue(noneFromAll > 1.5 * halfFromAll, "detail 0 is no further: " + noneFromAll);
    for (String bad : new String[] {"101", "-1", "0.5", "lots"}) {
      assertThrows(
          InvalidInputException.class,
          () -> task.run(png, Map.of("scale", "2", "detail", bad)),
          "detail=" + bad);
    }
    assertThrows(
        InvalidInputException.class,
        () -> task.run(png, Map.of("scale", "2", "fidelity", "exact")));
  }
}
