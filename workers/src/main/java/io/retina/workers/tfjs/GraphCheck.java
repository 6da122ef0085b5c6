package io.retina.workers.tfjs;

import com.google.protobuf.InvalidProtocolBufferException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.tensorflow.TensorFlow;
import org.tensorflow.internal.c_api.TF_Buffer;
import org.tensorflow.internal.c_api.TF_Status;
import org.tensorflow.internal.c_api.global.tensorflow;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.KernelDef;
import org.tensorflow.proto.KernelList;
import org.tensorflow.proto.NodeDef;

/**
 * Decides, before TensorFlow sees a graph, whether it may run on this worker's device: every node,
 * in the graph and in each function of its library, must be an op of {@link AllowedOps}, and must
 * have a kernel registered in this TensorFlow build for the device it runs on, with the types the
 * node uses. A GPU worker also accepts a CPU kernel (sessions fall back to the CPU for ops the GPU
 * lacks). TensorFlow's internal ops (named {@code _...}) are never accepted: their kernels depend
 * on the build and its rewrites (a {@code _FusedDepthwiseConv2dNative} runs and produces nothing
 * with oneDNN off).
 *
 * <p>Stateless and thread-safe; the kernel registry is read once per op and device.
 */
public final class GraphCheck {
  private static final Map<String, List<KernelDef>> KERNELS = new ConcurrentHashMap<>();

  /** The device type of kernels that run on any device (NoOp's, for one). */
  private static final String ANY_DEVICE = "DEFAULT";

  private GraphCheck() {}

  /**
   * Checks {@code def} for {@code device} ({@code "cpu"} or {@code "gpu"}).
   *
   * @throws ModelRefusedException naming the first op that may not or can't run
   */
  public static void check(GraphDef def, String device) throws ModelRefusedException {
    walk(def, device);
  }

  /**
   * Checks only what doesn't depend on a device: every op allowed, none internal. For an upload,
   * before it is known where it will run.
   */
  public static void checkAllowed(GraphDef def) throws ModelRefusedException {
    walk(def, null);
  }

  private static void walk(GraphDef def, String device) throws ModelRefusedException {
    Set<String> functions = new HashSet<>();
    for (FunctionDef f : def.getLibrary().getFunctionList()) {
      functions.add(f.getSignature().getName());
    }
    for (NodeDef node : def.getNodeList()) {
      check(node, "", functions, device);
    }
    for (FunctionDef f : def.getLibrary().getFunctionList()) {
      for (NodeDef node : f.getNodeDefList()) {
        check(node, " in function " + f.getSignature().getName(), functions, device);
      }
    }
  }

  private static void check(NodeDef node, String where, Set<String> functions, String device)
      throws ModelRefusedException {
    String op = node.getOp();
    if (functions.contains(op)) {
      return; // a call of one of the graph's own functions, whose nodes are checked too
    }
    String at = " (node " + node.getName() + where + ")";
    if (op.startsWith("_")) {
      throw new ModelRefusedException(
          op, "op " + op + at + " is internal to TensorFlow and doesn't run on every machine");
    }
    if (!AllowedOps.ALL.contains(op)) {
      throw new ModelRefusedException(
          op, "op " + op + at + " is not allowed: a model may only compute on tensors");
    }
    if (device == null) {
      return;
    }
    if (!hasKernel(node, device.toUpperCase())
        && !(device.equalsIgnoreCase("gpu") && hasKernel(node, "CPU"))) {
      throw new ModelRefusedException(
          op,
          "op "
              + op
              + at
              + " has no "
              + device.toUpperCase()
              + " kernel for its types in this TensorFlow build");
    }
  }

  /** Whether a kernel for {@code deviceType} takes the types {@code node} gives its op. */
  private static boolean hasKernel(NodeDef node, String deviceType) {
    for (KernelDef k : kernels(node.getOp())) {
      boolean onDevice =
          k.getDeviceType().equals(deviceType) || k.getDeviceType().equals(ANY_DEVICE);
      if (onDevice && k.getLabel().isEmpty() && accepts(k, node)) {
        return true;
      }
    }
    return false;
  }

  private static boolean accepts(KernelDef kernel, NodeDef node) {
    for (KernelDef.AttrConstraint c : kernel.getConstraintList()) {
      AttrValue value = node.getAttrMap().get(c.getName());
      if (value == null || !c.getAllowedValues().hasList()) {
        continue; // a default the kernel was built for, or a placeholder a call fills in
      }
      List<DataType> allowed = c.getAllowedValues().getList().getTypeList();
      if (value.hasList()) {
        if (!allowed.containsAll(value.getList().getTypeList())) {
          return false;
        }
      } else if (value.getValueCase() == AttrValue.ValueCase.TYPE
          && !allowed.contains(value.getType())) {
        return false;
      }
    }
    return true;
  }

  private static List<KernelDef> kernels(String op) {
    return KERNELS.computeIfAbsent(op, GraphCheck::registered);
  }

  private static List<KernelDef> registered(String op) {
    TensorFlow.version(); // loads the native library
    TF_Status status = TF_Status.newStatus();
    TF_Buffer buffer = tensorflow.TF_GetRegisteredKernelsForOp(op, status);
    try {
      if (tensorflow.TF_GetCode(status) != tensorflow.TF_OK || buffer == null) {
        return List.of(); // an op this build doesn't know
      }
      return KernelList.parseFrom(buffer.copyData()).getKernelList();
    } catch (InvalidProtocolBufferException e) {
      return List.of();
    } finally {
      status.delete();
      if (buffer != null) {
        tensorflow.TF_DeleteBuffer(buffer);
      }
    }
  }
}
