package io.retina.workers.tfjs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;

class GraphModelImporterTest {

  @TempDir Path dir;

  /**
   * out = reshape(x * w16 + w8, shape): a float16 weight, a uint8-quantized weight and an int64
   * constant that TF.js stored as int32, which would crash the runtime if fed as it is.
   */
  private Path writeQuantizedModel() throws IOException {
    String json =
        """
        {"format": "graph-model",
         "modelTopology": {"node": [
          {"name": "x", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"},
            "shape": {"shape": {"dim": [{"size": "1"}, {"size": "4"}]}}}},
          {"name": "w16", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"},
            "value": {"tensor": {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "4"}]}}}}},
          {"name": "w8", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"},
            "value": {"tensor": {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "4"}]}}}}},
          {"name": "shape", "op": "Const", "attr": {"dtype": {"type": "DT_INT64"},
            "value": {"tensor": {"dtype": "DT_INT64", "tensorShape": {"dim": [{"size": "2"}]}}}}},
          {"name": "mul", "op": "Mul", "input": ["x", "w16"], "attr": {"T": {"type": "DT_FLOAT"}}},
          {"name": "add", "op": "AddV2", "input": ["mul", "w8"], "attr": {"T": {"type": "DT_FLOAT"}}},
          {"name": "out", "op": "Reshape", "input": ["add", "shape"],
            "attr": {"T": {"type": "DT_FLOAT"}, "Tshape": {"type": "DT_INT64"}}}
         ], "versions": {"producer": 1}},
         "weightsManifest": [{"paths": ["g.bin"], "weights": [
          {"name": "w16", "shape": [4], "dtype": "float32",
            "quantization": {"dtype": "float16", "original_dtype": "float32"}},
          {"name": "w8", "shape": [4], "dtype": "float32",
            "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0, "original_dtype": "float32"}},
          {"name": "shape", "shape": [2], "dtype": "int32"}
         ]}]}
        """;
    ByteBuffer bin = ByteBuffer.allocate(8 + 4 + 8).order(ByteOrder.LITTLE_ENDIAN);
    bin.putShort((short) 0x3800)
        .putShort((short) 0xBC00)
        .putShort((short) 0x4000)
        .putShort((short) 0x3400);
    bin.put((byte) 0).put((byte) 2).put((byte) 4).put((byte) 6);
    bin.putInt(2).putInt(2);
    Files.write(dir.resolve("g.bin"), bin.array());
    Path model = dir.resolve("model.json");
    Files.writeString(model, json);
    return model;
  }

  @Test
  void dequantizesWeightsAndWidensInt64Constants() throws Exception {
    try (TfModel model = TfjsModels.load(writeQuantizedModel())) {
      FloatTensor out = model.run(new FloatTensor(new long[] {1, 4}, new float[] {1, 2, 3, 4}));
      assertArrayEquals(new long[] {2, 2}, out.shape());
      // w16 = [0.5, -1, 2, 0.25], w8 = [-1, 0, 1, 2]
      assertArrayEquals(new float[] {-0.5f, -2f, 7f, 3f}, out.data());
    }
  }

  @Test
  void infersSignatureFromPlaceholdersAndUnconsumedNodes() throws Exception {
    try (TfModel model = TfjsModels.load(writeQuantizedModel())) {
      assertEquals(
          new TensorSpec("x:0", DataType.DT_FLOAT, new long[] {1, 4}), model.signature().input());
      assertEquals("out:0", model.signature().output().name());
    }
  }

  @Test
  void refusesFeedsTheSignatureDoesNotAllow() throws Exception {
    try (TfModel model = TfjsModels.load(writeQuantizedModel())) {
      assertThrows(
          FeedRejectedException.class,
          () -> model.run(new FloatTensor(new long[] {2, 4}, new float[8])));
      assertThrows(
          FeedRejectedException.class,
          () -> model.run(new FloatTensor(new long[] {1, 5}, new float[5])));
      assertThrows(
          FeedRejectedException.class,
          () -> model.run(new FloatTensor(new long[] {4}, new float[4])));
    }
  }

  @Test
  void importsSelfieWithItsDeclaredSignature() throws Exception {
    Path selfie = ModelCacheFixtures.humanModels().resolve("models/selfie.json");
    try (TfModel model = TfjsModels.load(selfie)) {
      assertEquals(
          new TensorSpec("input_1:0", DataType.DT_FLOAT, new long[] {1, 256, 256, 3}),
          model.signature().input());
      assertEquals(
          new TensorSpec("activation_10:0", DataType.DT_FLOAT, new long[] {1, 256, 256, 1}),
          model.signature().output());
    }
  }

  @Test
  void refusesABatchTheSelfieGraphWasNotBuiltFor() throws Exception {
    // batch 8 reaches a oneDNN kernel that dies with SIGILL, taking the JVM along: it must never
    // run
    Path selfie = ModelCacheFixtures.humanModels().resolve("models/selfie.json");
    try (TfModel model = TfjsModels.load(selfie)) {
      FeedRejectedException e =
          assertThrows(
              FeedRejectedException.class,
              () ->
                  model.run(
                      new FloatTensor(new long[] {8, 256, 256, 3}, new float[8 * 256 * 256 * 3])));
      assertEquals("input_1:0 takes shape [1, 256, 256, 3], not [8, 256, 256, 3]", e.getMessage());
      assertThrows(
          FeedRejectedException.class,
          () -> model.run(new FloatTensor(new long[] {1, 128, 128, 3}, new float[128 * 128 * 3])));
    }
  }

  @Test
  void failsWithIoExceptionOnAMissingShard() throws Exception {
    Path model = writeQuantizedModel();
    Files.delete(dir.resolve("g.bin"));
    assertThrows(IOException.class, () -> TfjsModels.load(model));
  }

  @Test
  void failsWithIoExceptionOnAnUnknownOp() throws Exception {
    Path model = writeQuantizedModel();
    Files.writeString(
        model, Files.readString(model).replace("\"op\": \"AddV2\"", "\"op\": \"NoSuchOp\""));
    assertThrows(IOException.class, () -> TfjsModels.load(model));
  }
}
