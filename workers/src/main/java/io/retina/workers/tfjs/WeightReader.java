package io.retina.workers.tfjs;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads the weights a TF.js {@code weightsManifest} describes from its shard files, dequantizing
 * float16, uint8 and uint16 weights to float32. Stateless and thread-safe.
 */
final class WeightReader {

  private WeightReader() {}

  /** All weights of the manifest, by name; {@code dir} is where model.json and its shards lie. */
  static Map<String, Weight> read(Path dir, JsonArray manifest) throws IOException {
    Map<String, Weight> weights = new HashMap<>();
    for (JsonElement groupElement : manifest) {
      JsonObject group = groupElement.getAsJsonObject();
      ByteBuffer data = ByteBuffer.wrap(concatShards(dir, group.getAsJsonArray("paths")));
      data.order(ByteOrder.LITTLE_ENDIAN); // TF.js writes typed arrays, little-endian
      for (JsonElement specElement : group.getAsJsonArray("weights")) {
        Weight w = readOne(specElement.getAsJsonObject(), data);
        weights.put(w.name(), w);
      }
    }
    return weights;
  }

  private static byte[] concatShards(Path dir, JsonArray paths) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (JsonElement p : paths) {
      Path shard = dir.resolve(p.getAsString()).normalize();
      if (!shard.startsWith(dir.normalize())) {
        throw new IOException("weight shard outside the model directory: " + p.getAsString());
      }
      all.write(Files.readAllBytes(shard));
    }
    return all.toByteArray();
  }

  private static Weight readOne(JsonObject spec, ByteBuffer data) throws IOException {
    String name = spec.get("name").getAsString();
    String dtype = spec.get("dtype").getAsString();
    JsonArray shapeJson = spec.getAsJsonArray("shape");
    long[] shape = new long[shapeJson.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shapeJson.get(i).getAsLong();
    }
    long count = Weight.elements(shape);
    JsonObject quantization =
        spec.has("quantization") ? spec.getAsJsonObject("quantization") : null;
    String stored = quantization != null ? quantization.get("dtype").getAsString() : dtype;
    long bytes = count * bytesPerElement(stored, name);
    if (count > Integer.MAX_VALUE || bytes > data.remaining()) {
      throw new IOException("weight " + name + " runs past the end of its shards");
    }
    int n = (int) count;
    try {
      return switch (stored) {
        case "float32" -> new Weight(name, dtype, shape, floats(data, n), null);
        case "int32" -> new Weight(name, dtype, shape, null, ints(data, n));
        case "bool" -> new Weight(name, dtype, shape, null, bools(data, n));
        case "float16" -> new Weight(name, "float32", shape, halves(data, n), null);
        case "uint8", "uint16" -> dequantized(name, dtype, shape, quantization, data, n, stored);
        default -> throw new IOException("weight " + name + " has unsupported dtype " + stored);
      };
    } catch (IllegalStateException | UnsupportedOperationException | NullPointerException e) {
      throw new IOException("weight " + name + " has a malformed quantization", e);
    }
  }

  private static int bytesPerElement(String dtype, String name) throws IOException {
    return switch (dtype) {
      case "float32", "int32" -> 4;
      case "float16", "uint16" -> 2;
      case "uint8", "bool" -> 1;
      default -> throw new IOException("weight " + name + " has unsupported dtype " + dtype);
    };
  }

  private static float[] floats(ByteBuffer data, int n) {
    float[] out = new float[n];
    data.asFloatBuffer().get(out);
    data.position(data.position() + n * 4);
    return out;
  }

  private static int[] ints(ByteBuffer data, int n) {
    int[] out = new int[n];
    data.asIntBuffer().get(out);
    data.position(data.position() + n * 4);
    return out;
  }

  private static int[] bools(ByteBuffer data, int n) {
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = data.get() != 0 ? 1 : 0;
    }
    return out;
  }

  private static float[] halves(ByteBuffer data, int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = Float16.toFloat(data.getShort() & 0xffff);
    }
    return out;
  }

  /** Affine-quantized weights: value = q * scale + min, then cast to the original dtype. */
  private static Weight dequantized(
      String name,
      String dtype,
      long[] shape,
      JsonObject q,
      ByteBuffer data,
      int n,
      String stored) {
    float scale = q.get("scale").getAsFloat();
    float min = q.get("min").getAsFloat();
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      int raw = stored.equals("uint8") ? data.get() & 0xff : data.getShort() & 0xffff;
      values[i] = raw * scale + min;
    }
    if (dtype.equals("int32")) {
      int[] ints = new int[n];
      for (int i = 0; i < n; i++) {
        ints[i] = Math.round(values[i]);
      }
      return new Weight(name, dtype, shape, null, ints);
    }
    return new Weight(name, "float32", shape, values, null);
  }
}
