package io.retina.workers.tasks;

import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.TensorSpec;
import io.retina.workers.tfjs.TfModel;
import java.io.IOException;
import java.util.Map;

/**
 * Image restoration with a MAXIM model (denoising or deblurring): RGB in [0, 1] in, the restored
 * RGB in [0, 1] out, at the same size. MAXIM's multi-axis blocks split the image into 8x8 grids of
 * 8x8 blocks at each of its three downsamplings, so sides must be multiples of 64: the image is
 * mirrored out to the next multiple, run, and cropped back; a photo over 512x512 runs in 256-pixel
 * tiles, each with 32 pixels of the photo around it, so time and memory grow with its pixels and
 * stay bounded per run. The model is warmed at load, since its first run pays for graph
 * optimization. Thread-safe: runs share only the model, which is.
 */
final class RestoreTask implements ImageTask {

  /** The multiple of which the model's input sides must be. */
  static final int MULTIPLE = 64;

  /**
   * The largest input run whole, in pixels after padding. MAXIM's time grows faster than its pixel
   * count (measured on a CPU core: 0.7 s at 64x64, 2.5 s at 128x128, 14 s at 256x256) and so do its
   * activations, so larger photos run in tiles.
   */
  static final long MAX_WHOLE_PIXELS = 512L * 512;

  /** A tile's side: the part of the photo each tiled run restores. */
  static final int TILE = 256;

  /**
   * The photo around a tile that each run sees too, on every side (mirrored at the photo's edges),
   * so tiles meet without seams; {@code TILE + 2 * CONTEXT} is a multiple of {@link #MULTIPLE}.
   */
  static final int CONTEXT = 32;

  /**
   * The largest input, in pixels: a 1920x1080 photo (40 tiles, a few minutes of a CPU worker, a few
   * seconds on a GPU). Larger photos are refused with that reason rather than downscaled, since
   * restoring a downscaled photo loses the detail the tenant wants restored.
   */
  static final long MAX_PIXELS = 2048L * 1024;

  /** The warm-up input's side: one run pays the session's one-time graph optimization. */
  static final int WARMUP_SIDE = 64;

  private final TfModel model;
  private final String what;
  private final long maxWholePixels;
  private final int tile;
  private final int context;

  private RestoreTask(TfModel model, String what, long maxWholePixels, int tile, int context) {
    if ((tile + 2 * context) % MULTIPLE != 0) {
      throw new IllegalArgumentException("tile + 2 * context must be a multiple of " + MULTIPLE);
    }
    this.model = model;
    this.what = what;
    this.maxWholePixels = maxWholePixels;
    this.tile = tile;
    this.context = context;
  }

  /**
   * The same model tiling from a smaller size, with smaller tiles: for tests, which can't afford
   * photos big enough to tile at the real sizes. Closing it closes the shared model.
   */
  RestoreTask tilingAbove(long maxWholePixels, int tile, int context) {
    return new RestoreTask(model, what, maxWholePixels, tile, context);
  }

  /**
   * Wraps a loaded MAXIM model and warms it with one small run; closes it and fails if its
   * signature doesn't fit or the warm-up fails. {@code what} names the task in messages.
   */
  static RestoreTask of(TfModel model, String what) throws IOException {
    try {
      TensorSpec in = model.signature().input();
      long[] s = in.shape();
      if (s == null || s.length != 4 || s[3] != 3) {
        throw new IOException(what + " model input must be [batch, height, width, 3], got " + in);
      }
      RestoreTask task = new RestoreTask(model, what, MAX_WHOLE_PIXELS, TILE, CONTEXT);
      task.restore(new float[WARMUP_SIDE * WARMUP_SIDE * 3], WARMUP_SIDE, WARMUP_SIDE);
      return task;
    } catch (IOException | RuntimeException | FeedRejectedException e) {
      model.close();
      throw e instanceof IOException io
          ? io
          : new IOException(what + " model failed its warm-up run: " + e.getMessage(), e);
    }
  }

  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params)
      throws InvalidInputException {
    return run(encodedImage, params, Progress.NONE);
  }

  /** Reports each tile done, when the photo runs in tiles. */
  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params, Progress progress)
      throws InvalidInputException {
    Outputs.check(params);
    RgbaImage img = Inputs.decode(encodedImage);
    int w = img.width();
    int h = img.height();
    if ((long) w * h > MAX_PIXELS) {
      throw new InvalidInputException(
          String.format(
              "a %dx%d image is over the %s limit of %d pixels (1920x1080 fits)",
              w, h, what, MAX_PIXELS));
    }
    float[] rgb = restoreImage(img, progress);
    byte[] out = img.rgba().clone();
    for (int i = 0; i < w * h; i++) {
      out[i * 4] = PixelPacking.toByte(rgb[i * 3] * 255f);
      out[i * 4 + 1] = PixelPacking.toByte(rgb[i * 3 + 1] * 255f);
      out[i * 4 + 2] = PixelPacking.toByte(rgb[i * 3 + 2] * 255f);
    }
    RgbaImage result = new RgbaImage(w, h, out, img.hasAlpha());
    return Outputs.image(result, params);
  }

  /**
   * The restored RGB of {@code img} in [0, 1], HWC at its size; alpha is not touched. Runs whole up
   * to {@link #MAX_WHOLE_PIXELS} after padding, else in tiles.
   */
  float[] restoreImage(RgbaImage img) throws InvalidInputException {
    return restoreImage(img, Progress.NONE);
  }

  private float[] restoreImage(RgbaImage img, Progress progress) throws InvalidInputException {
    int w = img.width();
    int h = img.height();
    if ((long) roundUp(w) * roundUp(h) > maxWholePixels) {
      return restoreTiled(PixelPacking.rgb(img, 1f / 255f), w, h, progress);
    }
    int pw = roundUp(w);
    int ph = roundUp(h);
    int left = (pw - w) / 2;
    int top = (ph - h) / 2;
    float[] rgb = PixelPacking.rgb(img, 1f / 255f);
    float[] padded = reflectPad(rgb, w, h, pw, ph, left, top);
    float[] out;
    try {
      out = restore(padded, pw, ph);
    } catch (FeedRejectedException e) {
      throw new InvalidInputException("the " + what + " model can't take this image: " + e);
    }
    float[] cropped = new float[w * h * 3];
    for (int y = 0; y < h; y++) {
      System.arraycopy(out, ((y + top) * pw + left) * 3, cropped, y * w * 3, w * 3);
    }
    return cropped;
  }

  /**
   * Restores {@code rgb} (w x h, in [0, 1]) tile by tile: each run takes a tile with {@code
   * context} pixels of the photo around it, mirrored past the photo's edges, and keeps the tile.
   */
  private float[] restoreTiled(float[] rgb, int w, int h, Progress progress)
      throws InvalidInputException {
    int span = tile + 2 * context;
    float[] out = new float[w * h * 3];
    int tiles = ((w + tile - 1) / tile) * ((h + tile - 1) / tile);
    int done = 0;
    for (int ty = 0; ty < h; ty += tile) {
      for (int tx = 0; tx < w; tx += tile) {
        float[] window = reflectPad(rgb, w, h, span, span, context - tx, context - ty);
        float[] restored;
        try {
          restored = restore(window, span, span);
        } catch (FeedRejectedException e) {
          throw new InvalidInputException("the " + what + " model can't take this image: " + e);
        }
        int coreW = Math.min(tile, w - tx);
        for (int y = 0; y < Math.min(tile, h - ty); y++) {
          System.arraycopy(
              restored,
              ((context + y) * span + context) * 3,
              out,
              ((ty + y) * w + tx) * 3,
              coreW * 3);
        }
        progress.done(++done, tiles);
      }
    }
    return out;
  }

  /** One model run on RGB in [0, 1] whose sides are multiples of {@link #MULTIPLE}. */
  float[] restore(float[] rgb, int w, int h) throws FeedRejectedException {
    FloatTensor out = model.run(FloatTensor.image(h, w, 3, rgb));
    long[] s = out.shape();
    if (s.length != 4 || s[1] != h || s[2] != w || s[3] != 3) {
      throw new IllegalStateException(what + " returned shape " + java.util.Arrays.toString(s));
    }
    return out.data();
  }

  static int roundUp(int side) {
    return (side + MULTIPLE - 1) / MULTIPLE * MULTIPLE;
  }

  /**
   * {@code rgb} (w x h) placed at (left, top) in a pw x ph image whose border mirrors it (the edge
   * pixel not repeated, as numpy's "reflect"), so the model sees no artificial edge.
   */
  static float[] reflectPad(float[] rgb, int w, int h, int pw, int ph, int left, int top) {
    float[] out = new float[pw * ph * 3];
    for (int y = 0; y < ph; y++) {
      int sy = mirror(y - top, h);
      for (int x = 0; x < pw; x++) {
        int sx = mirror(x - left, w);
        System.arraycopy(rgb, (sy * w + sx) * 3, out, (y * pw + x) * 3, 3);
      }
    }
    return out;
  }

  /** Index {@code i} reflected into [0, n) without repeating the edge; periodic beyond 2n. */
  private static int mirror(int i, int n) {
    if (n == 1) {
      return 0;
    }
    int period = 2 * (n - 1);
    int m = Math.floorMod(i, period);
    return m < n ? m : period - m;
  }

  @Override
  public void close() {
    model.close();
  }
}
