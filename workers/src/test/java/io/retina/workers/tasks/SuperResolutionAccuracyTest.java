package io.retina.workers.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.retina.platform.models.ModelVersion;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tfjs.ModelCacheFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The catalog's active super-resolution version against bicubic on the 23 photographs of {@link
 * UpscaleBenchmark} (face-api's samples, and two Debian packages: mate-backgrounds and
 * python3-skimage), by the benchmark's protocol, as a job without parameters gets it. Fails if the
 * version loses its lead over bicubic, falls behind it on any photo by more than it did when
 * measured, stops being sharper, or if the finish ever lowers a photo's PSNR.
 */
class SuperResolutionAccuracyTest {

  /**
   * Per scale: the least mean lead over bicubic in dB, and the least lead on any one photo.
   * Measured with slim (docs/models.md): x2 +0.96 dB, every photo ahead, the least by 0.06 dB
   * (Storm, a smooth wallpaper on which bicubic is at 47 dB); x4 +0.63 dB, every photo ahead by at
   * least 0.09 dB. The mean floors sit about 0.2 dB under; the per-photo floors keep every photo
   * ahead.
   */
  @ParameterizedTest(name = "x{0}")
  @CsvSource({"2, 0.75, 0.02", "4, 0.45, 0.05"})
  void theActiveVersionBeatsBicubicOnPhotographs(int scale, double minMeanLead, double minLead)
      throws Exception {
    List<Path> photos = UpscaleBenchmark.photos();
    for (Path p : photos) {
      assertTrue(
          Files.isRegularFile(p),
          p + " is missing: apt-get install mate-backgrounds python3-skimage");
    }
    ModelVersion active = activeVersion();
    Map<String, String> options = new HashMap<>(active.artifact());
    Path root = ModelCacheFixtures.cache().resolve(options.remove("root"));
    double leads = 0;
    List<String> losses = new ArrayList<>();
    List<Double> sharper = new ArrayList<>();
    try (UpscaleTask task = (UpscaleTask) ImageTasks.load("upscale", root, options)) {
      for (Path p : photos) {
        RgbaImage truth = UpscaleBenchmark.truth(p);
        RgbaImage small = Quality.areaDownscale(truth, scale);
        RgbaImage raw = task.upscale(small, scale, UpscaleTask.Finish.GENERATOR);
        byte[] px = raw.rgba().clone();
        UpscaleTask.Finish.of(Map.of()).apply(small, px, scale);
        RgbaImage served = new RgbaImage(raw.width(), raw.height(), px, false);
        RgbaImage bicubic = Quality.bicubic(small, scale);
        double psnr = ImageFixtures.psnr(served, truth);
        double lead = psnr - ImageFixtures.psnr(bicubic, truth);
        double rawPsnr = ImageFixtures.psnr(raw, truth);
        System.out.printf(
            "%s x%d %s: %.2f dB, %+.3f vs bicubic, %+.2f vs the generator alone%n",
            active.ref(), scale, p.getFileName(), psnr, lead, psnr - rawPsnr);
        assertTrue(psnr > rawPsnr, p + ": the finish lowered PSNR from " + rawPsnr);
        leads += lead;
        if (lead < minLead) {
          losses.add(String.format("%s %+.3f dB", p.getFileName(), lead));
        }
        sharper.add(Quality.meanGradient(served) / Quality.meanGradient(bicubic));
      }
    }
    double meanLead = leads / photos.size();
    sharper.sort(null);
    double medianSharper = sharper.get(sharper.size() / 2);
    System.out.printf(
        "%s x%d: mean lead %+.2f dB, below the floor on %s, median mean-gradient %.2fx bicubic's%n",
        active.ref(), scale, meanLead, losses, medianSharper);
    assertTrue(meanLead >= minMeanLead, "mean lead " + meanLead + " dB");
    assertTrue(losses.isEmpty(), "a lead under " + minLead + " dB on " + losses);
    assertTrue(medianSharper > 1.05, "median mean gradient " + medianSharper + "x bicubic's");
  }

  private static ModelVersion activeVersion() throws Exception {
    List<ModelVersion> active =
        CatalogFixtures.versions("models.conf", "super-resolution").stream()
            .filter(v -> v.status() == ModelVersion.Status.ACTIVE)
            .toList();
    assertEquals(1, active.size(), "active super-resolution versions: " + active);
    return active.get(0);
  }
}
