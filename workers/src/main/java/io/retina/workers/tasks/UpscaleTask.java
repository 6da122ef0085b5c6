package io.retina.workers.tasks;

import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.Resampler;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.TfModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Super-resolution: one generator per scale, input and output RGB in the generator's {@link
 * PixelRange}. Large images go through the model in overlapping tiles so that memory stays bounded
 * whatever the image size. The generator's output is then finished as the job asks ({@link
 * Finish}): by default its detail kept at edges and toned down to bicubic's where the input is
 * smooth, then made to agree with the input, which on photographs is closer to the real photo than
 * either the generator or bicubic. Thread-safe: runs share only the models, which are.
 */
final class UpscaleTask implements ImageTask {

  /**
   * The values a generator takes and gives for black to white. UpscalerJS's RDN generators
   * (ESRGAN-slim and -medium) work on 0..255, its RRDN one (ESRGAN-thick) on 0..1.
   */
  enum PixelRange {
    BYTE("0..255", 255f),
    UNIT("0..1", 1f);

    /** The artifact option that names a version's range; absent means {@link #BYTE}. */
    static final String OPTION = "range";

    private final String text;
    private final float white;

    PixelRange(String text, float white) {
      this.text = text;
      this.white = white;
    }

    /** The range an artifact option spells {@code text}: "0..255" or "0..1". */
    static PixelRange parse(String text) {
      for (PixelRange r : values()) {
        if (r.text.equals(text)) {
          return r;
        }
      }
      throw new IllegalArgumentException(
          "artifact option '" + OPTION + "' is 0..255 or 0..1, not '" + text + "'");
    }
  }

  /**
   * Input pixels per tile side. A 128px tile plus margins runs in ~0.1s on a CPU core and needs ~60
   * MB of activations at x4 (64 channels at 160x160 in, 48 at 640x640 out).
   */
  static final int TILE = 128;

  /**
   * Context pixels a tile sees beyond its core on each side, cropped after the run. ESRGAN-slim's
   * receptive field reaches ~10 input pixels, so 16 makes tiled output match untiled.
   */
  static final int MARGIN = 16;

  /**
   * The largest output: 64 MP of RGBA is 256 MB, the most one job should hold. At x8 that is a
   * 1000x1000 input; the worker refuses a larger one before running the model.
   */
  static final long MAX_OUTPUT_PIXELS = 64_000_000L;

  /**
   * Tiles per batched run: eight 160x160 tiles give the matrix kernels enough rows to be efficient
   * while, up to x4, keeping the run within {@link #MAX_RUN_FEATURE_BYTES}.
   */
  static final int MAX_TILES_PER_RUN = 8;

  /**
   * The largest upsampled feature map one run may hold. The generator's last layers upsample 3s²
   * channels to the output size, 3s⁴ floats per input pixel: 3 KB at x4 but 48 KB at x8, where a
   * single 160x160 tile would hold 1.26 GB. A run's native peak is about twice its feature map
   * (measured on CPU: eight x4 tiles, 630 MB of map, peaked 1.15 GB above idle), so this budget
   * keeps every scale's runs near the eight x4 tiles that were always allowed: x2 to x4 run as
   * before, x8 runs one 84-pixel tile at a time.
   */
  static final long MAX_RUN_FEATURE_BYTES = 640L << 20;

  /** The smallest tile core the feature-map budget may shrink tiles to. */
  private static final int MIN_TILE = 16;

  private final TreeMap<Integer, TfModel> models;
  private final PixelRange range;
  private final List<String> scales;
  private final int tile;
  private final int margin;
  private final long runFeatureBytes;

  UpscaleTask(Map<Integer, TfModel> models) {
    this(models, PixelRange.BYTE);
  }

  UpscaleTask(Map<Integer, TfModel> models, PixelRange range) {
    this(models, range, TILE, MARGIN, MAX_RUN_FEATURE_BYTES);
  }

  /**
   * Tiles of at most {@code tile} input pixels a side with {@code margin} of context, shrunk and
   * batched so that no run holds more than {@code runFeatureBytes} of upsampled feature map.
   */
  UpscaleTask(
      Map<Integer, TfModel> models, PixelRange range, int tile, int margin, long runFeatureBytes) {
    this.models = new TreeMap<>(models);
    this.range = range;
    this.scales = this.models.keySet().stream().map(String::valueOf).toList();
    this.tile = tile;
    this.margin = margin;
    this.runFeatureBytes = runFeatureBytes;
  }

  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params)
      throws InvalidInputException {
    return run(encodedImage, params, Progress.NONE);
  }

  /** Reports each model run (a batch of tiles) done. */
  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params, Progress progress)
      throws InvalidInputException {
    int scale = Integer.parseInt(Inputs.choice(params, "scale", scales, scales.get(0)));
    Finish finish = Finish.of(params);
    Outputs.check(params);
    RgbaImage img = Inputs.decode(encodedImage);
    checkOutputSize(img, scale);
    RgbaImage out = upscaleAll(List.of(img), scale, new Finish[] {finish}, progress).get(0);
    return Outputs.image(out, params);
  }

  /**
   * What is done to the generator's output before it is served: its detail mixed with bicubic's
   * ({@link DetailBlend}), then made to agree with the input ({@link InputConsistency}).
   *
   * @param detail the generator's share at the input's edges, 0 to 1
   * @param matchInput whether to mix and make agree at all; false serves the generator's output
   */
  record Finish(float detail, boolean matchInput) {

    /** The generator's output as it is. */
    static final Finish GENERATOR = new Finish(1f, false);

    /**
     * What a job gets without parameters: 80% of the generator's detail at edges, less where the
     * input is smooth, agreeing with the input.
     */
    static final Finish DEFAULT = new Finish(0.8f, true);

    /**
     * From a job's parameters: {@code fidelity} is {@code input} (the default) or {@code
     * generator}; {@code detail} is a whole percentage, 80 by default.
     */
    static Finish of(Map<String, String> params) throws InvalidInputException {
      String fidelity = Inputs.choice(params, "fidelity", List.of("input", "generator"), "input");
      int detail = Inputs.whole(params, "detail", 0, 100, Math.round(DEFAULT.detail * 100));
      return fidelity.equals("generator") ? GENERATOR : new Finish(detail / 100f, true);
    }

    void apply(RgbaImage in, byte[] out, int scale) {
      if (matchInput) {
        DetailBlend.apply(in.rgba(), in.width(), in.height(), out, scale, detail);
        InputConsistency.apply(in.rgba(), in.width(), in.height(), out, scale);
      }
    }
  }

  /**
   * Runs images of several jobs together: tiles of the same shape, from any of the images, go
   * through the model in one batched run. ESRGAN's graph takes any batch size, and a test proves a
   * batch's outputs equal the images' separate outputs.
   */
  @Override
  public List<BatchResult> runBatch(List<BatchItem> items) {
    BatchResult[] results = new BatchResult[items.size()];
    Map<Integer, List<Integer>> byScale = new TreeMap<>();
    RgbaImage[] images = new RgbaImage[items.size()];
    Finish[] finishes = new Finish[items.size()];
    for (int i = 0; i < items.size(); i++) {
      try {
        BatchItem item = items.get(i);
        int scale = Integer.parseInt(Inputs.choice(item.params(), "scale", scales, scales.get(0)));
        finishes[i] = Finish.of(item.params());
        Outputs.check(item.params());
        images[i] = Inputs.decode(item.encodedImage());
        checkOutputSize(images[i], scale);
        byScale.computeIfAbsent(scale, k -> new ArrayList<>()).add(i);
      } catch (InvalidInputException e) {
        results[i] = new BatchResult(null, e);
      }
    }
    for (var group : byScale.entrySet()) {
      List<RgbaImage> imgs = group.getValue().stream().map(i -> images[i]).toList();
      Finish[] groupFinishes =
          group.getValue().stream().map(i -> finishes[i]).toArray(Finish[]::new);
      List<RgbaImage> outs;
      try {
        outs = upscaleAll(imgs, group.getKey(), groupFinishes, Progress.NONE);
      } catch (InvalidInputException e) {
        group.getValue().forEach(i -> results[i] = new BatchResult(null, e));
        continue;
      }
      for (int k = 0; k < outs.size(); k++) {
        int i = group.getValue().get(k);
        try {
          results[i] = new BatchResult(Outputs.image(outs.get(k), items.get(i).params()), null);
        } catch (InvalidInputException e) {
          results[i] = new BatchResult(null, e);
        }
      }
    }
    return List.of(results);
  }

  private static void checkOutputSize(RgbaImage img, int scale) throws InvalidInputException {
    long outPixels = (long) img.width() * scale * img.height() * scale;
    if (outPixels > MAX_OUTPUT_PIXELS) {
      throw new InvalidInputException(
          "a "
              + img.width()
              + "x"
              + img.height()
              + " image upscaled x"
              + scale
              + " is over the "
              + MAX_OUTPUT_PIXELS / 1_000_000
              + " megapixel limit");
    }
  }

  /**
   * The image {@code scale} times larger, as a job without parameters gets it; alpha, if any,
   * resized bilinearly.
   */
  RgbaImage upscale(RgbaImage img, int scale) throws InvalidInputException {
    return upscale(img, scale, Finish.DEFAULT);
  }

  /** The image {@code scale} times larger, its generator's output finished as {@code finish}. */
  RgbaImage upscale(RgbaImage img, int scale, Finish finish) throws InvalidInputException {
    return upscaleAll(List.of(img), scale, new Finish[] {finish}, Progress.NONE).get(0);
  }

  /** One tile: its image, its core, and the input window around the core. */
  private record Tile(
      int image, int tx, int ty, int coreW, int coreH, int x0, int y0, int inW, int inH) {}

  /**
   * Every image {@code scale} times larger, their same-shaped tiles run in batches; image {@code i}
   * finished as {@code finishes[i]}.
   */
  private List<RgbaImage> upscaleAll(
      List<RgbaImage> imgs, int scale, Finish[] finishes, Progress progress)
      throws InvalidInputException {
    TfModel model = models.get(scale);
    int side = tileSide(scale);
    byte[][] outs = new byte[imgs.size()][];
    Map<Long, List<Tile>> byShape = new java.util.LinkedHashMap<>();
    for (int i = 0; i < imgs.size(); i++) {
      RgbaImage img = imgs.get(i);
      outs[i] = new byte[img.width() * scale * img.height() * scale * 4];
      for (int ty = 0; ty < img.height(); ty += side) {
        for (int tx = 0; tx < img.width(); tx += side) {
          Tile t = tile(i, img, tx, ty, side);
          byShape.computeIfAbsent(((long) t.inH() << 32) | t.inW(), k -> new ArrayList<>()).add(t);
        }
      }
    }
    int total = byShape.values().stream().mapToInt(List::size).sum();
    int done = 0;
    for (List<Tile> sameShape : byShape.values()) {
      Tile first = sameShape.get(0);
      long perTile = featureBytes(first.inW(), first.inH(), scale);
      int perRun = (int) Math.max(1, Math.min(MAX_TILES_PER_RUN, runFeatureBytes / perTile));
      for (int from = 0; from < sameShape.size(); from += perRun) {
        List<Tile> run = sameShape.subList(from, Math.min(sameShape.size(), from + perRun));
        runTiles(model, imgs, scale, run, outs);
        done += run.size();
        progress.done(done, total);
      }
    }
    List<RgbaImage> result = new ArrayList<>();
    for (int i = 0; i < imgs.size(); i++) {
      RgbaImage img = imgs.get(i);
      finishes[i].apply(img, outs[i], scale);
      result.add(withAlpha(img, scale, outs[i]));
    }
    return result;
  }

  /**
   * Input pixels per tile side at {@code scale}: the configured tile, or less where a whole tile
   * with its margins would hold more feature map than a run may (x8: 84 of 128).
   */
  int tileSide(int scale) {
    int side = tile;
    while (side > MIN_TILE
        && featureBytes(side + 2L * margin, side + 2L * margin, scale) > runFeatureBytes) {
      side--;
    }
    return side;
  }

  /** The upsampled feature map of one input window: 3s² channels at s times its size. */
  static long featureBytes(long inW, long inH, int scale) {
    long s2 = (long) scale * scale;
    return inW * inH * s2 * 3 * s2 * Float.BYTES;
  }

  private Tile tile(int image, RgbaImage img, int tx, int ty, int side) {
    int coreW = Math.min(side, img.width() - tx);
    int coreH = Math.min(side, img.height() - ty);
    int x0 = Math.max(0, tx - margin);
    int y0 = Math.max(0, ty - margin);
    int x1 = Math.min(img.width(), tx + coreW + margin);
    int y1 = Math.min(img.height(), ty + coreH + margin);
    return new Tile(image, tx, ty, coreW, coreH, x0, y0, x1 - x0, y1 - y0);
  }

  /**
   * Whether every pixel's alpha is 255: then the enlarged alpha is 255 too, and the bilinear pass
   * over it (a few percent of a saturated run's Java time on an RGBA photo) is skipped.
   */
  private static boolean opaque(RgbaImage img) {
    byte[] px = img.rgba();
    for (int i = 3; i < px.length; i += 4) {
      if (px[i] != (byte) 255) {
        return false;
      }
    }
    return true;
  }

  private static RgbaImage withAlpha(RgbaImage img, int scale, byte[] out) {
    int w = img.width();
    int h = img.height();
    int ow = w * scale;
    int oh = h * scale;
    if (img.hasAlpha() && !opaque(img)) {
      float[] alpha =
          Resampler.bilinear(img.channel(3), w, h, 1, ow, oh, Resampler.Sampling.HALF_PIXEL);
      for (int i = 0; i < alpha.length; i++) {
        out[i * 4 + 3] = PixelPacking.toByte(alpha[i] * 255f);
      }
    } else {
      for (int i = 3; i < out.length; i += 4) {
        out[i] = (byte) 255;
      }
    }
    return new RgbaImage(ow, oh, out, img.hasAlpha());
  }

  /** Runs tiles of one shape as one batch and writes each core's output into its image. */
  private void runTiles(TfModel model, List<RgbaImage> imgs, int s, List<Tile> tiles, byte[][] outs)
      throws InvalidInputException {
    Tile first = tiles.get(0);
    int inW = first.inW();
    int inH = first.inH();
    int per = inH * inW * 3;
    float[] batch = new float[per * tiles.size()];
    for (int k = 0; k < tiles.size(); k++) {
      Tile t = tiles.get(k);
      float[] rgb =
          PixelPacking.rgb(imgs.get(t.image()), t.x0(), t.y0(), inW, inH, range.white / 255f);
      System.arraycopy(rgb, 0, batch, k * per, per);
    }
    FloatTensor result;
    try {
      result = model.run(new FloatTensor(new long[] {tiles.size(), inH, inW, 3}, batch));
    } catch (FeedRejectedException e) {
      throw new InvalidInputException("the upscaler can't take this image: " + e.getMessage());
    }
    long[] shape = result.shape();
    if (shape.length != 4
        || shape[0] != tiles.size()
        || shape[1] != (long) inH * s
        || shape[2] != (long) inW * s
        || shape[3] != 3) {
      throw new IllegalStateException(
          "upscaler x" + s + " returned shape " + java.util.Arrays.toString(shape));
    }
    float[] rgb = result.data();
    float toBytes = 255f / range.white;
    int rw = inW * s;
    int outPer = inH * s * rw * 3;
    for (int k = 0; k < tiles.size(); k++) {
      Tile t = tiles.get(k);
      byte[] out = outs[t.image()];
      int ow = imgs.get(t.image()).width() * s;
      for (int oy = 0; oy < t.coreH() * s; oy++) {
        int src = k * outPer + (((t.ty() - t.y0()) * s + oy) * rw + (t.tx() - t.x0()) * s) * 3;
        int dst = ((t.ty() * s + oy) * ow + t.tx() * s) * 4;
        for (int ox = 0; ox < t.coreW() * s; ox++, src += 3, dst += 4) {
          out[dst] = PixelPacking.toByte(rgb[src] * toBytes);
          out[dst + 1] = PixelPacking.toByte(rgb[src + 1] * toBytes);
          out[dst + 2] = PixelPacking.toByte(rgb[src + 2] * toBytes);
        }
      }
    }
  }

  @Override
  public void close() {
    models.values().forEach(TfModel::close);
  }
}
