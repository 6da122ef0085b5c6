package io.retina.workers.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.PngEncoder;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.training.DenoiserTrainer;
import io.retina.workers.training.DenoiserWeights;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The denoise-trained task on a network with random weights: what it answers depends on every pixel
 * it can see, so any seam or misplaced window would show. Whether a trained one denoises is {@link
 * io.retina.workers.training.DenoiserTrainerTest}'s to show.
 */
class TrainedDenoiseTaskTest {

  private static final Map<String, String> OPTIONS = Map.of("model", DenoiserTrainer.ARTIFACT_FILE);

  @Test
  void windowsMeetWithoutSeams(@TempDir Path dir) throws Exception {
    RgbaImage img = ImageFixtures.pattern(300, 202, true);
    byte[] png = PngEncoder.encode(img, true);
    try (TrainedDenoiseTask task = load(dir)) {
      RgbaImage whole = decode(task.tiledBy(1024).run(png, Map.of()));
      List<int[]> progress = new ArrayList<>();
      RgbaImage windowed =
          decode(task.tiledBy(64).run(png, Map.of(), (d, t) -> progress.add(new int[] {d, t})));

      // the network changes the image a lot, so matching windows are no accident
      ImageFixtures.Diff changed = ImageFixtures.rgbDiff(whole, img);
      assertTrue(changed.mean() > 10, "the random network changed the image by " + changed);
      ImageFixtures.Diff seams = ImageFixtures.rgbDiff(windowed, whole);
      System.out.println("denoise-trained: windows of 64 against one run: " + seams);
      // the same sums in another order may round a value the other way, never further; with a
      // context of 6 pixels, under the network's reach, windows differed by up to 26 levels
      assertTrue(seams.max() <= 1, "windows of 64 against one run: " + seams);
      assertEquals(20, progress.size(), "5 x 4 windows");
      assertEquals(20, progress.get(19)[0]);
      assertEquals(20, progress.get(19)[1]);
      for (int i = 3; i < img.rgba().length; i += 4) {
        assertEquals(img.rgba()[i], windowed.rgba()[i], "alpha at pixel " + i / 4);
      }
    }
  }

  @Test
  void answersJpegWhenAsked(@TempDir Path dir) throws Exception {
    byte[] png = PngEncoder.encode(ImageFixtures.pattern(50, 30, false), false);
    try (TrainedDenoiseTask task = load(dir)) {
      TaskOutput out = task.run(png, Map.of("format", "jpeg"));
      assertEquals("image/jpeg", out.mediaType());
      assertEquals(50, ImageDecoder.decode(out.body()).width());
    }
  }

  @Test
  void refusesAnImageOverThePixelLimit(@TempDir Path dir) throws Exception {
    // one row more than the largest image it takes, of one colour so that it encodes fast
    int w = 4096;
    int h = (int) (TrainedDenoiseTask.MAX_PIXELS / w) + 1;
    byte[] png = PngEncoder.encode(new RgbaImage(w, h, new byte[w * h * 4], false), false);
    try (TrainedDenoiseTask task = load(dir)) {
      InvalidInputException e =
          assertThrows(InvalidInputException.class, () -> task.run(png, Map.of()));
      assertTrue(e.getMessage().startsWith("a 4096x3073 image is over"), e.getMessage());
    }
  }

  @Test
  void refusesADenoiserOfAnotherVersion(@TempDir Path dir) throws Exception {
    String json =
        new String(randomWeights().toJson(), StandardCharsets.UTF_8)
            .replace("\"version\":1", "\"version\":2");
    Files.writeString(dir.resolve(DenoiserTrainer.ARTIFACT_FILE), json);
    IOException e =
        assertThrows(IOException.class, () -> ImageTasks.load("denoise-trained", dir, OPTIONS));
    assertTrue(e.getMessage().contains("version 2"), e.getMessage());
  }

  /** The task, loaded as a worker loads it, on {@link #randomWeights}. */
  private static TrainedDenoiseTask load(Path dir) throws IOException {
    Files.write(dir.resolve(DenoiserTrainer.ARTIFACT_FILE), randomWeights().toJson());
    return (TrainedDenoiseTask) ImageTasks.load("denoise-trained", dir, OPTIONS);
  }

  /**
   * Every kernel drawn at He's spread (the last one included, unlike a training's start, which
   * answers its input) and every bias small: a network that moves every pixel by its neighbours.
   */
  private static DenoiserWeights randomWeights() {
    DenoiserWeights start = DenoiserWeights.untrained(1, 0.1);
    SplittableRandom random = new SplittableRandom(5);
    Map<String, float[]> drawn = new HashMap<>();
    for (Map.Entry<String, float[]> p : start.parameters().entrySet()) {
      float[] v = new float[p.getValue().length];
      String layer = p.getKey().substring(0, p.getKey().lastIndexOf('_'));
      int out = start.parameters().get(layer + "_bias").length;
      double spread = p.getKey().endsWith("_bias") ? 0.05 : Math.sqrt(2.0 / (v.length / out));
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (random.nextGaussian() * spread);
      }
      drawn.put(p.getKey(), v);
    }
    return new DenoiserWeights(drawn, start.noiseSigma());
  }

  private static RgbaImage decode(TaskOutput out) throws Exception {
    assertEquals("image/png", out.mediaType());
    return ImageDecoder.decode(out.body());
  }
}
