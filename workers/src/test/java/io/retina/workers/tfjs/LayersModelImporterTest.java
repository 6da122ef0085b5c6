package io.retina.workers.tfjs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keras layers beyond what the catalog's upscalers use, on small models with known answers. */
class LayersModelImporterTest {

  @TempDir Path dir;

  private Path write(String topology, String weights, float... values) throws IOException {
    ByteBuffer bin = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      bin.putFloat(v);
    }
    Files.write(dir.resolve("w.bin"), bin.array());
    Path model = dir.resolve("model.json");
    Files.writeString(
        model,
        "{\"format\": \"layers-model\", \"modelTopology\": {\"model_config\": "
            + topology
            + "},"
            + "\"weightsManifest\": [{\"paths\": [\"w.bin\"], \"weights\": ["
            + weights
            + "]}]}");
    return model;
  }

  private static String layer(String type, String name, String config, String... inbound) {
    StringBuilder nodes = new StringBuilder();
    for (String in : inbound) {
      nodes
          .append(nodes.length() == 0 ? "" : ", ")
          .append("[\"")
          .append(in)
          .append("\", 0, 0, {}]");
    }
    return "{\"class_name\": \""
        + type
        + "\", \"name\": \""
        + name
        + "\", \"config\": {\"name\": \""
        + name
        + "\""
        + (config.isEmpty() ? "" : ", " + config)
        + "}, \"inbound_nodes\": ["
        + (inbound.length == 0 ? "" : "[" + nodes + "]")
        + "]}";
  }

  private static String weight(String name, String shape) {
    return "{\"name\": \"" + name + "\", \"shape\": " + shape + ", \"dtype\": \"float32\"}";
  }

  @Test
  void functionalModelWithNormalizationPaddingPoolingAndDense() throws Exception {
    String topology =
        "{\"class_name\": \"Functional\", \"config\": {\"name\": \"m\", \"layers\": ["
            + String.join(
                ", ",
                layer(
                    "InputLayer",
                    "in",
                    "\"batch_input_shape\": [null, 2, 2, 1], \"dtype\": \"float32\""),
                layer("BatchNormalization", "bn", "\"axis\": [3], \"epsilon\": 1.0", "in"),
                layer("ZeroPadding2D", "pad", "\"padding\": [[1, 1], [1, 1]]", "bn"),
                layer(
                    "MaxPooling2D",
                    "pool",
                    "\"pool_size\": [2, 2], \"strides\": null, \"padding\": \"valid\"",
                    "pad"),
                layer("Flatten", "flat", "", "pool"),
                layer("Dropout", "drop", "\"rate\": 0.5", "flat"),
                layer(
                    "Dense",
                    "dense",
                    "\"units\": 1, \"activation\": \"linear\", \"use_bias\": true",
                    "drop"),
                layer("ReLU", "cap", "\"max_value\": 4.0", "dense"))
            + "], \"input_layers\": [[\"in\", 0, 0]], \"output_layers\": [[\"cap\", 0, 0]]}}";
    String weights =
        String.join(
            ", ",
            weight("bn/gamma", "[1]"),
            weight("bn/beta", "[1]"),
            weight("bn/moving_mean", "[1]"),
            weight("bn/moving_variance", "[1]"),
            weight("dense/kernel", "[4, 1]"),
            weight("dense/bias", "[1]"));
    // bn: x * 2 / sqrt(3 + 1) + (1 - 0.5 * 1) = x + 0.5
    Path model = write(topology, weights, 2, 1, 0.5f, 3, 1, 1, 1, 1, 0);
    try (TfModel m = TfjsModels.load(model)) {
      FloatTensor small = m.run(FloatTensor.image(2, 2, 1, new float[] {1, -2, 3, -4}));
      // bn [1.5, -1.5, 3.5, -3.5], padded, 2x2 max pools [1.5, 0, 3.5, 0], summed 5, capped 4
      assertArrayEquals(new float[] {4f}, small.data(), 1e-6f);
      FloatTensor smaller = m.run(FloatTensor.image(2, 2, 1, new float[] {0.5f, -2, 1, -4}));
      assertArrayEquals(new float[] {2.5f}, smaller.data(), 1e-6f); // 1 + 0 + 1.5 + 0
      assertThrows(
          FeedRejectedException.class, () -> m.run(FloatTensor.image(3, 2, 1, new float[6])));
    }
  }

  @Test
  void sequentialModelWithConvolutionAndUpsampling() throws Exception {
    String conv =
        "\"filters\": 1, \"kernel_size\": [1, 1], \"strides\": [1, 1], \"padding\": \"same\","
            + " \"data_format\": \"channels_last\", \"dilation_rate\": [1, 1], \"activation\": \"relu\", \"use_bias\": true";
    String topology =
        "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
            + "{\"class_name\": \"Conv2D\", \"config\": {\"name\": \"c\", \"batch_input_shape\": [null, null, null, 1], "
            + conv
            + "}},"
            + "{\"class_name\": \"UpSampling2D\", \"config\": {\"name\": \"up\", \"size\": [2, 2], \"interpolation\": \"nearest\"}}"
            + "]}}";
    Path model =
        write(topology, weight("c/kernel", "[1, 1, 1, 1]") + ", " + weight("c/bias", "[1]"), 2, 1);
    try (TfModel m = TfjsModels.load(model)) {
      FloatTensor out = m.run(FloatTensor.image(1, 2, 1, new float[] {1, -3}));
      assertArrayEquals(new long[] {1, 2, 4, 1}, out.shape());
      assertArrayEquals(new float[] {3, 3, 0, 0, 3, 3, 0, 0}, out.data(), 1e-6f);
    }
  }

  @Test
  void unsupportedLayerFailsTheImport() throws Exception {
    String topology =
        "{\"class_name\": \"Functional\", \"config\": {\"name\": \"m\", \"layers\": ["
            + layer("InputLayer", "in", "\"batch_input_shape\": [null, 2]")
            + ", "
            + layer("LSTM", "rnn", "\"units\": 1", "in")
            + "], \"input_layers\": [[\"in\", 0, 0]], \"output_layers\": [[\"rnn\", 0, 0]]}}";
    Path model = write(topology, weight("unused", "[1]"), 0);
    IOException e = assertThrows(IOException.class, () -> TfjsModels.load(model));
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("LSTM"), e.getMessage());
  }
}
