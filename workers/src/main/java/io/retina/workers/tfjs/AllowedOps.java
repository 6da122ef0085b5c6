package io.retina.workers.tfjs;

import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The TensorFlow ops a model may contain: pure math on tensors. Everything else (reading or writing
 * files, strings and formatting, queues and readers, Save and Restore, Python callbacks, variables
 * and resources, random state, sending tensors between devices, TensorFlow's internal {@code _}
 * ops) is refused, so that a model can compute an answer from its input and nothing more.
 *
 * <p>The list is the catalog's ops plus the ordinary arithmetic, neural-network, array, image and
 * control-flow ops a converted vision model uses. An op joins it only if it has no effect outside
 * the tensors it is given and returns. Immutable.
 */
final class AllowedOps {
  private AllowedOps() {}

  /** Graph structure: inputs, constants, identities and calls of the graph's own functions. */
  private static final Set<String> STRUCTURE =
      Set.of(
          "Placeholder",
          "PlaceholderWithDefault",
          "Const",
          "Identity",
          "IdentityN",
          "NoOp",
          "StopGradient",
          "PreventGradient",
          "Snapshot",
          "EnsureShape",
          "CheckNumerics",
          "PartitionedCall",
          "StatefulPartitionedCall");

  /** Control flow, in both of TensorFlow's forms. */
  private static final Set<String> CONTROL_FLOW =
      Set.of(
          "If",
          "StatelessIf",
          "While",
          "StatelessWhile",
          "Case",
          "StatelessCase",
          "Switch",
          "Merge",
          "Enter",
          "Exit",
          "NextIteration",
          "LoopCond");

  /** Element-wise and reducing arithmetic. */
  private static final Set<String> MATH =
      Set.of(
          "Abs",
          "Acos",
          "Acosh",
          "Add",
          "AddN",
          "AddV2",
          "All",
          "Any",
          "ApproximateEqual",
          "ArgMax",
          "ArgMin",
          "Asin",
          "Asinh",
          "Atan",
          "Atan2",
          "Atanh",
          "BatchMatMul",
          "BatchMatMulV2",
          "BatchMatMulV3",
          "Cast",
          "Ceil",
          "ClipByValue",
          "Cos",
          "Cosh",
          "Cumprod",
          "Cumsum",
          "DivNoNan",
          "Einsum",
          "Equal",
          "Erf",
          "Erfc",
          "Exp",
          "Expm1",
          "Floor",
          "FloorDiv",
          "FloorMod",
          "Greater",
          "GreaterEqual",
          "Inv",
          "IsFinite",
          "IsInf",
          "IsNan",
          "Less",
          "LessEqual",
          "Log",
          "Log1p",
          "LogicalAnd",
          "LogicalNot",
          "LogicalOr",
          "MatMul",
          "Max",
          "Maximum",
          "Mean",
          "Min",
          "Minimum",
          "Mod",
          "Mul",
          "MulNoNan",
          "Neg",
          "NotEqual",
          "Pow",
          "Prod",
          "RealDiv",
          "Reciprocal",
          "Rint",
          "Round",
          "Rsqrt",
          "Select",
          "SelectV2",
          "Sigmoid",
          "Sign",
          "Sin",
          "Sinh",
          "Softplus",
          "Softsign",
          "Sqrt",
          "Square",
          "SquaredDifference",
          "Sub",
          "Sum",
          "Tan",
          "Tanh",
          "TruncateDiv",
          "TruncateMod",
          "Xdivy",
          "Xlogy");

  /** Neural-network layers. */
  private static final Set<String> NN =
      Set.of(
          "AvgPool",
          "AvgPool3D",
          "BiasAdd",
          "Conv2D",
          "Conv2DBackpropInput",
          "Conv3D",
          "Conv3DBackpropInputV2",
          "DepthwiseConv2dNative",
          "DepthwiseConv2dNativeBackpropInput",
          "Dilation2D",
          "Elu",
          "FusedBatchNorm",
          "FusedBatchNormV3",
          "LRN",
          "LeakyRelu",
          "LogSoftmax",
          "MaxPool",
          "MaxPool3D",
          "MaxPoolV2",
          "MaxPoolWithArgmax",
          "Relu",
          "Relu6",
          "Selu",
          "Softmax",
          "TopKV2");

  /** Shapes, slices, gathers and the like. */
  private static final Set<String> ARRAY =
      Set.of(
          "BatchToSpaceND",
          "BroadcastArgs",
          "BroadcastTo",
          "Concat",
          "ConcatV2",
          "DepthToSpace",
          "ExpandDims",
          "Fill",
          "Gather",
          "GatherNd",
          "GatherV2",
          "LinSpace",
          "MirrorPad",
          "OneHot",
          "OnesLike",
          "Pack",
          "Pad",
          "PadV2",
          "Range",
          "Rank",
          "Reshape",
          "Reverse",
          "ReverseV2",
          "ScatterNd",
          "Shape",
          "ShapeN",
          "Size",
          "Slice",
          "SpaceToBatchND",
          "SparseToDense",
          "SpaceToDepth",
          "Split",
          "SplitV",
          "Squeeze",
          "StridedSlice",
          "Tile",
          "Transpose",
          "Unpack",
          "Where",
          "ZerosLike");

  /**
   * Lists and arrays of tensors that loops build within one run. A {@code TensorArray} is a
   * resource, but one that lives and dies inside the run that made it.
   */
  private static final Set<String> TENSOR_LISTS =
      Set.of(
          "TensorListFromTensor",
          "TensorListGetItem",
          "TensorListLength",
          "TensorListReserve",
          "TensorListSetItem",
          "TensorListStack",
          "TensorListPushBack",
          "TensorListPopBack",
          "TensorListElementShape",
          "TensorArrayV3",
          "TensorArrayReadV3",
          "TensorArrayWriteV3",
          "TensorArrayGatherV3",
          "TensorArrayScatterV3",
          "TensorArraySizeV3",
          "TensorArrayConcatV3",
          "TensorArraySplitV3",
          "TensorArrayCloseV3");

  /** Image ops: resizing, cropping, colour, and box selection for detectors. */
  private static final Set<String> IMAGE =
      Set.of(
          "CropAndResize",
          "NonMaxSuppressionV3",
          "NonMaxSuppressionV4",
          "NonMaxSuppressionV5",
          "ResizeArea",
          "ResizeBicubic",
          "ResizeBilinear",
          "ResizeNearestNeighbor",
          "RGBToHSV",
          "HSVToRGB");

  static final Set<String> ALL =
      Stream.of(STRUCTURE, CONTROL_FLOW, MATH, NN, ARRAY, TENSOR_LISTS, IMAGE)
          .flatMap(Set::stream)
          .collect(Collectors.toUnmodifiableSet());
}
