package io.retina.workers.training;

import io.retina.workers.tasks.InvalidInputException;
import io.retina.workers.training.ClassifierTrainer.Example;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Which examples train and which validate, and what each class weighs. Classes are the distinct
 * labels in sorted order (the head's output order); each class holds out {@code fraction} of its
 * images, at least one and never all, chosen by the seed. Immutable.
 *
 * @param classes the class names, in the head's output order
 * @param classOf each example's class, by its index in the examples
 * @param train the indices of the training examples, in the examples' order
 * @param validation the indices of the validation examples, in the examples' order
 * @param classWeights each class's weight in the loss: the inverse of its share of the training
 *     images, so that every class counts alike however many images it has
 */
record Split(
    List<String> classes, int[] classOf, int[] train, int[] validation, float[] classWeights) {

  /**
   * Splits {@code examples}; refuses, in words for the tenant, fewer than two classes or a class
   * with fewer than two images (one to train on, one to validate with).
   */
  static Split of(List<Example> examples, double fraction, long seed) throws InvalidInputException {
    Map<String, List<Integer>> byClass = new TreeMap<>();
    for (int i = 0; i < examples.size(); i++) {
      String label = examples.get(i).label();
      if (label == null || label.isBlank()) {
        throw new InvalidInputException("image " + (i + 1) + " has no label");
      }
      byClass.computeIfAbsent(label, l -> new ArrayList<>()).add(i);
    }
    if (byClass.size() < 2) {
      throw new InvalidInputException(
          "a classifier needs images of at least two classes; got "
              + (byClass.isEmpty() ? "none" : "only " + byClass.keySet()));
    }
    for (Map.Entry<String, List<Integer>> c : byClass.entrySet()) {
      if (c.getValue().size() < 2) {
        throw new InvalidInputException(
            "class '"
                + c.getKey()
                + "' has "
                + c.getValue().size()
                + " image; each class needs at least two, one to train on and one to validate with");
      }
    }
    List<String> classes = List.copyOf(byClass.keySet());
    int[] classOf = new int[examples.size()];
    boolean[] held = new boolean[examples.size()];
    Random random = new Random(seed);
    int[] trainCounts = new int[classes.size()];
    for (int c = 0; c < classes.size(); c++) {
      List<Integer> members = new ArrayList<>(byClass.get(classes.get(c)));
      for (int i : members) {
        classOf[i] = c;
      }
      Collections.shuffle(members, random);
      int n = members.size();
      int hold = Math.min(n - 1, Math.max(1, (int) Math.round(n * fraction)));
      members.subList(0, hold).forEach(i -> held[i] = true);
      trainCounts[c] = n - hold;
    }
    int trainCount = Arrays.stream(trainCounts).sum();
    float[] classWeights = new float[classes.size()];
    for (int c = 0; c < classes.size(); c++) {
      classWeights[c] = (float) trainCount / (classes.size() * trainCounts[c]);
    }
    List<Integer> train = new ArrayList<>();
    List<Integer> validation = new ArrayList<>();
    for (int i = 0; i < held.length; i++) {
      (held[i] ? validation : train).add(i);
    }
    return new Split(
        classes,
        classOf,
        train.stream().mapToInt(Integer::intValue).toArray(),
        validation.stream().mapToInt(Integer::intValue).toArray(),
        classWeights);
  }

  /** The classes of the examples at {@code indices}. */
  int[] classesOf(int[] indices) {
    int[] out = new int[indices.length];
    for (int i = 0; i < indices.length; i++) {
      out[i] = classOf[indices[i]];
    }
    return out;
  }
}
