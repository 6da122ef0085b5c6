package io.retina.workers.tasks;

import io.retina.platform.store.Json;
import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.Resampler;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.TensorSpec;
import io.retina.workers.tfjs.TfModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
        Resampler.bilinear(
            PixelPacking.rgb(img, 1f / 255f),
            img.width(),
            img.height(),
            3,
            size,
            size,
            Resampler.Sampling.ALIGN_CORNERS);
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

  @Override
  public void close() {
    model.close();
  }
}
