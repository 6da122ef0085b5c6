package io.retina.workers.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.PngEncoder;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tfjs.ModelCacheFixtures;
import io.retina.workers.tfjs.TfModel;
import io.retina.workers.tfjs.TfjsModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** ESRGAN-slim through the upscale task, against the package's own TF.js results. */
class UpscaleTaskTest {

  private static final Path PACKAGE = ModelCacheFixtures.esrganSlim();
  private static ImageTask task;

  @BeforeAll
  static void load() throws Exception {
    task =
        ImageTasks.load(
            "upscale", PACKAGE, Map.of("x2", "models/x2/model.json", "x4", "models/x4/model.json"));
  }

  @AfterAll
  static void close() {
    task.close();
  }

  private static byte[] fixture() throws Exception {
    return Files.readAllBytes(PACKAGE.resolve("assets/fixture.png"));
  }

  private static RgbaImage runDecoded(byte[] input, String scale) throws Exception {
    TaskOutput out = task.run(input, Map.of("scale", scale));
    assertEquals("image/png", out.mediaType());
    return ImageDecoder.decode(out.body());
  }

  @Test
  void x2OutputIsExactlyTwiceTheInputSize() throws Exception {
    RgbaImage out = runDecoded(PngEncoder.encode(ImageFixtures.pattern(37, 23, false), false), "2");
    assertEquals(74, out.width());
    assertEquals(46, out.height());
  }

  @Test
  void x4OutputIsExactlyFourTimesTheInputSize() throws Exception {
    RgbaImage out = runDecoded(PngEncoder.encode(ImageFixtures.pattern(37, 23, false), false), "4");
    assertEquals(148, out.width());
    assertEquals(92, out.height());
  }

  @Test
  void defaultScaleIsTheSmallestConfigured() throws Exception {
    RgbaImage out = ImageDecoder.decode(task.run(fixture(), Map.of()).body());
    assertEquals(256, out.width());
  }

  /** Measured here: mean abs diff 0.000015, max 1 (of 255) per channel: rounding only. */
  @Test
  void x2MatchesTheTfjsSampleOfThePackage() throws Exception {
    RgbaImage expected =
        ImageDecoder.decode(Files.readAllBytes(PACKAGE.resolve("assets/samples/2x/result.png")));
    ImageFixtures.Diff d = ImageFixtures.rgbDiff(runDecoded(fixture(), "2"), expected);
    System.out.println("esrgan-slim x2 vs TF.js sample: " + d);
    assertTrue(d.mean() < 0.05 && d.max() <= 2, d.toString());
  }

  /** Measured here: mean abs diff 0.000033, max 1 (of 255) per channel: rounding only. */
  @Test
  void x4MatchesTheTfjsSampleOfThePackage() throws Exception {
    RgbaImage expected =
        ImageDecoder.decode(Files.readAllBytes(PACKAGE.resolve("assets/samples/4x/result.png")));
    ImageFixtures.Diff d = ImageFixtures.rgbDiff(runDecoded(fixture(), "4"), expected);
    System.out.println("esrgan-slim x4 vs TF.js sample: " + d);
    assertTrue(d.mean() < 0.05 && d.max() <= 2, d.toString());
  }

  @Test
  void tiledOutputMatchesUntiledOutput() throws Exception {
    RgbaImage input = ImageFixtures.mosaic(ImageDecoder.decode(fixture()), 200, 150);
    try (TfModel x2 = TfjsModels.load(PACKAGE.resolve("models/x2/model.json"))) {
      UpscaleTask tiled = new UpscaleTask(Map.of(2, x2), 64, UpscaleTask.MARGIN);
      UpscaleTask whole = new UpscaleTask(Map.of(2, x2), 1024, 0);
      ImageFixtures.Diff d =
          ImageFixtures.rgbDiff(tiled.upscale(input, 2), whole.upscale(input, 2));
      System.out.println("esrgan-slim x2 tiled (64px, 16px margin) vs whole: " + d);
      assertTrue(d.max() <= 1 && d.mean() < 0.01, d.toString());
    }
  }

  @Test
  void keepsTheInputsAlphaChannel() throws Exception {
    RgbaImage out = runDecoded(PngEncoder.encode(ImageFixtures.pattern(20, 10, true), true), "2");
    assertTrue(out.hasAlpha());
    assertEquals(0, out.rgba()[3] & 0xff, "left edge is transparent");
    assertEquals(255, out.rgba()[(40 - 1) * 4 + 3] & 0xff, "right edge is opaque");
  }

  @Test
  void concurrentRunsGiveTheSameResult() throws Exception {
    byte[] input = PngEncoder.encode(ImageFixtures.pattern(48, 40, false), false);
    byte[] expected = task.run(input, Map.of("scale", "2")).body();
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      java.util.List<java.util.concurrent.Future<byte[]>> runs = new java.util.ArrayList<>();
      for (int i = 0; i < 8; i++) {
        runs.add(pool.submit(() -> task.run(input, Map.of("scale", "2")).body()));
      }
      for (var run : runs) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected, run.get());
      }
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void refusesAScaleThatIsNotConfigured() {
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class, () -> task.run(new byte[0], Map.of("scale", "3")));
    assertEquals("parameter 'scale' must be one of [2, 4], not '3'", e.getMessage());
  }

  @Test
  void garbageBytesAreInvalidInput() {
    assertThrows(InvalidInputException.class, () -> task.run("not an image".getBytes(), Map.of()));
  }

  @Test
  void truncatedPngIsInvalidInput() throws Exception {
    byte[] png = fixture();
    byte[] truncated = java.util.Arrays.copyOf(png, png.length / 2);
    assertThrows(InvalidInputException.class, () -> task.run(truncated, Map.of()));
  }

  @Test
  void aBatchOfJobsGivesEachJobItsOwnOutput() throws Exception {
    RgbaImage photo = ImageDecoder.decode(fixture());
    byte[] a = fixture();
    byte[] b = PngEncoder.encode(ImageFixtures.mosaic(photo, 200, 150), false);
    byte[] c = PngEncoder.encode(ImageFixtures.mosaic(photo, 128, 128), false);
    var items =
        java.util.List.of(
            new ImageTask.BatchItem(a, Map.of("scale", "2")),
            new ImageTask.BatchItem(b, Map.of("scale", "2")),
            new ImageTask.BatchItem("not an image".getBytes(), Map.of("scale", "2")),
            new ImageTask.BatchItem(c, Map.of("scale", "4")),
            new ImageTask.BatchItem(c, Map.of("scale", "2")));
    var results = task.runBatch(items);
    assertEquals(items.size(), results.size());
    assertNotNull(results.get(2).refused(), "a bad image fails alone");
    for (int i : new int[] {0, 1, 3, 4}) {
      assertNull(results.get(i).refused());
      RgbaImage batched = ImageDecoder.decode(results.get(i).output().body());
      RgbaImage alone = runDecoded(items.get(i).encodedImage(), items.get(i).params().get("scale"));
      ImageFixtures.Diff d = ImageFixtures.rgbDiff(batched, alone);
      assertTrue(d.max() <= 1 && d.mean() < 0.01, "item " + i + ": " + d);
    }
  }
}
