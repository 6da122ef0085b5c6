package io.retina.workers.tasks;

import io.retina.workers.budget.WorkBudget;
import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.training.Denoiser;
import io.retina.workers.training.DenoiserWeights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A tenant's trained denoiser (see {@link io.retina.workers.training.DenoiserTrainer}): the image's
 * RGB denoised, alpha kept, at the same size, as PNG (or JPEG if asked). The image runs in windows
 * of at most {@link #TILE} pixels a side, each with {@link #CONTEXT} pixels of the image around it
 * (mirrored past its edges), so time grows with the pixels and memory stays bounded per window;
 * since the network looks no further than {@link Denoiser#REACH}, the windows meet without seams
 * and the answer is the same as one run over the whole image. Thread-safe: runs share the denoiser,
 * which is.
 */
final class TrainedDenoiseTask implements ImageTask {

  /**
   * A window's core side. A 256x256 core with its context (272x272) runs in about 0.1 s with oneDNN
   * and 0.2 s without on two busy CPU cores, and its activations (some 250 floats a pixel) stay
   * under 100 MB.
   */
  static final int TILE = 256;

  /**
   * The image around a window's core that its run sees too, on every side: the network's reach,
   * which is even, so that every window's pooling grid lines up with the whole image's.
   */
  static final int CONTEXT = 8;

  /**
   * The largest input, in pixels: a 12-megapixel phone photo (4032x3024) fits, 192 windows, 25 to
   * 45 s of a two-core CPU worker (1920x1080 is 40 windows, 5 to 9 s). Larger images are refused
   * rather than downscaled, since denoising a downscaled image loses the detail the tenant wants
   * kept.
   */
  static final long MAX_PIXELS = 4096L * 3072;

  private final Denoiser denoiser;
  private final int tile;

  private TrainedDenoiseTask(Denoiser denoiser, int tile) {
    if (CONTEXT < Denoiser.REACH || CONTEXT % Denoiser.FACTOR != 0 || tile % Denoiser.FACTOR != 0) {
      throw new IllegalArgumentException("windows must cover the network's reach on its grid");
    }
    this.denoiser = denoiser;
    this.tile = tile;
  }

  /**
   * Reads the network from {@code denoiserJson}. Fails with IOException if the file can't be read
   * or is of an architecture or version this node does not serve.
   */
  static TrainedDenoiseTask load(Path denoiserJson) throws IOException {
    DenoiserWeights weights = DenoiserWeights.parse(Files.readAllBytes(denoiserJson));
    return new TrainedDenoiseTask(new Denoiser(weights), TILE);
  }

  /**
   * The same denoiser in windows of {@code tile}: for tests, which can't afford images big enough
   * for several windows at the real size. Closing it closes the shared denoiser.
   */
  TrainedDenoiseTask tiledBy(int tile) {
    return new TrainedDenoiseTask(denoiser, tile);
  }

  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params)
      throws InvalidInputException {
    return run(encodedImage, params, Progress.NONE);
  }

  /** Reports each window done. */
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
              "a %dx%d image is over the denoise limit of %d pixels (4032x3024 fits)",
              w, h, MAX_PIXELS));
    }
    byte[] out = img.rgba().clone(); // alpha as it was
    int windows = ((w + tile - 1) / tile) * ((h + tile - 1) / tile);
    int done = 0;
    for (int ty = 0; ty < h; ty += tile) {
      for (int tx = 0; tx < w; tx += tile) {
        denoiseWindow(img, tx, ty, Math.min(tile, w - tx), Math.min(tile, h - ty), out);
        progress.done(++done, windows);
        WorkBudget.current().check();
      }
    }
    return Outputs.image(new RgbaImage(w, h, out, img.hasAlpha()), params);
  }

  /**
   * Denoises the core {@code cw} x {@code ch} at ({@code x}, {@code y}) of {@code img} into {@code
   * out}'s RGB, running it with {@link #CONTEXT} pixels around it and padded on the right and
   * bottom to the network's grid.
   */
  private void denoiseWindow(RgbaImage img, int x, int y, int cw, int ch, byte[] out) {
    int ww = roundUp(cw + 2 * CONTEXT);
    int wh = roundUp(ch + 2 * CONTEXT);
    float[] window = mirroredWindow(img, x - CONTEXT, y - CONTEXT, ww, wh);
    float[] denoised = denoiser.denoise(window, ww, wh);
    int w = img.width();
    for (int row = 0; row < ch; row++) {
      for (int col = 0; col < cw; col++) {
        int s = ((row + CONTEXT) * ww + col + CONTEXT) * 3;
        int d = ((y + row) * w + x + col) * 4;
        out[d] = PixelPacking.toByte(denoised[s] * 255f);
        out[d + 1] = PixelPacking.toByte(denoised[s + 1] * 255f);
        out[d + 2] = PixelPacking.toByte(denoised[s + 2] * 255f);
      }
    }
  }

  /**
   * The RGB in [0, 1] of the {@code ww} x {@code wh} window of {@code img} at ({@code left}, {@code
   * top}), which may reach past the image: there it mirrors the image (the edge pixel not
   * repeated), so the network sees no artificial edge.
   */
  private static float[] mirroredWindow(RgbaImage img, int left, int top, int ww, int wh) {
    byte[] src = img.rgba();
    float[] out = new float[ww * wh * 3];
    for (int row = 0; row < wh; row++) {
      int sy = mirror(top + row, img.height());
      for (int col = 0; col < ww; col++) {
        int s = (sy * img.width() + mirror(left + col, img.width())) * 4;
        int d = (row * ww + col) * 3;
        out[d] = (src[s] & 0xff) / 255f;
        out[d + 1] = (src[s + 1] & 0xff) / 255f;
        out[d + 2] = (src[s + 2] & 0xff) / 255f;
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

  private static int roundUp(int side) {
    return (side + Denoiser.FACTOR - 1) / Denoiser.FACTOR * Denoiser.FACTOR;
  }

  @Override
  public void close() {
    denoiser.close();
  }
}
