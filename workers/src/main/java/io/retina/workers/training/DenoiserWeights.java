package io.retina.workers.training;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A trained denoiser's parameters, and its file, {@code denoiser.json}:
 *
 * <pre>{@code
 * {"architecture": "conv-autoencoder", "version": 1, "noiseSigma": 0.098,
 *  "parameters": {"enc1_kernel": {"shape": [3, 3, 3, 32], "values": "<base64>"}, ...}}
 * }</pre>
 *
 * where each parameter's values are float32, little-endian, row-major in its shape (a kernel is
 * [height, width, in, out], as TensorFlow's Conv2D takes it), and {@code noiseSigma} is the
 * standard deviation of the noise it was trained on, as a fraction of full scale. The network is
 * the one the architecture and version name. Immutable by convention (nothing writes to the arrays
 * after construction) and thread-safe.
 */
public record DenoiserWeights(Map<String, float[]> parameters, double noiseSigma) {

  public DenoiserWeights {
    parameters = Map.copyOf(parameters);
    List<String> names = ConvAutoencoder.parameters();
    if (!parameters.keySet().equals(Set.copyOf(names))) {
      throw new IllegalArgumentException(
          "parameters " + parameters.keySet() + " are not the network's " + names);
    }
    for (String name : names) {
      if (parameters.get(name).length != ConvAutoencoder.size(name)) {
        throw new IllegalArgumentException(
            name + " holds " + parameters.get(name).length + " values");
      }
    }
  }

  /**
   * The network before training, drawn from {@code seed}: what a training starts from. Its last
   * layer is zero, so it answers its input unchanged.
   */
  public static DenoiserWeights untrained(long seed, double noiseSigma) {
    return new DenoiserWeights(ConvAutoencoder.initial(seed), noiseSigma);
  }

  /** The weights as {@code denoiser.json}. */
  public byte[] toJson() {
    Map<String, Object> params = new LinkedHashMap<>();
    for (String name : ConvAutoencoder.parameters()) {
      params.put(
          name,
          Map.of("shape", ConvAutoencoder.shape(name), "values", base64(parameters.get(name))));
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("architecture", ConvAutoencoder.ARCHITECTURE);
    json.put("version", ConvAutoencoder.VERSION);
    json.put("noiseSigma", noiseSigma);
    json.put("parameters", params);
    return Json.write(json).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Reads a {@code denoiser.json}; fails with IOException if it is not one, or is one of another
   * architecture or version than this node serves.
   */
  public static DenoiserWeights parse(byte[] json) throws IOException {
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(json);
    } catch (IOException e) {
      throw new IOException("denoiser.json is not JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IOException("denoiser.json is not a JSON object");
    }
    String architecture = root.path("architecture").asText("");
    int version = root.path("version").asInt(-1);
    if (!architecture.equals(ConvAutoencoder.ARCHITECTURE) || version != ConvAutoencoder.VERSION) {
      throw new IOException(
          String.format(
              "denoiser.json is of architecture '%s' version %d; this node serves only '%s' %d",
              architecture, version, ConvAutoencoder.ARCHITECTURE, ConvAutoencoder.VERSION));
    }
    Map<String, float[]> params = new LinkedHashMap<>();
    for (String name : ConvAutoencoder.parameters()) {
      JsonNode p = root.path("parameters").path(name);
      long[] shape = ConvAutoencoder.shape(name);
      JsonNode s = p.path("shape");
      boolean fits = s.isArray() && s.size() == shape.length;
      for (int i = 0; fits && i < shape.length; i++) {
        fits = s.get(i).asLong() == shape[i];
      }
      if (!fits) {
        throw new IOException(
            "denoiser.json's "
                + name
                + " has shape "
                + s
                + ", not "
                + java.util.Arrays.toString(shape));
      }
      params.put(name, floats(p.path("values").asText(""), name));
    }
    return new DenoiserWeights(params, root.path("noiseSigma").asDouble(0));
  }

  private static float[] floats(String base64, String name) throws IOException {
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new IOException("denoiser.json's " + name + " is not base64", e);
    }
    int count = ConvAutoencoder.size(name);
    if (bytes.length != count * Float.BYTES) {
      throw new IOException(
          "denoiser.json's "
              + name
              + " holds "
              + bytes.length
              + " bytes, not "
              + count * Float.BYTES);
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
