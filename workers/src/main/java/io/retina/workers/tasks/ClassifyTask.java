package io.retina.workers.tasks;

import io.retina.workers.explain.Explainer;
import io.retina.workers.explain.Heatmap;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.models.CanonicalModels;
import io.retina.workers.training.Backbone;
import io.retina.workers.training.ClassifierHead;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A tenant's trained classifier (see {@link io.retina.workers.training.ClassifierTrainer}): the
 * catalog backbone embeds the image and the trained softmax head gives each class's probability, as
 * JSON. Thread-safe: runs share the backbone, which is, and the head, which is immutable.
 */
final class ClassifyTask implements ImageTask {

  /** The parameter that asks for a heatmap of where the classifier looked. */
  static final String EXPLAIN = "explain";

  private final Backbone backbone;
  private final ClassifierHead head;

  private ClassifyTask(Backbone backbone, ClassifierHead head) {
    this.backbone = backbone;
    this.head = head;
  }

  /**
   * Reads the head from {@code classifierJson} and loads the backbone it names from the model cache
   * of {@code canonical}. Fails with IOException if the file can't be read or is for a backbone,
   * input or embedding size this node does not serve.
   */
  static ClassifyTask load(Path classifierJson, CanonicalModels canonical) throws IOException {
    ClassifierHead head = ClassifierHead.parse(Files.readAllBytes(classifierJson));
    return new ClassifyTask(Backbone.load(canonical), head);
  }

  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params)
      throws InvalidInputException {
    RgbaImage image = Inputs.decode(encodedImage);
    float[] input = Backbone.input(image);
    double[] p = head.probabilities(backbone.features(input));
    Map<String, Object> probabilities = new LinkedHashMap<>();
    int best = 0;
    for (int i = 0; i < p.length; i++) {
      probabilities.put(head.classes().get(i), p[i]);
      best = p[i] > p[best] ? i : best;
    }
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("label", head.classes().get(best));
    answer.put("score", p[best]);
    answer.put("probabilities", probabilities);
    if ("true".equals(params.get(EXPLAIN))) {
      Heatmap heat = gradCam(backbone.featureMap(input), best);
      answer.put(
          "explanation",
          new Explainer.Explanation(Explainer.Method.GRAD_CAM, best, heat)
              .json(head.classes().get(best), image.width(), image.height()));
    }
    return Outputs.json(answer);
  }

  /**
   * Grad-CAM for class {@code c}: the feature map's channels weighed by the class score's gradient
   * with respect to them, summed per cell, negatives dropped. The head is linear over the map's
   * mean, so that gradient is the head's weight for the channel over {@code GRID²}, the same for
   * every cell: exact, without running a backward pass.
   */
  private Heatmap gradCam(float[] map, int c) {
    int d = Backbone.DIMENSION;
    int classes = head.classes().size();
    float[] weights = head.weights();
    int cells = Backbone.GRID * Backbone.GRID;
    float[] heat = new float[cells];
    for (int cell = 0; cell < cells; cell++) {
      double sum = 0;
      for (int k = 0; k < d; k++) {
        sum += weights[k * classes + c] * map[cell * d + k];
      }
      heat[cell] = (float) Math.max(0, sum / cells);
    }
    return new Heatmap(Backbone.GRID, Backbone.GRID, heat);
  }

  @Override
  public void close() {
    backbone.close();
  }
}
