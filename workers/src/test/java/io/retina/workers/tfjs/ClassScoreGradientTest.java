package io.retina.workers.tfjs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.retina.workers.explain.Explainer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;

/**
 * Which graphs give Grad-CAM its gradient, on a small classifier built here: an 8x8 convolution,
 * global pooling and a dense softmax head, with or without a Round in the head (an op TensorFlow's
 * C++ registry has no gradient for). The moderation graphs are tested in ModerationTaskTest.
 */
class ClassScoreGradientTest {

  private static TfModel classifier(boolean roundInTheHead) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Placeholder<TFloat32> x =
        tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 8, 8, 3)));
    float[][][][] filter = new float[3][3][3][4];
    for (int i = 0; i < 3 * 3 * 3 * 4; i++) {
      filter[i / 36][i / 12 % 3][i / 4 % 3][i % 4] = (float) Math.sin(i);
    }
    Operand<TFloat32> features =
        tf.nn.relu(tf.nn.conv2d(x, tf.constant(filter), List.of(1L, 1L, 1L, 1L), "SAME"));
    Operand<TFloat32> pooled =
        tf.nn.avgPool(features, List.of(1L, 8L, 8L, 1L), List.of(1L, 8L, 8L, 1L), "VALID");
    if (roundInTheHead) {
      pooled = tf.math.round(pooled);
    }
    Operand<TFloat32> flat = tf.reshape(pooled, tf.constant(new int[] {-1, 4}));
    Operand<TFloat32> logits =
        tf.linalg.matMul(flat, tf.constant(new float[][] {{1, -1}, {-1, 1}, {0.5f, 0}, {0, 0.5f}}));
    tf.withName("probs").nn.softmax(logits);
    return new TfModel(
        g,
        new ModelSignature(
            List.of(new TensorSpec("x:0", DataType.DT_FLOAT, new long[] {-1, 8, 8, 3})),
            List.of(new TensorSpec("probs:0", DataType.DT_FLOAT, new long[] {-1, 2}))));
  }

  private static float[] image() {
    float[] hwc = new float[8 * 8 * 3];
    for (int i = 0; i < hwc.length; i++) {
      hwc[i] = (i * 7 % 11) / 11f;
    }
    return hwc;
  }

  private static Explainer.Classifier probabilities(TfModel model) {
    return inputs -> {
      float[] batch = new float[inputs.length * 8 * 8 * 3];
      for (int i = 0; i < inputs.length; i++) {
        System.arraycopy(inputs[i], 0, batch, i * 8 * 8 * 3, 8 * 8 * 3);
      }
      float[] p = model.run(new FloatTensor(new long[] {inputs.length, 8, 8, 3}, batch)).data();
      float[][] out = new float[inputs.length][];
      for (int i = 0; i < inputs.length; i++) {
        out[i] = new float[] {p[2 * i], p[2 * i + 1]};
      }
      return out;
    };
  }

  @Test
  void findsTheFeatureMapBeforePoolingAndFollowsTheLogitsBackToIt() throws Exception {
    try (TfModel model = classifier(false)) {
      ClassScoreGradient gradient = ClassScoreGradient.ofLastFeatureMap(model);
      assertEquals("Relu", model.graph().operation(gradient.featureMap().split(":")[0]).type());
      ClassScoreGradient.Activations a = gradient.run(FloatTensor.image(8, 8, 3, image()), 1);
      assertArrayEquals(new long[] {1, 8, 8, 4}, a.featureMap().shape());
      assertArrayEquals(new long[] {1, 8, 8, 4}, a.gradient().shape());
      // class 1's logit is -f0 + f1 + 0.5 f3 of the features pooled over 64 cells: each cell's
      // gradient is the channel's weight over 64
      float[] weights = {-1, 1, 0, 0.5f};
      for (int i = 0; i < a.gradient().data().length; i++) {
        assertEquals(weights[i % 4] / 64, a.gradient().data()[i], 1e-6, "value " + i);
      }
      assertEquals(Explainer.Method.GRAD_CAM, Explainer.of(model, probabilities(model)).method());
    }
  }

  @Test
  void anOpWithoutAGradientInTheHeadLeavesOcclusion() throws Exception {
    try (TfModel model = classifier(true)) {
      NoGradientException e =
          assertThrows(NoGradientException.class, () -> ClassScoreGradient.ofLastFeatureMap(model));
      System.out.println("no Grad-CAM: " + e.getMessage());
      Explainer explainer = Explainer.of(model, probabilities(model));
      assertEquals(Explainer.Method.OCCLUSION, explainer.method());
      Explainer.Explanation explanation = explainer.explain(image(), 8, 8, 0);
      assertEquals(Explainer.Method.OCCLUSION, explanation.method());
      // the model still runs: the ops added before the failure are never reached
      assertEquals(2, model.run(FloatTensor.image(8, 8, 3, image())).data().length);
    }
  }
}
