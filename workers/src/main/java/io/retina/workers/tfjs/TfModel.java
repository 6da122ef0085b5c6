package io.retina.workers.tfjs;

import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.RewriterConfig;
import org.tensorflow.types.TFloat32;

/**
 * An imported model: its graph, one session over it, and its signature. Thread-safe: {@link #run}
 * may be called concurrently (TensorFlow sessions are); {@link #close} waits for runs in flight and
 * later runs fail with {@link IllegalStateException}.
 */
public final class TfModel implements AutoCloseable {

  private final Graph graph;
  private final Session session;
  private final ModelSignature signature;
  private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
  private boolean closed;

  /** Takes ownership of {@code graph}: closing the model closes it. */
  TfModel(Graph graph, ModelSignature signature) {
    this.graph = graph;
    this.signature = signature;
    this.session = new Session(graph, sessionConfig());
  }

  /**
   * The options every Retina session runs with. Grappler's remapper fuses ops into oneDNN kernels
   * that give different numbers (the selfie mask moved by up to 0.09) with no error, so it is off.
   */
  static ConfigProto sessionConfig() {
    RewriterConfig rewrites =
        RewriterConfig.newBuilder().setRemapping(RewriterConfig.Toggle.OFF).build();
    return ConfigProto.newBuilder()
        .setGraphOptions(GraphOptions.newBuilder().setRewriteOptions(rewrites))
        .setAllowSoftPlacement(true) // a GPU build may lack a kernel: fall back to CPU for it
        .build();
  }

  public ModelSignature signature() {
    return signature;
  }

  /**
   * Runs a single-input model on one float tensor and returns its first output. The input is
   * checked against the signature first, so a shape the graph can't take never reaches the runtime.
   */
  public FloatTensor run(FloatTensor input) throws FeedRejectedException {
    TensorSpec in = signature.input();
    TensorSpec out = signature.output();
    in.checkFeed(DataType.DT_FLOAT, input.shape());
    lifecycle.readLock().lock();
    try {
      if (closed) {
        throw new IllegalStateException("model is closed");
      }
      try (TFloat32 feed =
              TFloat32.tensorOf(
                  Shape.of(input.shape()), DataBuffers.of(input.data(), true, false));
          Result result =
              session
                  .runner()
                  .feed(in.opName(), in.index(), feed)
                  .fetch(out.opName(), out.index())
                  .run()) {
        Tensor fetched = result.get(0);
        if (!(fetched instanceof TFloat32 floats)) {
          throw new IllegalStateException(out.name() + " is " + fetched.dataType() + ", not float");
        }
        float[] data = new float[Math.toIntExact(floats.size())];
        floats.copyTo(DataBuffers.of(data, false, false));
        return new FloatTensor(floats.shape().asArray(), data);
      }
    } finally {
      lifecycle.readLock().unlock();
    }
  }

  @Override
  public void close() {
    lifecycle.writeLock().lock();
    try {
      if (!closed) {
        closed = true;
        session.close();
        graph.close();
      }
    } finally {
      lifecycle.writeLock().unlock();
    }
  }
}
