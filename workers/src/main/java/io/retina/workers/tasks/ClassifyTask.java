package io.retina.workers.tasks;

import io.retina.platform.store.Json;
import io.retina.workers.models.CanonicalModels;
import io.retina.workers.training.Backbone;
import io.retina.workers.training.ClassifierHead;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
    double[] p = head.probabilities(backbone.embed(Inputs.decode(encodedImage)));
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
    return new TaskOutput("application/json", Json.write(answer).getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void close() {
    backbone.close();
  }
}
