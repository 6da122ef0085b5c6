package io.retina.workers.devices;

import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * Which device this worker's TensorFlow runs models on. The GPU build of TensorFlow Java (Maven
 * profile {@code gpu}) places every op on the first GPU when one is usable; the CPU build, or a
 * machine without a usable GPU and driver, runs on the CPU. Found by placing a small op on {@code
 * /device:GPU:0} with soft placement off: the run succeeds only if a GPU kernel really ran it.
 * Thread-safe; probes once.
 */
public final class Devices {
  /** The device models run on, in words for operators, and whether it is a GPU. */
  public record Device(String kind, String description) {}

  private static volatile Device probed;

  private Devices() {}

  public static Device current() {
    Device d = probed;
    if (d == null) {
      synchronized (Devices.class) {
        if (probed == null) {
          probed = probe();
        }
        d = probed;
      }
    }
    return d;
  }

  private static Device probe() {
    try (Graph g = new Graph()) {
      Ops tf =
          Ops.create(g)
              .withDevice(
                  org.tensorflow.DeviceSpec.newBuilder()
                      .deviceType(org.tensorflow.DeviceSpec.DeviceType.GPU)
                      .deviceIndex(0)
                      .build());
      var sum = tf.math.add(tf.constant(1f), tf.constant(2f));
      ConfigProto strict = ConfigProto.newBuilder().setAllowSoftPlacement(false).build();
      try (Session s = new Session(g, strict);
          var result = s.runner().fetch(sum).run()) {
        float v = ((TFloat32) result.get(0)).getFloat();
        if (v == 3f) {
          return new Device("gpu", "GPU:0 (TensorFlow Java GPU build)");
        }
      }
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      // no GPU kernel, device or driver: the CPU it is
    }
    return new Device(
        "cpu",
        "CPU, "
            + Runtime.getRuntime().availableProcessors()
            + " cores (TensorFlow Java CPU build or no usable GPU)");
  }
}
