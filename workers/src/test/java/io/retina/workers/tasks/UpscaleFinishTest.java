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
   * What a job without parameters gets (the generator's detail at edges, bicubic's where the input
   * is smooth, made to agree with the input) beats bicubic on the photo crop at every scale, and is
   * sharper: its mean gradient is higher. Averaged back down it gives the input again, which the
   * generator's own output does not.
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

  /**
   * The generator's share follows the input's contrast: on the flat half of an image the mix is
   * bicubic's output, on the high-contrast half it is {@code detail}'s share of the generator's.
   * The "generator" here is a black image, so what is left of bicubic's shows the share.
   */
  @Test
  void theGeneratorsDetailIsKeptAtEdgesAndDroppedWhereTheInputIsFlat() {
    int w = 16;
    int h = 8;
    byte[] in = new byte[w * h * 4];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        // left half flat grey; right half alternating columns of 40 and 220
        int v = x < w / 2 ? 128 : (x % 2 == 0 ? 40 : 220);
        java.util.Arrays.fill(in, (y * w + x) * 4, (y * w + x) * 4 + 3, (byte) v);
        in[(y * w + x) * 4 + 3] = (byte) 255;
      }
    }
    for (float detail : new float[] {1f, 0.5f}) {
      byte[] out = new byte[w * 2 * h * 2 * 4];
      DetailBlend.apply(in, w, h, out, 2, detail);
      int flat = out[((4 * w * 2) + 2) * 4] & 0xff; // output row 4, column 2: deep in the flat half
      assertTrue(flat == 128, "detail " + detail + ": flat area is bicubic's 128, got " + flat);
      // deep in the contrast half the share is detail * 180^2 / (180^2 + 12^2), about detail
      double kept = 0;
      int n = 0;
      for (int ox = 24; ox < 30; ox++) {
        int at = ((4 * w * 2) + ox) * 4;
        kept += (out[at] & 0xff) / bicubicAt(in, w, h, ox, 4);
        n++;
      }
      double share = 1 - kept / n;
      assertTrue(
          Math.abs(share - detail) < 0.03,
          "detail " + detail + ": the generator's share at edges is " + share);
    }
  }

  /** Keys' bicubic (a = -0.5) of the test image's grey at output (ox, oy) of an x2 enlargement. */
  private static double bicubicAt(byte[] in, int w, int h, int ox, int oy) {
    byte[] one = new byte[w * 2 * h * 2 * 4];
    DetailBlend.apply(in, w, h, one, 2, 0f);
    return one[(oy * w * 2 + ox) * 4] & 0xff;
  }

  @Test
  void detailZeroIsBicubicMadeToAgreeAndDetailIsBounded() throws Exception {
    RgbaImage small = Quality.areaDownscale(UpscaleTaskTest.photoCrop(), 2);
    byte[] png = PngEncoder.encode(small, false);
    RgbaImage none = run(png, Map.of("scale", "2", "detail", "0"));
    RgbaImage all = run(png, Map.of("scale", "2", "detail", "100"));
    RgbaImage half = run(png, Map.of("scale", "2", "detail", "50"));
    double bicubicLike = ImageFixtures.psnr(none, Quality.bicubic(small, 2));
    double noneFromAll = ImageFixtures.rgbDiff(none, all).mean();
    double halfFromAll = ImageFixtures.rgbDiff(half, all).mean();
    System.out.printf(
        "detail 0 vs java.awt bicubic: %.1f dB; mean abs diff from detail 100: detail 0 %.3f,"
            + " detail 50 %.3f%n",
        bicubicLike, noneFromAll, halfFromAll);
    assertTrue(bicubicLike > 40, "detail 0 vs bicubic: " + bicubicLike + " dB");
    assertTrue(halfFromAll > 0.05, "detail 50 is detail 100: " + halfFromAll);
    assertTrue(noneFromAll > 1.2 * halfFromAll, "detail 0 is no further: " + noneFromAll);
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
