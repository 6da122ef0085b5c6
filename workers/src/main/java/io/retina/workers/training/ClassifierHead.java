package io.retina.workers.training;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A trained softmax head over {@link Backbone} features, and its file, {@code classifier.json}:
 *
 * <pre>{@code
 * {"format": 1, "backbone": "nsfwjs-mobilenet-v2", "input": 224, "embedding": 1280,
 *  "classes": ["a", "b", ...],
 *  "weights": "<base64 of D*C float32, little-endian, row-major [D][C]: feature d, class c at d*C+c>",
 *  "bias": "<base64 of C float32, little-endian>"}
 * }</pre>
 *
 * where D is {@code embedding} and C the number of classes; the probabilities are {@code
 * softmax(features x weights + bias)}, in {@code classes} order. Immutable and thread-safe.
 */
public record ClassifierHead(List<String> classes, float[] weights, float[] bias) {

  /** The only format this class writes and reads. */
  public static final int FORMAT = 1;

  public ClassifierHead {
    classes = List.copyOf(classes);
    if (weights.length != Backbone.DIMENSION * classes.size() || bias.length != classes.size()) {
      throw new IllegalArgumentException(
          "weights or bias do not fit " + classes.size() + " classes");
    }
  }

  /** The probability of each class for {@code features}, in {@link #classes} order. */
  public double[] probabilities(float[] features) {
    int c = classes.size();
    double[] logits = new double[c];
    for (int k = 0; k < c; k++) {
      logits[k] = bias[k];
    }
    for (int d = 0; d < features.length; d++) {
      for (int k = 0; k < c; k++) {
        logits[k] += (double) features[d] * weights[d * c + k];
      }
    }
    double max = Double.NEGATIVE_INFINITY;
    for (double l : logits) {
      max = Math.max(max, l);
    }
    double sum = 0;
    for (int k = 0; k < c; k++) {
      logits[k] = Math.exp(logits[k] - max);
      sum += logits[k];
    }
    for (int k = 0; k < c; k++) {
      logits[k] /= sum;
    }
    return logits;
  }

  /** The head as {@code classifier.json}. */
  public byte[] toJson() {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("format", FORMAT);
    json.put("backbone", Backbone.NAME);
    json.put("input", Backbone.INPUT);
    json.put("embedding", Backbone.DIMENSION);
    json.put("classes", classes);
    json.put("weights", base64(weights));
    json.put("bias", base64(bias));
    return Json.write(json).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Reads a {@code classifier.json}; fails with IOException if it is not one, or is one for another
   * format, backbone, input size or embedding size than this node serves.
   */
  public static ClassifierHead parse(byte[] json) throws IOException {
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(json);
    } catch (IOException e) {
      throw new IOException("classifier.json is not JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IOException("classifier.json is not a JSON object");
    }
    expect(root, "format", String.valueOf(FORMAT));
    expect(root, "backbone", Backbone.NAME);
    expect(root, "input", String.valueOf(Backbone.INPUT));
    expect(root, "embedding", String.valueOf(Backbone.DIMENSION));
    List<String> classes = new ArrayList<>();
    JsonNode names = root.path("classes");
    names.forEach(n -> classes.add(n.asText()));
    if (!names.isArray() || classes.size() < 2 || new HashSet<>(classes).size() != classes.size()) {
      throw new IOException("classifier.json must name at least two distinct classes");
    }
    float[] weights = floats(root, "weights", Backbone.DIMENSION * classes.size());
    float[] bias = floats(root, "bias", classes.size());
    return new ClassifierHead(classes, weights, bias);
  }

  private static void expect(JsonNode root, String field, String value) throws IOException {
    JsonNode v = root.get(field);
    if (v == null || !v.isValueNode() || !v.asText().equals(value)) {
      throw new IOException(
          "classifier.json has " + field + " " + v + "; this node serves only " + value);
    }
  }

  private static float[] floats(JsonNode root, String field, int count) throws IOException {
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(root.path(field).asText(""));
    } catch (IllegalArgumentException e) {
      throw new IOException("classifier.json's " + field + " is not base64", e);
    }
    if (bytes.length != count * Float.BYTES) {
      throw new IOException(
          "classifier.json's " + field + " holds " + bytes.length + " bytes, not " + count * 4);
    }
    float[] out = new float[count];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  private static String base64(float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return Base64.getEncoder().encodeToString(b.array());
  }
}
