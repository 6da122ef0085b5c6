package io.retina.workers.tasks;

import io.retina.workers.explain.Explainer;
import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.Resampler;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.TensorSpec;
import io.retina.workers.tfjs.TfModel;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Content moderation with the nsfwjs classifiers (MobileNetV2 and its "mid" graph): the probability
 * of each of five classes for one image, as JSON, and with {@code explain=true} a heatmap of where
 * the model looked for the class it chose. Thread-safe: runs share only the model and its
 * explainer, which are.
 */
final class ModerationTask implements ImageTask {

  /** The classes in the order of the model's output, as nsfwjs names them (nsfw_classes.js). */
  static final List<String> CLASSES = List.of("Drawing", "Hentai", "Neutral", "Porn", "Sexy");

  /** The parameter that asks for an explanation beside the answer. */
  static final String EXPLAIN = "explain";

  private final TfModel model;
  private final int size;
  private final Explainer explainer;

  private ModerationTask(TfModel model, int size, boolean gradCam) {
    this.model = model;
    this.size = size;
    this.explainer =
        gradCam ? Explainer.of(model, this::classify) : Explainer.byOcclusion(this::classify);
  }

  /**
   * The task over a loaded classifier, explaining by Grad-CAM where its graph allows; closes the
   * model and fails if its input is not an RGB square.
   */
  static ModerationTask of(TfModel model) throws IOException {
    return of(model, true);
  }

  /** The task explaining by occlusion whatever its graph allows: to compare the two methods. */
  static ModerationTask byOcclusion(TfModel model) throws IOException {
    return of(model, false);
  }

  private static ModerationTask of(TfModel model, boolean gradCam) throws IOException {
    TensorSpec in = model.signature().input();
    long[] s = in.shape();
    if (s == null || s.length != 4 || s[1] <= 0 || s[1] != s[2] || s[3] != 3) {
      model.close();
      throw new IOException("moderation model input must be [batch, n, n, 3], got " + in);
    }
    try {
      return new ModerationTask(model, (int) s[1], gradCam);
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /** How this task explains its answers. */
  Explainer.Method explanationMethod() {
    return explainer.method();
  }

  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params)
      throws InvalidInputException {
    RgbaImage img = Inputs.decode(encodedImage);
    float[] input = modelInput(img);
    float[] p = probabilities(input);
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
    if ("true".equals(params.get(EXPLAIN))) {
      answer.put(
          "explanation", explain(input, best).json(CLASSES.get(best), img.width(), img.height()));
    }
    return Outputs.json(answer);
  }

  /** The class probabilities, in {@link #CLASSES} order. */
  float[] probabilities(RgbaImage img) throws InvalidInputException {
    return probabilities(modelInput(img));
  }

  private float[] probabilities(float[] input) throws InvalidInputException {
    try {
      return classify(new float[][] {input})[0];
    } catch (FeedRejectedException e) {
      throw new InvalidInputException("the moderation model can't take this image: " + e);
    }
  }

  /**
   * The model's input for an image, as nsfwjs's {@code infer} makes it: RGB divided by 255, then a
   * bilinear resize to the model's square input with {@code alignCorners = true} (the image is
   * stretched, not cropped).
   */
  private float[] modelInput(RgbaImage img) {
    return Resampler.bilinear(
        PixelPacking.rgb(img, 1f / 255f),
        img.width(),
        img.height(),
        3,
        size,
        size,
        Resampler.Sampling.ALIGN_CORNERS);
  }

  /** The class probabilities of each input, run through the model as one batch. */
  private float[][] classify(float[][] inputs) throws FeedRejectedException {
    float[] batch = new float[inputs.length * size * size * 3];
    for (int i = 0; i < inputs.length; i++) {
      System.arraycopy(inputs[i], 0, batch, i * size * size * 3, size * size * 3);
    }
    FloatTensor out = model.run(new FloatTensor(new long[] {inputs.length, size, size, 3}, batch));
    if (out.data().length != inputs.length * CLASSES.size()) {
      throw new IllegalStateException("moderation output has " + out.data().length + " values");
    }
    float[][] p = new float[inputs.length][];
    for (int i = 0; i < inputs.length; i++) {
      p[i] = java.util.Arrays.copyOfRange(out.data(), i * CLASSES.size(), (i + 1) * CLASSES.size());
    }
    return p;
  }

  private Explainer.Explanation explain(float[] input, int classIndex)
      throws InvalidInputException {
    try {
      return explainer.explain(input, size, size, classIndex);
    } catch (FeedRejectedException e) {
      throw new InvalidInputException("the moderation model can't explain this image: " + e);
    }
  }

  @Override
  public void close() {
    model.close();
  }
}
