package io.retina.workers.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.PngEncoder;
import io.retina.workers.imaging.Resampler;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.ModelCacheFixtures;
import io.retina.workers.tfjs.TensorSpec;
import io.retina.workers.tfjs.TfModel;
import io.retina.workers.tfjs.TfjsModels;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * MediaPipe Meet (background-removal version 2) and Robust Video Matting (matting) against TF.js
 * references, and on real photos of people against the selfie model's masks.
 */
class MattingTaskTest {

  /**
   * Largest difference allowed from TF.js on any mask or alpha pixel (0..1). Measured here: see the
   * printed figures; float32 kernels in a different order differ by ~1e-5.
   */
  private static final double TOLERANCE = 2e-3;

  /** The reference input: sample1.jpg (three people) decoded by Retina and resized to this. */
  private static final int PHOTO_W = 192;

  private static final int PHOTO_H = 128;

  private static final Path MODELS = ModelCacheFixtures.humanModels().resolve("models");
  private static TfModel meetModel;
  private static TfModel rvmModel;
  private static MattingTask meet;
  private static MattingTask rvm;
  private static ImageTask selfie;

  @BeforeAll
  static void load() throws Exception {
    meetModel = TfjsModels.load(MODELS.resolve("meet.json"));
    meet = MattingTask.twoClass(meetModel);
    rvmModel = TfjsModels.load(MODELS.resolve("rvm.json"));
    rvm = MattingTask.recurrent(rvmModel);
    selfie =
        ImageTasks.load(
            "remove-background",
            ModelCacheFixtures.humanModels(),
            Map.of("model", "models/selfie.json"));
  }

  @AfterAll
  static void close() {
    meet.close();
    rvm.close();
    selfie.close();
  }

  private static Path demo(int i) {
    return ModelCacheFixtures.cache()
        .resolve("vladmandic_face-api_1.7.15/demo/sample" + i + ".jpg");
  }

  /** The reference scripts' input, made the same way every time from a photo of the package. */
  static RgbaImage personPhoto() throws Exception {
    RgbaImage full = ImageDecoder.decode(Files.readAllBytes(demo(1)));
    float[] rgb =
        Resampler.bilinear(
            PixelPacking.rgb(full, 1f),
            full.width(),
            full.height(),
            3,
            PHOTO_W,
            PHOTO_H,
            Resampler.Sampling.HALF_PIXEL);
    byte[] rgba = new byte[PHOTO_W * PHOTO_H * 4];
    for (int i = 0; i < PHOTO_W * PHOTO_H; i++) {
      for (int c = 0; c < 3; c++) {
        rgba[i * 4 + c] = PixelPacking.toByte(rgb[i * 3 + c]);
      }
      rgba[i * 4 + 3] = (byte) 255;
    }
    return new RgbaImage(PHOTO_W, PHOTO_H, rgba, false);
  }

  /** Writes the reference input for build/reference/restoration/segmentation.js. */
  @Test
  @EnabledIfSystemProperty(named = "retina.reference.out", matches = ".+")
  void writesTheReferenceInput() throws Exception {
    Path out = Path.of(System.getProperty("retina.reference.out"), "sample1-192x128.png");
    Files.write(out, PngEncoder.encode(personPhoto(), false));
  }

  private static float[] reference16(String name) throws Exception {
    try (InputStream in =
        MattingTaskTest.class.getResourceAsStream("/reference/restoration/" + name)) {
      BufferedImage png = ImageIO.read(in);
      Raster r = png.getRaster();
      float[] v = new float[png.getWidth() * png.getHeight()];
      for (int i = 0; i < v.length; i++) {
        v[i] = r.getSample(i % png.getWidth(), i / png.getWidth(), 0) / 65535f;
      }
      return v;
    }
  }

  private static double maxDiff(String what, float[] expected, float[] actual) {
    assertEquals(expected.length, actual.length);
    double max = 0;
    double sum = 0;
    for (int i = 0; i < expected.length; i++) {
      double d = Math.abs(expected[i] - actual[i]);
      max = Math.max(max, d);
      sum += d;
    }
    System.out.printf(
        "%s vs TF.js: mean abs diff %.2e, max %.2e%n", what, sum / expected.length, max);
    return max;
  }

  @Test
  void meetMaskMatchesTheTfjsReference() throws Exception {
    float[] actual = new MattingTask.TwoClass(meetModel, 144, 256).personProbability(personPhoto());
    double max = maxDiff("meet mask", reference16("meet-sample1-mask16.png"), actual);
    assertTrue(max < TOLERANCE, "max abs diff " + max);
  }

  @Test
  void rvmAlphaMatchesTheTfjsReferenceAtFullResolution() throws Exception {
    float[] rgb = PixelPacking.rgb(personPhoto(), 1f / 255f);
    float[] actual = new MattingTask.Recurrent(rvmModel).raw(rgb, PHOTO_W, PHOTO_H, 1f);
    double max =
        maxDiff("rvm alpha (ratio 1)", reference16("rvm-sample1-ratio1-alpha16.png"), actual);
    assertTrue(max < TOLERANCE, "max abs diff " + max);
  }

  @Test
  void rvmAlphaMatchesTheTfjsReferenceWhenDownsampled() throws Exception {
    float[] rgb = PixelPacking.rgb(personPhoto(), 1f / 255f);
    float[] actual = new MattingTask.Recurrent(rvmModel).raw(rgb, PHOTO_W, PHOTO_H, 0.5f);
    double max =
        maxDiff("rvm alpha (ratio 0.5)", reference16("rvm-sample1-ratio05-alpha16.png"), actual);
    assertTrue(max < TOLERANCE, "max abs diff " + max);
  }

  /**
   * How well {@code alpha} agrees with the selfie model's mask where that mask is confident: the
   * share of its sure-person pixels (mask >= 0.9) that alpha covers (>= 0.5), and the share of its
   * sure-background pixels (mask <= 0.1) that alpha leaves out. Selfie's uncertain band (hair,
   * limbs at the edges, where it is often wrong) is not judged.
   */
  private static double[] agreement(float[] alpha, byte[] selfieRgba) {
    int person = 0;
    int covered = 0;
    int background = 0;
    int left = 0;
    for (int i = 0; i < alpha.length; i++) {
      int s = selfieRgba[i * 4] & 0xff;
      if (s >= 230) {
        person++;
        covered += alpha[i] >= 0.5f ? 1 : 0;
      } else if (s <= 25) {
        background++;
        left += alpha[i] < 0.5f ? 1 : 0;
      }
    }
    return new double[] {(double) covered / person, (double) left / background};
  }

  @Test
  void bothMattesCoverThePeopleTheSelfieModelFinds() throws Exception {
    double worst = 1;
    for (int i = 1; i <= 6; i++) {
      byte[] jpeg = Files.readAllBytes(demo(i));
      RgbaImage photo = ImageDecoder.decode(jpeg);
      byte[] selfieMask =
          ImageDecoder.decode(selfie.run(jpeg, Map.of("output", "mask")).body()).rgba();
      long t0 = System.nanoTime();
      double[] r = agreement(rvm.alpha(photo), selfieMask);
      long t1 = System.nanoTime();
      double[] m = agreement(meet.alpha(photo), selfieMask);
      long t2 = System.nanoTime();
      System.out.printf(
          "sample%d.jpg %dx%d: rvm covers %.3f of selfie's people, leaves out %.3f of its"
              + " background (%.1f s); meet %.3f, %.3f (%.2f s)%n",
          i,
          photo.width(),
          photo.height(),
          r[0],
          r[1],
          (t1 - t0) / 1e9,
          m[0],
          m[1],
          (t2 - t1) / 1e9);
      worst = Math.min(worst, Math.min(Math.min(r[0], r[1]), Math.min(m[0], m[1])));
    }
    assertTrue(worst > 0.8, "worst agreement " + worst);
  }

  @Test
  void cutoutIsThePhotoWithTheAlphaMatte() throws Exception {
    RgbaImage photo = personPhoto();
    byte[] png = PngEncoder.encode(photo, false);
    for (MattingTask task : new MattingTask[] {meet, rvm}) {
      RgbaImage cutout = ImageDecoder.decode(task.run(png, Map.of()).body());
      RgbaImage mask = ImageDecoder.decode(task.run(png, Map.of("output", "mask")).body());
      assertTrue(cutout.hasAlpha());
      assertFalse(mask.hasAlpha());
      assertEquals(PHOTO_W, cutout.width());
      assertEquals(PHOTO_H, mask.height());
      for (int i = 0; i < photo.pixels(); i++) {
        assertEquals(photo.rgba()[i * 4 + 1], cutout.rgba()[i * 4 + 1]);
        assertEquals(mask.rgba()[i * 4] & 0xff, cutout.rgba()[i * 4 + 3] & 0xff, 1);
      }
    }
  }

  @Test
  void mattesTinyAndOddSizedImages() throws Exception {
    byte[] png = PngEncoder.encode(ImageFixtures.pattern(37, 23, false), false);
    RgbaImage mask = ImageDecoder.decode(rvm.run(png, Map.of("output", "mask")).body());
    assertEquals(37, mask.width());
    assertEquals(23, mask.height());
  }

  @Test
  void refusesAnImageTooElongatedToMatte() throws Exception {
    byte[] png = PngEncoder.encode(ImageFixtures.pattern(2000, 10, false), false);
    assertThrows(InvalidInputException.class, () -> rvm.run(png, Map.of()));
  }

  @Test
  void aMultiInputRunRefusesAMissingOrMisshapenFeed() {
    var src =
        rvmModel.signature().inputs().stream().filter(s -> s.opName().equals("src")).findFirst();
    var pha = rvmModel.signature().outputs().get(0);
    var image = new FloatTensor(new long[] {1, 8, 8, 3}, new float[192]);
    // only src: the states and the ratio are missing
    assertThrows(
        FeedRejectedException.class,
        () -> rvmModel.run(Map.of(src.orElseThrow(), image), List.of(pha)));
    // src with 4 channels where the signature says 3
    var fourChannels = new FloatTensor(new long[] {1, 8, 8, 4}, new float[256]);
    Map<TensorSpec, FloatTensor> feeds = new HashMap<>();
    for (var in : rvmModel.signature().inputs()) {
      feeds.put(
          in,
          in.opName().equals("src")
              ? fourChannels
              : new FloatTensor(new long[0], new float[] {0f}));
    }
    assertThrows(FeedRejectedException.class, () -> rvmModel.run(feeds, List.of(pha)));
  }

  @Test
  void refusesAnUnknownOutput() {
    assertThrows(
        InvalidInputException.class, () -> rvm.run(new byte[0], Map.of("output", "foreground")));
  }

  @Test
  void garbageBytesAreInvalidInput() {
    assertThrows(InvalidInputException.class, () -> meet.run(new byte[] {1, 2}, Map.of()));
  }
}
