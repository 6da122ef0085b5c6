package io.retina.workers.tfjs;

import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tasks.ImageTasks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Which TensorFlow session options serve a CPU best (docs/benchmarks.md, "Session options"):
 * ESRGAN-slim x2 on its 128x128 fixture, with grappler's remapper off and on, intra-op threads 1
 * and 2 (0 = TensorFlow's default), and 1 or 2 runs at once; images a second, and the largest
 * difference of each setting's output from the first's. Run with {@code bench/session-options.sh};
 * set {@code TF_ENABLE_ONEDNN_OPTS} to measure either kernel path.
 */
public final class SessionOptionsBenchmark {
  private SessionOptionsBenchmark() {}

  record Setting(boolean remapping, int intraOp, int concurrent) {}

  public static void main(String[] args) throws Exception {
    Locale.setDefault(Locale.ROOT);
    long millis = Long.getLong("bench.phaseMillis", 8_000);
    Path root = ImageTasks.defaultModelCache().resolve("upscalerjs_esrgan-slim_1.0.0");
    RgbaImage img = ImageDecoder.decode(Files.readAllBytes(root.resolve("assets/fixture.png")));
    float[] rgb = PixelPacking.rgb(img, 0, 0, img.width(), img.height(), 1f);
    FloatTensor input = FloatTensor.image(img.height(), img.width(), 3, rgb);
    Path model = root.resolve("models/x2/model.json");
    List<Setting> settings = new ArrayList<>();
    for (boolean remapping : new boolean[] {false, true}) {
      for (int intra : new int[] {0, 1, 2}) {
        for (int concurrent : new int[] {1, 2}) {
          settings.add(new Setting(remapping, intra, concurrent));
        }
      }
    }
    System.out.printf(
        "TF_ENABLE_ONEDNN_OPTS=%s%n",
        System.getenv().getOrDefault("TF_ENABLE_ONEDNN_OPTS", "unset"));
    System.out.println("| remapper | intra-op threads | runs at once | images/s | max abs diff |");
    System.out.println("|---|---|---|---|---|");
    float[] reference = null;
    for (Setting s : settings) {
      System.setProperty("retina.tf.remapping", Boolean.toString(s.remapping()));
      System.setProperty("retina.tf.intra-op-threads", Integer.toString(s.intraOp()));
      try (TfModel m = TfjsModels.load(model)) {
        float[] out = m.run(input).data();
        if (reference == null) {
          reference = out;
        }
        double diff = 0;
        for (int i = 0; i < out.length; i++) {
          diff = Math.max(diff, Math.abs(out[i] - reference[i]));
        }
        double perSecond = throughput(m, input, s.concurrent(), millis);
        System.out.printf(
            "| %s | %s | %d | %.1f | %.4f |%n",
            s.remapping() ? "on" : "off",
            s.intraOp() == 0 ? "default" : Integer.toString(s.intraOp()),
            s.concurrent(),
            perSecond,
            diff);
      }
    }
    System.exit(0);
  }

  static double throughput(TfModel m, FloatTensor input, int threads, long millis)
      throws Exception {
    for (int i = 0; i < 3; i++) {
      m.run(input);
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    AtomicBoolean stop = new AtomicBoolean();
    List<Future<Long>> counts = new ArrayList<>();
    long start = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      counts.add(
          pool.submit(
              () -> {
                long n = 0;
                while (!stop.get()) {
                  m.run(input);
                  n++;
                }
                return n;
              }));
    }
    Thread.sleep(millis);
    stop.set(true);
    long total = 0;
    for (Future<Long> f : counts) {
      total += f.get();
    }
    pool.shutdown();
    return total / ((System.nanoTime() - start) / 1e9);
  }
}
