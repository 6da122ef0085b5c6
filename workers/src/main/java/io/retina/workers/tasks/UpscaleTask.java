package io.retina.workers.tasks;

import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.PngEncoder;
import io.retina.workers.imaging.Resampler;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.TfModel;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Super-resolution: one generator per scale, input and output RGB in [0, 255]. Large images go
 * through the model in overlapping tiles so that memory stays bounded whatever the image size.
 * Thread-safe: runs share only the models, which are.
 */
final class UpscaleTask implements ImageTask {

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

  /** The largest output: 64 MP of RGBA is 256 MB, the most one job should hold. */
  static final long MAX_OUTPUT_PIXELS = 64_000_000L;

  private final TreeMap<Integer, TfModel> models;
  private final List<String> scales;
  private final int tile;
  private final int margin;

  UpscaleTask(Map<Integer, TfModel> models) {
    this(models, TILE, MARGIN);
  }

  UpscaleTask(Map<Integer, TfModel> models, int tile, int margin) {
    this.models = new TreeMap<>(models);
    this.scales = this.models.keySet().stream().map(String::valueOf).toList();
    this.tile = tile;
    this.margin = margin;
  }

  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params)
      throws InvalidInputException {
    int scale = Integer.parseInt(Inputs.choice(params, "scale", scales, scales.get(0)));
    RgbaImage img = Inputs.decode(encodedImage);
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
    RgbaImage out = upscale(img, scale);
    return new TaskOutput(PngEncoder.MEDIA_TYPE, PngEncoder.encode(out, out.hasAlpha()));
  }

  /** The image {@code scale} times larger; alpha, if any, resized bilinearly. */
  RgbaImage upscale(RgbaImage img, int scale) throws InvalidInputException {
    TfModel model = models.get(scale);
    int w = img.width();
    int h = img.height();
    int ow = w * scale;
    int oh = h * scale;
    byte[] out = new byte[ow * oh * 4];
    for (int ty = 0; ty < h; ty += tile) {
      for (int tx = 0; tx < w; tx += tile) {
        runTile(model, img, scale, tx, ty, out);
      }
    }
    if (img.hasAlpha()) {
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

  /** Runs the tile whose core starts at (tx, ty) with its margins, and writes the core's output. */
  private void runTile(TfModel model, RgbaImage img, int s, int tx, int ty, byte[] out)
      throws InvalidInputException {
    int coreW = Math.min(tile, img.width() - tx);
    int coreH = Math.min(tile, img.height() - ty);
    int x0 = Math.max(0, tx - margin);
    int y0 = Math.max(0, ty - margin);
    int x1 = Math.min(img.width(), tx + coreW + margin);
    int y1 = Math.min(img.height(), ty + coreH + margin);
    int inW = x1 - x0;
    int inH = y1 - y0;
    FloatTensor result;
    try {
      result =
          model.run(FloatTensor.image(inH, inW, 3, PixelPacking.rgb(img, x0, y0, inW, inH, 1f)));
    } catch (FeedRejectedException e) {
      throw new InvalidInputException("the upscaler can't take this image: " + e.getMessage());
    }
    long[] shape = result.shape();
    if (shape.length != 4
        || shape[1] != (long) inH * s
        || shape[2] != (long) inW * s
        || shape[3] != 3) {
      throw new IllegalStateException(
          "upscaler x" + s + " returned shape " + java.util.Arrays.toString(shape));
    }
    float[] rgb = result.data();
    int rw = inW * s;
    int ow = img.width() * s;
    for (int oy = 0; oy < coreH * s; oy++) {
      int src = (((ty - y0) * s + oy) * rw + (tx - x0) * s) * 3;
      int dst = ((ty * s + oy) * ow + tx * s) * 4;
      for (int ox = 0; ox < coreW * s; ox++, src += 3, dst += 4) {
        out[dst] = PixelPacking.toByte(rgb[src]);
        out[dst + 1] = PixelPacking.toByte(rgb[src + 1]);
        out[dst + 2] = PixelPacking.toByte(rgb[src + 2]);
      }
    }
  }

  @Override
  public void close() {
    models.values().forEach(TfModel::close);
  }
}
