package io.retina.workers.imaging;

import io.retina.workers.tasks.ImageTask;
import io.retina.workers.tasks.ImageTasks;
import io.retina.workers.tfjs.ModelCacheFixtures;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import javax.imageio.ImageIO;

/**
 * The PNG encoding benchmark of docs/benchmarks.md: the JDK's ImageIO writer (what {@link
 * PngEncoder} used before) against {@link PngEncoder} at deflate levels 1, 3 and 6 with each
 * filter. Run with {@code ./mvnw -o -q -pl workers exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=io.retina.workers.imaging.PngEncoderBenchmark}; optional arguments: warm-up
 * rounds, then measured rounds. Prints a Markdown table.
 *
 * <p>Images, all from photographs that Debian and npm packages ship: ESRGAN-slim x2 outputs of
 * 128x128 photo crops (256x256 RGB, a super-resolution job's result); photos at 256x256 and 512x512
 * RGB; a remove-background cutout (256x256 RGBA) and its mask (256x256 grey), from the selfie
 * model. A photo is brought to a size by averaging it down by the whole factor that brings its
 * shorter side nearest above the size, then cropping its centre; one smaller than the size is
 * cropped square and enlarged with {@link Resampler}. Protocol: single-threaded; each round encodes
 * every image once with every encoder, the encoders in turn, so that a machine's drift spreads over
 * all of them; the warm-up rounds also check that every output decodes to its input. Time is the
 * mean wall-clock per image over the measured rounds.
 */
public final class PngEncoderBenchmark {

  private static final Path FACE_API =
      ModelCacheFixtures.cache().resolve("vladmandic_face-api_1.7.15/demo");
  private static final Path SKIMAGE = Path.of("/usr/lib/python3/dist-packages/skimage/data");
  private static final Path MATE = Path.of("/usr/share/backgrounds/mate/nature");

  /** One image to encode: RGBA pixels written as RGBA or RGB, or grey samples. */
  record Sample(String name, RgbaImage image, boolean alpha, byte[] gray) {
    static Sample rgb(String name, RgbaImage img) {
      return new Sample(name, img, false, null);
    }

    int width() {
      return image.width();
    }

    int height() {
      return image.height();
    }
  }

  /** Images of one kind, reported together. */
  record Group(String name, List<Sample> samples) {}

  /** One way of encoding. */
  record Encoder(String name, String level, String filter, Function<Sample, byte[]> encode) {}

  public static void main(String[] args) throws Exception {
    int warmup = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 15;
    List<Group> groups = groups();
    List<Encoder> encoders = encoders();
    int images = groups.stream().mapToInt(g -> g.samples().size()).sum();
    // [encoder][group]: nanoseconds over the measured rounds, and bytes of one round
    long[][] cpu = new long[encoders.size()][groups.size()];
    long[][] wall = new long[encoders.size()][groups.size()];
    long[][] bytes = new long[encoders.size()][groups.size()];
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    for (int r = 0; r < warmup + rounds; r++) {
      boolean measured = r >= warmup;
      for (int e = 0; e < encoders.size(); e++) {
        Encoder encoder = encoders.get(e);
        for (int g = 0; g < groups.size(); g++) {
          long size = 0;
          for (Sample s : groups.get(g).samples()) {
            long c0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            byte[] png = encoder.encode().apply(s);
            long t = System.nanoTime() - t0;
            long c = threads.getCurrentThreadCpuTime() - c0;
            if (measured) {
              cpu[e][g] += c;
              wall[e][g] += t;
            } else if (r == 0) {
              checkRoundTrip(encoder, s, png);
            }
            size += png.length;
          }
          bytes[e][g] = size;
        }
      }
      System.err.printf(Locale.ROOT, "round %d of %d done%n", r + 1, warmup + rounds);
    }
    String table = table(groups, encoders, cpu, wall, bytes, rounds);
    String header =
        String.format(
            Locale.ROOT,
            "%d images, %d warm-up and %d measured rounds, Java %s, %d CPUs visible%n%n",
            images,
            warmup,
            rounds,
            System.getProperty("java.version"),
            Runtime.getRuntime().availableProcessors());
    System.out.println(header + table);
  }

  static List<Encoder> encoders() {
    List<Encoder> encoders = new ArrayList<>();
    encoders.add(new Encoder("ImageIO (before)", "", "", PngEncoderBenchmark::imageIo));
    for (int level : new int[] {1, 3, 6}) {
      for (PngFilter filter : PngFilter.values()) {
        PngEncoder.Settings settings = new PngEncoder.Settings(level, filter);
        encoders.add(
            new Encoder(
                "PngEncoder",
                String.valueOf(level),
                filter.name().toLowerCase(Locale.ROOT),
                s ->
                    s.gray() != null
                        ? PngEncoder.encodeGray(s.width(), s.height(), s.gray(), settings)
                        : PngEncoder.encode(s.image(), s.alpha(), settings)));
      }
    }
    return encoders;
  }

  static List<Group> groups() throws Exception {
    List<Sample> esrgan = new ArrayList<>();
    try (ImageTask upscale =
        ImageTasks.load(
            "upscale", ModelCacheFixtures.esrganSlim(), Map.of("x2", "models/x2/model.json"))) {
      for (Path p :
          List.of(
              FACE_API.resolve("sample1.jpg"),
              SKIMAGE.resolve("coffee.png"),
              MATE.resolve("GreenMeadow.jpg"))) {
        RgbaImage small = square(decode(p), 128);
        byte[] png = upscale.run(PngEncoder.encode(small, false), Map.of("scale", "2")).body();
        esrgan.add(Sample.rgb(p.getFileName().toString(), ImageDecoder.decode(png)));
      }
    }
    List<Path> photos =
        List.of(
            SKIMAGE.resolve("astronaut.png"),
            SKIMAGE.resolve("chelsea.png"),
            MATE.resolve("Garden.jpg"),
            FACE_API.resolve("sample3.jpg"));
    List<Sample> photos256 = new ArrayList<>();
    List<Sample> photos512 = new ArrayList<>();
    for (Path p : photos) {
      RgbaImage img = decode(p);
      photos256.add(Sample.rgb(p.getFileName().toString(), square(img, 256)));
      photos512.add(Sample.rgb(p.getFileName().toString(), square(img, 512)));
    }
    RgbaImage person = square(decode(FACE_API.resolve("sample2.jpg")), 256);
    byte[] cutout;
    byte[] mask;
    try (ImageTask removeBackground =
        ImageTasks.load(
            "remove-background",
            ModelCacheFixtures.humanModels(),
            Map.of("model", "models/selfie.json"))) {
      byte[] input = PngEncoder.encode(person, false);
      cutout = removeBackground.run(input, Map.of("output", "cutout")).body();
      mask = removeBackground.run(input, Map.of("output", "mask")).body();
    }
    RgbaImage maskImage = ImageDecoder.decode(mask);
    byte[] gray = new byte[maskImage.pixels()];
    for (int i = 0; i < gray.length; i++) {
      gray[i] = maskImage.rgba()[i * 4];
    }
    return List.of(
        new Group("ESRGAN x2 256² RGB (3)", esrgan),
        new Group("photo 256² RGB (4)", photos256),
        new Group("photo 512² RGB (4)", photos512),
        new Group(
            "cutout 256² RGBA (1)",
            List.of(new Sample("cutout", ImageDecoder.decode(cutout), true, null))),
        new Group("mask 256² grey (1)", List.of(new Sample("mask", maskImage, false, gray))));
  }

  private static RgbaImage decode(Path p) throws Exception {
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException(
          p
              + " is missing: run the workers build and apt-get install mate-backgrounds"
              + " python3-skimage");
    }
    return ImageDecoder.decode(Files.readAllBytes(p));
  }

  /** The photo at {@code side x side}: averaged down by a whole factor, then its centre. */
  static RgbaImage square(RgbaImage img, int side) {
    int shorter = Math.min(img.width(), img.height());
    if (shorter >= 2 * side) {
      img = areaDownscale(img, shorter / side);
      shorter = Math.min(img.width(), img.height());
    }
    int crop = Math.min(shorter, side);
    RgbaImage centre = crop(img, (img.width() - crop) / 2, (img.height() - crop) / 2, crop, crop);
    if (crop == side) {
      return centre;
    }
    float[] big =
        Resampler.bilinear(
            PixelPacking.rgb(centre, 1f), crop, crop, 3, side, side, Resampler.Sampling.HALF_PIXEL);
    byte[] px = new byte[side * side * 4];
    for (int i = 0; i < side * side; i++) {
      px[i * 4] = PixelPacking.toByte(big[i * 3]);
      px[i * 4 + 1] = PixelPacking.toByte(big[i * 3 + 1]);
      px[i * 4 + 2] = PixelPacking.toByte(big[i * 3 + 2]);
      px[i * 4 + 3] = (byte) 255;
    }
    return new RgbaImage(side, side, px, false);
  }

  private static RgbaImage crop(RgbaImage img, int x, int y, int w, int h) {
    byte[] px = new byte[w * h * 4];
    for (int row = 0; row < h; row++) {
      System.arraycopy(img.rgba(), ((y + row) * img.width() + x) * 4, px, row * w * 4, w * 4);
    }
    return new RgbaImage(w, h, px, img.hasAlpha());
  }

  /** Each k x k block's mean, RGB only. */
  private static RgbaImage areaDownscale(RgbaImage img, int k) {
    int w = img.width() / k;
    int h = img.height() / k;
    byte[] px = new byte[w * h * 4];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        for (int c = 0; c < 3; c++) {
          int sum = 0;
          for (int dy = 0; dy < k; dy++) {
            for (int dx = 0; dx < k; dx++) {
              sum += img.rgba()[((y * k + dy) * img.width() + x * k + dx) * 4 + c] & 0xff;
            }
          }
          px[(y * w + x) * 4 + c] = (byte) Math.round(sum / (float) (k * k));
        }
        px[(y * w + x) * 4 + 3] = (byte) 255;
      }
    }
    return new RgbaImage(w, h, px, false);
  }

  /** What PngEncoder did before: copy into a BufferedImage and let ImageIO write it. */
  static byte[] imageIo(Sample s) {
    int w = s.width();
    int h = s.height();
    BufferedImage out;
    byte[] src = s.image().rgba();
    if (s.gray() != null) {
      out = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
      byte[] dst = ((DataBufferByte) out.getRaster().getDataBuffer()).getData();
      System.arraycopy(s.gray(), 0, dst, 0, s.gray().length);
    } else if (s.alpha()) {
      out = new BufferedImage(w, h, BufferedImage.TYPE_4BYTE_ABGR);
      byte[] dst = ((DataBufferByte) out.getRaster().getDataBuffer()).getData();
      for (int i = 0; i < w * h; i++) {
        dst[i * 4] = src[i * 4 + 3];
        dst[i * 4 + 1] = src[i * 4 + 2];
        dst[i * 4 + 2] = src[i * 4 + 1];
        dst[i * 4 + 3] = src[i * 4];
      }
    } else {
      out = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
      byte[] dst = ((DataBufferByte) out.getRaster().getDataBuffer()).getData();
      for (int i = 0; i < w * h; i++) {
        dst[i * 3] = src[i * 4 + 2];
        dst[i * 3 + 1] = src[i * 4 + 1];
        dst[i * 3 + 2] = src[i * 4];
      }
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      ImageIO.write(out, "png", bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static void checkRoundTrip(Encoder encoder, Sample s, byte[] png) throws Exception {
    RgbaImage read = ImageDecoder.decode(png);
    byte[] expected = s.image().rgba();
    if (!s.alpha() && s.image().hasAlpha()) {
      expected = expected.clone();
      for (int i = 3; i < expected.length; i += 4) {
        expected[i] = (byte) 255;
      }
    }
    if (!Arrays.equals(expected, read.rgba())) {
      throw new AssertionError(
          encoder.name() + " " + encoder.level() + " " + encoder.filter() + " changed " + s.name());
    }
  }

  static String table(
      List<Group> groups,
      List<Encoder> encoders,
      long[][] cpu,
      long[][] wall,
      long[][] bytes,
      int rounds) {
    StringBuilder t = new StringBuilder("| encoder | level | filter");
    groups.forEach(g -> t.append(" | ").append(g.name()).append(": ms / KiB"));
    t.append(" | all: ms (vs ImageIO) | all: wall ms | all: bytes (vs ImageIO) |\n|---|---|---");
    groups.forEach(g -> t.append("|---"));
    t.append("|---|---|---|\n");
    double[] base = totals(cpu[0], wall[0], bytes[0], rounds);
    for (int e = 0; e < encoders.size(); e++) {
      Encoder enc = encoders.get(e);
      t.append(String.format("| %s | %s | %s", enc.name(), enc.level(), enc.filter()));
      for (int g = 0; g < groups.size(); g++) {
        int n = groups.get(g).samples().size();
        t.append(
            String.format(
                Locale.ROOT,
                " | %.2f / %.1f",
                cpu[e][g] / 1e6 / rounds / n,
                bytes[e][g] / 1024.0 / n));
      }
      double[] total = totals(cpu[e], wall[e], bytes[e], rounds);
      t.append(
          String.format(
              Locale.ROOT,
              " | %.1f (%.0f%%) | %.1f (%.0f%%) | %,d (%+.1f%%) |%n",
              total[0],
              100 * total[0] / base[0],
              total[1],
              100 * total[1] / base[1],
              (long) total[2],
              100 * (total[2] / base[2] - 1)));
    }
    return t.toString();
  }

  /** One round of all images: CPU ms, wall ms, bytes. */
  private static double[] totals(long[] cpu, long[] wall, long[] bytes, int rounds) {
    return new double[] {
      Arrays.stream(cpu).sum() / 1e6 / rounds,
      Arrays.stream(wall).sum() / 1e6 / rounds,
      Arrays.stream(bytes).sum()
    };
  }
}
