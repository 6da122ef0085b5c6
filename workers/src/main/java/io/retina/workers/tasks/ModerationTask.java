package io.retina.workers.tasks;

import io.retina.platform.store.Json;
import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.models.ModelFiles;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.TensorSpec;
import io.retina.workers.tfjs.TfModel;
import io.retina.workers.tfjs.TfjsModels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Content moderation with the nsfwjs classifiers (MobileNetV2 and its "mid" graph): the probability
 * of each of five classes for one image, as JSON. Thread-safe: runs share only the model, which is.
 */
final class ModerationTask implements ImageTask {

  /** The classes in the order of the model's output, as nsfwjs names them (nsfw_classes.js). */
  static final List<String> CLASSES = List.of("Drawing", "Hentai", "Neutral", "Porn", "Sexy");

  private final TfModel model;
  private final int size;

  private ModerationTask(TfModel model, int size) {
    this.model = model;
    this.size = size;
  }

  /**
   * Imports a classifier from its nsfwjs bundle ({@code dist/models/<name>/model.min.js}): the
   * weights are unpacked from the bundle into a temporary directory, imported, and deleted.
   */
  static TfModel importBundle(Path modelJs) throws IOException {
    Path tmp = Files.createTempDirectory("retina-moderation");
    try {
      return TfjsModels.load(ModerationUmdBundle.extract(modelJs, tmp));
    } finally {
      ModelFiles.deleteTree(tmp);
    }
  }

  /** The task over a loaded classifier; closes it and fails if its input is not an RGB square. */
  static ModerationTask of(TfModel model) throws IOException {
    TensorSpec in = model.signature().input();
    long[] s = in.shape();
    if (s == null || s.length != 4 || s[1] <= 0 || s[1] != s[2] || s[3] != 3) {
      model.close();
      throw new IOException("moderation model input must be [batch, n, n, 3], got " + in);
    }
    return new ModerationTask(model, (int) s[1]);
  }

  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params)
      throws InvalidInputException {
    float[] p = probabilities(Inputs.decode(encodedImage));
    Map<String, Object> probabilities = new LinkedHashMap<>();
    int best = 0;
    for (int i = 0; i < p.length; i++) {
      probabilities.put(CLASSES.get(i), (double) p[i]);
      best = p[i] > p[best] ? i : best;
    }
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("label", CLASSES.get(best));
    answer.put("score", (double) p[best]);
    answer.put("probabilities", probabilities);
    return new TaskOutput("application/json", Json.write(answer).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The class probabilities, in {@link #CLASSES} order. Preprocessing as in nsfwjs's {@code infer}:
   * RGB divided by 255, then a bilinear resize to the model's square input with {@code alignCorners
   * = true} (the image is stretched, not cropped).
   */
  float[] probabilities(RgbaImage img) throws InvalidInputException {
    float[] rgb =
        alignCornersResize(PixelPacking.rgb(img, 1f / 255f), img.width(), img.height(), size, size);
    FloatTensor out;
    try {
      out = model.run(FloatTensor.image(size, size, 3, rgb));
    } catch (FeedRejectedException e) {
      throw new InvalidInputException("the moderation model can't take this image: " + e);
    }
    if (out.data().length != CLASSES.size()) {
      throw new IllegalStateException("moderation output has " + out.data().length + " values");
    }
    return out.data();
  }

  /**
   * TensorFlow's bilinear resize with {@code align_corners = true}: corner pixels map onto corner
   * pixels, source = dst * (in - 1) / (out - 1). Retina's Resampler has only the other two modes.
   */
  static float[] alignCornersResize(float[] src, int sw, int sh, int dw, int dh) {
    double sx = dw > 1 ? (sw - 1) / (double) (dw - 1) : sw / (double) dw;
    double sy = dh > 1 ? (sh - 1) / (double) (dh - 1) : sh / (double) dh;
    float[] dst = new float[dw * dh * 3];
    for (int y = 0; y < dh; y++) {
      double fy = y * sy;
      int y0 = (int) Math.floor(fy);
      int y1 = Math.min(sh - 1, (int) Math.ceil(fy));
      float wy = (float) (fy - y0);
      for (int x = 0; x < dw; x++) {
        double fx = x * sx;
        int x0 = (int) Math.floor(fx);
        int x1 = Math.min(sw - 1, (int) Math.ceil(fx));
        float wx = (float) (fx - x0);
        for (int c = 0; c < 3; c++) {
          float tl = src[(y0 * sw + x0) * 3 + c];
          float tr = src[(y0 * sw + x1) * 3 + c];
          float bl = src[(y1 * sw + x0) * 3 + c];
          float br = src[(y1 * sw + x1) * 3 + c];
          float top = tl + (tr - tl) * wx;
          float bottom = bl + (br - bl) * wx;
          dst[(y * dw + x) * 3 + c] = top + (bottom - top) * wy;
        }
      }
    }
    return dst;
  }

  @Override
  public void close() {
    model.close();
  }
}
