package io.retina.workers.tfjs;

import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;

/**
 * The gradient of a classifier's class score with respect to one of its convolutional feature maps,
 * added to the model's graph: what Grad-CAM needs. Which class is chosen at each run. The ops are
 * Retina's own and lie beside the model's; the model's own runs never reach them. Thread-safe: runs
 * may be concurrent, as the model's are.
 */
public final class ClassScoreGradient {

  /** Where the added ops are named; a number is appended when a model has several. */
  private static final String SCOPE = "retina_explain";

  /**
   * How far back from the class scores {@link #ofLastFeatureMap} looks for a spatial feature map. A
   * classifier's head (pooling, flattening, a few dense layers) is under a dozen ops.
   */
  private static final int MAX_HEAD_OPS = 32;

  /** A feature map and the chosen class score's gradient with respect to it, both [1, h, w, k]. */
  public record Activations(FloatTensor featureMap, FloatTensor gradient) {}

  private final TfModel model;
  private final String inputName;
  private final String featureMap;
  private final String gradient;
  private final String classWeights;
  private final int classes;

  private ClassScoreGradient(
      TfModel model, String featureMap, String gradient, String classWeights, int classes) {
    this.model = model;
    this.inputName = model.signature().input().name();
    this.featureMap = featureMap;
    this.gradient = gradient;
    this.classWeights = classWeights;
    this.classes = classes;
  }

  /**
   * The gradient of the class scores the model's output is made of with respect to its last spatial
   * feature map. The scores are the logits when the output is a softmax of them (Grad-CAM's choice:
   * a probability's gradient fades as it saturates), else the output itself; the feature map is the
   * first tensor of height and width above 1 met walking back from the scores along first inputs
   * (through pooling, flattening and dense layers). Fails when there is no such map, or when an op
   * between them has no gradient in TensorFlow's C++ registry (Round and Rint have none).
   */
  public static ClassScoreGradient ofLastFeatureMap(TfModel model) throws NoGradientException {
    Graph graph = model.graph();
    Output<?> scores = classScores(graph, model.signature().output().opName());
    Output<?> map = lastFeatureMap(graph, scores);
    return of(
        model, map.op().name() + ":" + map.index(), scores.op().name() + ":" + scores.index());
  }

  /**
   * The gradient of {@code scores} ([batch, classes] floats) with respect to {@code featureMap}
   * ([batch, h, w, k] floats), both named as graph tensors ({@code op:index}). Fails when either is
   * missing or not of that shape, or when an op between them has no gradient.
   */
  public static ClassScoreGradient of(TfModel model, String featureMap, String scores)
      throws NoGradientException {
    Graph graph = model.graph();
    Output<?> map = tensor(graph, featureMap);
    Output<?> y = tensor(graph, scores);
    if (map.dataType() != DataType.DT_FLOAT || map.shape().numDimensions() != 4) {
      throw new NoGradientException(featureMap + " is not a float [batch, h, w, k] feature map");
    }
    if (y.dataType() != DataType.DT_FLOAT
        || y.shape().numDimensions() != 2
        || y.shape().size(1) <= 0) {
      throw new NoGradientException(scores + " is not float [batch, classes] scores");
    }
    int classes = (int) y.shape().size(1);
    String[] added =
        model.extendGraph(
            g -> {
              String scope = freeScope(g);
              // the gradient's seed: the one-hot class whose score is followed back, fed per run
              Placeholder<TFloat32> weights =
                  Ops.create(g)
                      .withSubScope(scope)
                      .withName("class_weights")
                      .placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, classes)));
              try {
                Output<?>[] grads =
                    g.addGradients(
                        scope + "/gradients",
                        new Output<?>[] {y},
                        new Output<?>[] {map},
                        new Output<?>[] {weights.output()});
                return new String[] {name(weights.output()), name(grads[0])};
              } catch (RuntimeException e) {
                // the ops added before the failure stay in the graph, unreached by any run
                return new String[] {null, e.getMessage()};
              }
            });
    if (added[0] == null) {
      throw new NoGradientException(firstLine(added[1]));
    }
    return new ClassScoreGradient(model, featureMap, added[1], added[0], classes);
  }

  /** The feature map's name, {@code op:index}. */
  public String featureMap() {
    return featureMap;
  }

  /**
   * Runs the model on a batch-of-one input and returns the feature map and the gradient of class
   * {@code classIndex}'s score with respect to it.
   */
  public Activations run(FloatTensor input, int classIndex) throws FeedRejectedException {
    if (classIndex < 0 || classIndex >= classes) {
      throw new IllegalArgumentException("class " + classIndex + " of " + classes);
    }
    if (input.shape()[0] != 1) {
      throw new FeedRejectedException("Grad-CAM runs one image at a time");
    }
    float[] oneHot = new float[classes];
    oneHot[classIndex] = 1;
    List<FloatTensor> out =
        model.runTensors(
            Map.of(
                inputName, input, classWeights, new FloatTensor(new long[] {1, classes}, oneHot)),
            List.of(featureMap, gradient));
    return new Activations(out.get(0), out.get(1));
  }

  /** The output's op, past Identity ops; its logits when it is a Softmax. */
  private static Output<?> classScores(Graph graph, String outputOp) {
    GraphOperation op = graph.operationOrThrow(outputOp);
    while (op.type().equals("Identity") && op.numInputs() == 1) {
      op = (GraphOperation) op.input(0).op();
    }
    return op.type().equals("Softmax") ? op.input(0) : op.output(0);
  }

  private static Output<?> lastFeatureMap(Graph graph, Output<?> scores)
      throws NoGradientException {
    Output<?> t = scores;
    for (int i = 0; i < MAX_HEAD_OPS && ((GraphOperation) t.op()).numInputs() > 0; i++) {
      t = ((GraphOperation) t.op()).input(0);
      Shape s = t.shape();
      if (t.dataType() == DataType.DT_FLOAT
          && s.numDimensions() == 4
          && s.size(1) > 1
          && s.size(2) > 1) {
        return t;
      }
    }
    throw new NoGradientException(
        "no feature map of height and width above 1 within "
            + MAX_HEAD_OPS
            + " ops of "
            + name(scores));
  }

  private static Output<?> tensor(Graph graph, String name) throws NoGradientException {
    TensorSpec spec = new TensorSpec(name, DataType.DT_FLOAT, null);
    GraphOperation op = graph.operation(spec.opName());
    if (op == null || spec.index() >= op.numOutputs()) {
      throw new NoGradientException("the graph has no tensor " + name);
    }
    return op.output(spec.index());
  }

  private static String freeScope(Graph g) {
    String scope = SCOPE;
    for (int n = 2; g.operation(scope + "/class_weights") != null; n++) {
      scope = SCOPE + "_" + n;
    }
    return scope;
  }

  private static String name(Output<?> o) {
    return o.op().name() + ":" + o.index();
  }

  private static String firstLine(String message) {
    return message == null ? "no gradient" : message.lines().findFirst().orElse(message);
  }
}
