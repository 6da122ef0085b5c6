package io.retina.workers.tasks;

import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.imaging.UnreadableImageException;
import io.retina.workers.tfjs.ModelCacheFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The super-resolution benchmark of docs/models.md: each ESRGAN version against bicubic on real
 * photographs from packages, at x2 and x4. Run with {@code bench/upscale.sh}; prints a Markdown
 * table per scale and a summary, and writes them to {@code workers/target/upscale-benchmark.md}.
 *
 * <p>Protocol, per photo: a photo whose shorter side is over 1023 pixels is first averaged down by
 * the whole factor that brings that side into 512..1023 (a wallpaper's pixels are then a camera's
 * ordinary pixels, not an oversampled blur); its centre 384x256 is the truth. The truth averaged
 * down by the scale (each s x s block one pixel) is upscaled back by each model, through the
 * upscale task's tiling, and by java.awt's bicubic. PSNR is over R, G and B on 0..255, SSIM over
 * the luma (BT.601); sharpness is the variance of the luma's Laplacian. Time is wall-clock per
 * output megapixel on whatever the machine has, after one warm-up run per model and scale.
 */
public final class UpscaleBenchmark {

  static final int WIDTH = 384;
  static final int HEIGHT = 256;
  static final int[] SCALES = {2, 4};

  /** A version of super-resolution: its package in the model cache and its pixel range. */
  record Version(String name, String pkg, String range) {}

  static final List<Version> VERSIONS =
      List.of(
          new Version("slim", "upscalerjs_esrgan-slim_1.0.0", "0..255"),
          new Version("medium", "upscalerjs_esrgan-medium_1.0.0", "0..255"),
          new Version("thick", "upscalerjs_esrgan-thick_1.0.0", "0..1"));

  /** The versions to run: all, or those named in {@code -Dbench.versions=slim,thick}. */
  static List<Version> versions() {
    String only = System.getProperty("bench.versions", "");
    return VERSIONS.stream()
        .filter(v -> only.isEmpty() || List.of(only.split(",")).contains(v.name()))
        .toList();
  }

  /**
   * The columns of a table: each version as served ({@code fidelity=input}) and its generator's
   * output as it is ({@code fidelity=generator}, "raw").
   */
  static List<String> columns() {
    List<String> columns = new ArrayList<>();
    for (Version v : versions()) {
      columns.add(v.name());
      columns.add(v.name() + " raw");
    }
    return columns;
  }

  /** Where the photographs come from: the build's model cache and two Debian packages. */
  static List<Path> photos() {
    List<Path> photos = new ArrayList<>();
    Path faceApi = ModelCacheFixtures.cache().resolve("vladmandic_face-api_1.7.15/demo");
    for (int i = 1; i <= 6; i++) {
      photos.add(faceApi.resolve("sample" + i + ".jpg"));
    }
    // mate-backgrounds: the "nature" set, all camera photographs
    for (String n :
        List.of(
            "Aqua",
            "Blinds",
            "Dune",
            "FreshFlower",
            "Garden",
            "GreenMeadow",
            "LadyBird",
            "RainDrops",
            "Storm",
            "TwoWings",
            "Wood",
            "YellowFlower")) {
      photos.add(Path.of("/usr/share/backgrounds/mate/nature/" + n + ".jpg"));
    }
    // python3-skimage: its colour photographs
    Path skimage = Path.of("/usr/lib/python3/dist-packages/skimage/data");
    for (String n :
        List.of(
            "astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png")) {
      photos.add(skimage.resolve(n));
    }
    return photos;
  }

  /** The truth of the protocol: a large photo averaged down, then its centre WIDTH x HEIGHT. */
  static RgbaImage truth(Path photo) throws IOException, UnreadableImageException {
    RgbaImage img = ImageDecoder.decode(Files.readAllBytes(photo));
    int shorter = Math.min(img.width(), img.height());
    if (shorter > 1023) {
      img = Quality.areaDownscale(img, shorter / 512);
    }
    return Quality.crop(img, (img.width() - WIDTH) / 2, (img.height() - HEIGHT) / 2, WIDTH, HEIGHT);
  }

  /** One upscale measured against the truth. */
  record Score(double psnr, double ssim, double sharpness) {
    static Score of(RgbaImage out, RgbaImage truth) {
      return new Score(
          ImageFixtures.psnr(out, truth), Quality.ssim(out, truth), Quality.laplacianVariance(out));
    }
  }

  public static void main(String[] args) throws Exception {
    List<Path> photos = photos().stream().filter(Files::isRegularFile).toList();
    if (photos.size() < 20) {
      throw new IllegalStateException(
          "found "
              + photos.size()
              + " of the photos: run the workers build and apt-get install mate-backgrounds"
              + " python3-skimage");
    }
    Map<String, RgbaImage> truths = new LinkedHashMap<>();
    for (Path p : photos) {
      truths.put(p.getFileName().toString(), truth(p));
    }
    StringBuilder report = new StringBuilder();
    for (int s : SCALES) {
      Map<String, Map<String, Score>> byPhoto = new LinkedHashMap<>();
      Map<String, Double> msPerMp = new LinkedHashMap<>();
      truths.forEach(
          (name, truth) -> {
            Map<String, Score> scores = new LinkedHashMap<>();
            scores.put(
                "bicubic", Score.of(Quality.bicubic(Quality.areaDownscale(truth, s), s), truth));
            byPhoto.put(name, scores);
          });
      for (Version v : versions()) {
        Path pkg = ModelCacheFixtures.cache().resolve(v.pkg());
        Map<String, String> options =
            Map.of(
                "x" + s, "models/x" + s + "/model.json", UpscaleTask.PixelRange.OPTION, v.range());
        try (UpscaleTask task = (UpscaleTask) ImageTasks.load("upscale", pkg, options)) {
          task.upscale(Quality.areaDownscale(truths.values().iterator().next(), s), s); // warm-up
          long nanos = 0;
          long finishNanos = 0;
          long outPixels = 0;
          for (var e : truths.entrySet()) {
            RgbaImage small = Quality.areaDownscale(e.getValue(), s);
            long t0 = System.nanoTime();
            RgbaImage raw = task.upscale(small, s, UpscaleTask.Finish.GENERATOR);
            long t1 = System.nanoTime();
            byte[] finished = raw.rgba().clone();
            UpscaleTask.Finish.DEFAULT.apply(small, finished, s);
            nanos += System.nanoTime() - t0;
            finishNanos += System.nanoTime() - t1;
            outPixels += (long) raw.width() * raw.height();
            RgbaImage out = new RgbaImage(raw.width(), raw.height(), finished, false);
            byPhoto.get(e.getKey()).put(v.name(), Score.of(out, e.getValue()));
            byPhoto.get(e.getKey()).put(v.name() + " raw", Score.of(raw, e.getValue()));
          }
          msPerMp.put(v.name(), nanos / 1e6 / (outPixels / 1e6));
          msPerMp.put(v.name() + " raw", (nanos - finishNanos) / 1e6 / (outPixels / 1e6));
        }
        System.err.printf(
            Locale.ROOT, "x%d %s done: %.0f ms/MP%n", s, v.name(), msPerMp.get(v.name()));
      }
      String table = table(s, byPhoto, msPerMp);
      System.out.println(table);
      report.append(table).append('\n');
    }
    Path out = Path.of("target", "upscale-benchmark.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, report);
    System.err.println("written to " + out.toAbsolutePath());
  }

  /** Per photo: each version's PSNR and SSIM and its lead over bicubic; then the summary. */
  static String table(int s, Map<String, Map<String, Score>> byPhoto, Map<String, Double> msPerMp) {
    StringBuilder t = new StringBuilder();
    t.append(String.format(Locale.ROOT, "### x%d%n%n| photo | bicubic PSNR / SSIM", s));
    columns().forEach(c -> t.append(" | ").append(c).append(" PSNR (vs bicubic) / SSIM"));
    t.append(" |\n|---|---");
    columns().forEach(c -> t.append("|---"));
    t.append("|\n");
    byPhoto.forEach(
        (photo, scores) -> {
          Score b = scores.get("bicubic");
          t.append(String.format(Locale.ROOT, "| %s | %.2f / %.4f", photo, b.psnr(), b.ssim()));
          for (String c : columns()) {
            Score m = scores.get(c);
            t.append(
                String.format(
                    Locale.ROOT,
                    " | %.2f (%+.2f) / %.4f",
                    m.psnr(),
                    m.psnr() - b.psnr(),
                    m.ssim()));
          }
          t.append(" |\n");
        });
    t.append(
        "\n| version | mean PSNR vs bicubic | worst | photos beating bicubic | mean SSIM (bicubic)"
            + " | sharpness vs bicubic (median) | ms per output MP |\n|---|---|---|---|---|---|---|\n");
    for (String c : columns()) {
      double sum = 0;
      double worst = Double.MAX_VALUE;
      String worstPhoto = "";
      int wins = 0;
      double ssim = 0;
      double bicubicSsim = 0;
      List<Double> sharper = new ArrayList<>();
      for (var e : byPhoto.entrySet()) {
        Score b = e.getValue().get("bicubic");
        Score m = e.getValue().get(c);
        double lead = m.psnr() - b.psnr();
        sum += lead;
        if (lead < worst) {
          worst = lead;
          worstPhoto = e.getKey();
        }
        wins += lead > 0 ? 1 : 0;
        ssim += m.ssim();
        bicubicSsim += b.ssim();
        sharper.add(m.sharpness() / b.sharpness());
      }
      int n = byPhoto.size();
      sharper.sort(null);
      t.append(
          String.format(
              Locale.ROOT,
              "| %s | %+.2f dB | %+.2f dB (%s) | %d of %d | %.4f (%.4f) | %.2fx | %.0f |%n",
              c,
              sum / n,
              worst,
              worstPhoto,
              wins,
              n,
              ssim / n,
              bicubicSsim / n,
              sharper.get(n / 2),
              msPerMp.get(c)));
    }
    return t.toString();
  }
}
