package io.retina.workers.tasks;

import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.Resampler;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.TensorSpec;
import io.retina.workers.tfjs.TfModel;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Person segmentation (MediaPipe selfie): a [1,H,W,3] RGB-in-[0,1] model whose [1,H,W,1] output is
 * the probability that a pixel belongs to a person. Returns a cutout (the input with the mask as
 * alpha) or the mask itself. Thread-safe: runs share only the model, which is.
 */
final class RemoveBackgroundTask implements ImageTask {

  private static final List<String> OUTPUTS = List.of("cutout", "mask");

  private final TfModel model;
  private final int inputH;
  private final int inputW;

  private RemoveBackgroundTask(TfModel model, int inputH, int inputW) {
    this.model = model;
    this.inputH = inputH;
    this.inputW = inputW;
  }

  /** Wraps a loaded segmentation model; closes it and fails if its signature doesn't fit. */
  static RemoveBackgroundTask of(TfModel model) throws IOException {
    TensorSpec in = model.signature().input();
    long[] s = in.shape();
    if (s == null || s.length != 4 || s[1] <= 0 || s[2] <= 0 || s[3] != 3) {
      model.close();
      throw new IOException(
          "segmentation model input must be [batch, height, width, 3], got " + in);
    }
    return new RemoveBackgroundTask(model, (int) s[1], (int) s[2]);
  }

  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params)
      throws InvalidInputException {
    String output = Inputs.choice(params, "output", OUTPUTS, "cutout");
    RgbaImage img = Inputs.decode(encodedImage);
    float[] small = mask(img);
    float[] mask =
        Resampler.bilinear(
            small, inputW, inputH, 1, img.width(), img.height(), Resampler.Sampling.HALF_PIXEL);
    if (output.equals("mask")) {
      byte[] gray = new byte[mask.length];
      for (int i = 0; i < mask.length; i++) {
        gray[i] = PixelPacking.toByte(mask[i] * 255f);
      }
      return Outputs.pngGray(img.width(), img.height(), gray);
    }
    byte[] rgba = img.rgba().clone();
    for (int i = 0; i < mask.length; i++) {
      float alpha = img.hasAlpha() ? (rgba[i * 4 + 3] & 0xff) / 255f : 1f;
      rgba[i * 4 + 3] = PixelPacking.toByte(mask[i] * alpha * 255f);
    }
    RgbaImage cutout = new RgbaImage(img.width(), img.height(), rgba, true);
    return Outputs.png(cutout, true);
  }

  /**
   * The model's mask at its own resolution, row-major. Preprocessing as in the model's TF.js
   * reference (vladmandic/human): bilinear resize with TF's legacy sampling, then divide by 255.
   */
  float[] mask(RgbaImage img) throws InvalidInputException {
    float[] rgb =
        Resampler.bilinear(
            PixelPacking.rgb(img, 1f),
            img.width(),
            img.height(),
            3,
            inputW,
            inputH,
            Resampler.Sampling.LEGACY);
    for (int i = 0; i < rgb.length; i++) {
      rgb[i] /= 255f;
    }
    FloatTensor out;
    try {
      out = model.run(FloatTensor.image(inputH, inputW, 3, rgb));
    } catch (FeedRejectedException e) {
      throw new InvalidInputException(
          "the segmentation model can't take this image: " + e.getMessage());
    }
    if (out.data().length != inputH * inputW) {
      throw new IllegalStateException("segmentation output has " + out.data().length + " values");
    }
    return out.data();
  }

  @Override
  public void close() {
    model.close();
  }
}
