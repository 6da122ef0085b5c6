package io.retina.workers.tfjs;

import java.util.Arrays;
import org.tensorflow.proto.DataType;

/**
 * One input or output of a model: the graph tensor's name ({@code op:index}), dtype and shape,
 * where -1 marks a dimension of any size and a null shape an unknown rank. Immutable.
 */
public record TensorSpec(String name, DataType dtype, long[] shape) {

  /**
   * Checks that a tensor of this dtype and shape may be fed here. Runs before every Session.run: a
   * shape the graph was not built for can crash the native runtime (and the JVM with it).
   */
  public void checkFeed(DataType feedType, long[] feedShape) throws FeedRejectedException {
    if (feedType != dtype) {
      throw new FeedRejectedException(name + " takes " + dtype + ", not " + feedType);
    }
    for (long d : feedShape) {
      if (d <= 0) {
        throw new FeedRejectedException(name + " can't take an empty tensor " + str(feedShape));
      }
    }
    if (shape == null) {
      return;
    }
    if (feedShape.length != shape.length) {
      throw new FeedRejectedException(
          name + " takes shape " + str(shape) + ", not " + str(feedShape));
    }
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] >= 0 && shape[i] != feedShape[i]) {
        throw new FeedRejectedException(
            name + " takes shape " + str(shape) + ", not " + str(feedShape));
      }
    }
  }

  /** The op name without the output index. */
  public String opName() {
    int colon = name.lastIndexOf(':');
    return colon < 0 ? name : name.substring(0, colon);
  }

  /** The output index, 0 when the name has none. */
  public int index() {
    int colon = name.lastIndexOf(':');
    return colon < 0 ? 0 : Integer.parseInt(name.substring(colon + 1));
  }

  private static String str(long[] shape) {
    return Arrays.toString(shape).replace("-1", "?");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec t
        && name.equals(t.name)
        && dtype == t.dtype
        && Arrays.equals(shape, t.shape);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + " " + dtype + " " + (shape == null ? "unknown rank" : str(shape));
  }
}
