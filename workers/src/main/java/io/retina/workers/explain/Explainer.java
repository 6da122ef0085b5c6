package io.retina.workers.explain;

import io.retina.workers.tfjs.ClassScoreGradient;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.NoGradientException;
import io.retina.workers.tfjs.TfModel;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Explains a classifier's answer with a heatmap of where in the input the model looked: by Grad-CAM
 * where the model's graph gives the gradient of its class scores (one more model run), by occlusion
 * sensitivity otherwise (50 images through the model, in batches). Which one is chosen once, when
 * the explainer is made, and every explanation names it. Thread-safe.
 */
public final class Explainer {

  private static final Logger log = LoggerFactory.getLogger(Explainer.class);

  /**
   * The longest side of a heatmap PNG. The heat has at most a few dozen cells a side (Grad-CAM's 7
   * x 7 on MobileNetV2, occlusion's 8 x 8), so more pixels would add bytes, not detail.
   */
  public static final int MAX_PNG_SIDE = 512;

  /** Class probabilities for a batch of inputs, each h x w x c floats as the model takes them. */
  @FunctionalInterface
  public interface Classifier {
    float[][] probabilities(float[][] inputs) throws FeedRejectedException;
  }

  /** How the heat was found, by the name answers give it. */
  public enum Method {
    GRAD_CAM("grad-cam"),
    OCCLUSION("occlusion");

    private final String wireName;

    Method(String wireName) {
      this.wireName = wireName;
    }

    public String wireName() {
      return wireName;
    }
  }

  /** The heat over the model's input for one class, and how it was found. */
  public record Explanation(Method method, int classIndex, Heatmap heatmap) {

    /**
     * The explanation as an answer gives it: the method, the class's label, and the heatmap as a
     * base64 greyscale PNG stretched over an image of {@code imageWidth} x {@code imageHeight} (the
     * whole image being what the model saw), at that size or shrunk to fit {@link #MAX_PNG_SIDE},
     * with the PNG's own width and height.
     */
    public Map<String, Object> json(String label, int imageWidth, int imageHeight) {
      double shrink = Math.min(1.0, MAX_PNG_SIDE / (double) Math.max(imageWidth, imageHeight));
      int w = Math.max(1, (int) Math.round(imageWidth * shrink));
      int h = Math.max(1, (int) Math.round(imageHeight * shrink));
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("method", method.wireName());
      json.put("class", label);
      json.put("heatmap", Base64.getEncoder().encodeToString(heatmap.png(w, h)));
      json.put("width", w);
      json.put("height", h);
      return json;
    }
  }

  private final GradCam gradCam;
  private final Occlusion occlusion;

  private Explainer(GradCam gradCam, Occlusion occlusion) {
    this.gradCam = gradCam;
    this.occlusion = occlusion;
  }

  /**
   * An explainer of a TensorFlow classifier whose output is its class probabilities: Grad-CAM on
   * its last spatial feature map (see {@link ClassScoreGradient#ofLastFeatureMap}) when the graph
   * gives that gradient, else occlusion through {@code classifier}. Grad-CAM adds its ops to the
   * model's graph, so make one explainer per model, at load.
   */
  public static Explainer of(TfModel model, Classifier classifier) {
    try {
      return new Explainer(new GradCam(ClassScoreGradient.ofLastFeatureMap(model)), null);
    } catch (NoGradientException e) {
      log.info("explaining by occlusion: no Grad-CAM on this graph ({})", e.getMessage());
      return byOcclusion(classifier);
    }
  }

  /** An explainer by occlusion alone: for any classifier, graph or not. */
  public static Explainer byOcclusion(Classifier classifier) {
    return new Explainer(null, new Occlusion(classifier));
  }

  /** The method every explanation of this explainer uses. */
  public Method method() {
    return gradCam != null ? Method.GRAD_CAM : Method.OCCLUSION;
  }

  /**
   * Where the model looked for class {@code classIndex} in one input of {@code width} x {@code
   * height} x channels floats, as the model takes it.
   */
  public Explanation explain(float[] hwc, int width, int height, int classIndex)
      throws FeedRejectedException {
    Heatmap heat =
        gradCam != null
            ? gradCam.heat(hwc, width, height, classIndex)
            : occlusion.heat(hwc, width, height, classIndex);
    return new Explanation(method(), classIndex, heat);
  }
}
