package io.retina.workers.tfjs;

import com.google.protobuf.InvalidProtocolBufferException;
import io.retina.workers.devices.Devices;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * TensorFlow SavedModels: the one form every model version is loaded from. An imported TF.js model
 * is exported as one with {@link #export}; an uploaded one is loaded as it is.
 *
 * <p>Retina's exports keep the model's signature exactly: its {@code serving_default} signature
 * names the inputs {@code input_000, input_001, ...} and the outputs {@code output_000, ...} in the
 * imported model's order, with the imported shapes (a fixed batch of 1 stays fixed). Other
 * SavedModels are read in their signature keys' order. Stateless and thread-safe.
 */
public final class SavedModels {
  /** The tag a serving graph carries. */
  public static final String SERVE = SavedModelBundle.DEFAULT_TAG;

  /** The signature Retina exports and serves. */
  public static final String SIGNATURE = Signature.DEFAULT_KEY;

  private static final String PB = "saved_model.pb";

  private SavedModels() {}

  /** Whether {@code dir} holds a SavedModel. */
  public static boolean isSavedModel(Path dir) {
    return Files.isRegularFile(dir.resolve(PB));
  }

  /**
   * Writes {@code model} to {@code dir}, which must not exist yet, as a SavedModel tagged "serve"
   * with its signature as {@code serving_default}.
   */
  public static void export(TfModel model, Path dir) throws IOException {
    ModelSignature sig = model.signature();
    Signature.Builder signature = Signature.builder(SIGNATURE);
    try {
      for (int i = 0; i < sig.inputs().size(); i++) {
        signature.input(key("input", i), model.graph().outputOrThrow(sig.inputs().get(i).name()));
      }
      for (int i = 0; i < sig.outputs().size(); i++) {
        signature.output(
            key("output", i), model.graph().outputOrThrow(sig.outputs().get(i).name()));
      }
      SavedModelBundle.exporter(dir.toString())
          .withTags(SERVE)
          .withFunction(SessionFunction.create(signature.build(), model.session()))
          .export();
    } catch (TensorFlowException | IllegalArgumentException e) {
      throw new IOException("the model can't be exported as a SavedModel: " + e.getMessage(), e);
    }
    keepShapes(dir.resolve(PB), sig);
  }

  /**
   * Loads the SavedModel in {@code dir} with Retina's session options, serving its {@code
   * serving_default} signature (or its only one), once {@link GraphCheck} has passed its graph.
   *
   * @throws ModelRefusedException if the graph has an op that may not or can't run here
   * @throws IOException if it can't be read, has no servable signature, or TensorFlow refuses it
   */
  public static TfModel load(Path dir) throws IOException {
    if (!isSavedModel(dir)) {
      throw new IOException(dir + " has no " + PB + ": not a SavedModel");
    }
    check(dir);
    SavedModelBundle bundle;
    try {
      bundle =
          SavedModelBundle.loader(dir.toString())
              .withTags(SERVE)
              .withConfigProto(TfModel.sessionConfig())
              .load();
    } catch (TensorFlowException | IllegalArgumentException e) {
      throw new IOException("TensorFlow can't load the SavedModel: " + e.getMessage(), e);
    }
    try {
      ModelSignature signature = signature(bundle.metaGraphDef());
      for (TensorSpec spec : signature.inputs()) {
        bundle.graph().outputOrThrow(spec.name());
      }
      for (TensorSpec spec : signature.outputs()) {
        bundle.graph().outputOrThrow(spec.name());
      }
      return new TfModel(bundle, signature);
    } catch (IOException | RuntimeException e) {
      bundle.close();
      throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
    }
  }

  /**
   * Checks the serving graph with {@link GraphCheck} before TensorFlow reads it: loading runs a
   * SavedModel's restore and init ops, so a model is checked before it can run anything.
   */
  private static void check(Path dir) throws IOException {
    SavedModel saved;
    try (InputStream in = Files.newInputStream(dir.resolve(PB))) {
      saved = SavedModel.parseFrom(in);
    } catch (InvalidProtocolBufferException e) {
      throw new IOException("the SavedModel's " + PB + " can't be read: " + e.getMessage(), e);
    }
    MetaGraphDef serving =
        saved.getMetaGraphsList().stream()
            .filter(m -> m.getMetaInfoDef().getTagsList().contains(SERVE))
            .findFirst()
            .orElseThrow(
                () -> new IOException("the SavedModel has no graph tagged '" + SERVE + "'"));
    GraphCheck.check(serving.getGraphDef(), Devices.current().kind());
  }

  private static String key(String kind, int i) {
    return String.format("%s_%03d", kind, i);
  }

  /**
   * The exporter describes each tensor with the graph's static shape, which can be looser than the
   * imported signature's (TF.js declares a fixed batch of 1 the graph leaves open): write the
   * signature's own shapes and dtypes back into the saved graph.
   */
  private static void keepShapes(Path pb, ModelSignature sig) throws IOException {
    SavedModel saved;
    try (InputStream in = Files.newInputStream(pb)) {
      saved = SavedModel.parseFrom(in);
    }
    SavedModel.Builder out = saved.toBuilder();
    for (MetaGraphDef.Builder meta : out.getMetaGraphsBuilderList()) {
      SignatureDef def = meta.getSignatureDefOrThrow(SIGNATURE);
      SignatureDef.Builder fixed = def.toBuilder();
      for (int i = 0; i < sig.inputs().size(); i++) {
        fixed.putInputs(key("input", i), info(sig.inputs().get(i)));
      }
      for (int i = 0; i < sig.outputs().size(); i++) {
        fixed.putOutputs(key("output", i), info(sig.outputs().get(i)));
      }
      meta.putSignatureDef(SIGNATURE, fixed.build());
    }
    try (OutputStream o = Files.newOutputStream(pb)) {
      out.build().writeTo(o);
    }
  }

  private static TensorInfo info(TensorSpec spec) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    if (spec.shape() == null) {
      shape.setUnknownRank(true);
    } else {
      for (long d : spec.shape()) {
        shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
      }
    }
    return TensorInfo.newBuilder()
        .setName(spec.name())
        .setDtype(spec.dtype())
        .setTensorShape(shape)
        .build();
  }

  private static ModelSignature signature(MetaGraphDef meta) throws IOException {
    Map<String, SignatureDef> defs = meta.getSignatureDefMap();
    SignatureDef def = defs.get(SIGNATURE);
    if (def == null && defs.size() == 1) {
      def = defs.values().iterator().next();
    }
    if (def == null) {
      throw new IOException(
          "the SavedModel has no '" + SIGNATURE + "' signature (it has " + defs.keySet() + ")");
    }
    if (def.getInputsCount() == 0 || def.getOutputsCount() == 0) {
      throw new IOException("the SavedModel's signature has no inputs or no outputs");
    }
    return new ModelSignature(specs(def.getInputsMap()), specs(def.getOutputsMap()));
  }

  /** The tensors in their keys' order. */
  private static List<TensorSpec> specs(Map<String, TensorInfo> byKey) throws IOException {
    List<TensorSpec> specs = new ArrayList<>();
    for (TensorInfo info : new TreeMap<>(byKey).values()) {
      if (info.getName().isEmpty()) {
        throw new IOException("the SavedModel's signature has a sparse or composite tensor");
      }
      long[] shape = null;
      if (info.hasTensorShape() && !info.getTensorShape().getUnknownRank()) {
        shape = info.getTensorShape().getDimList().stream().mapToLong(d -> d.getSize()).toArray();
      }
      String name = info.getName().contains(":") ? info.getName() : info.getName() + ":0";
      specs.add(new TensorSpec(name, info.getDtype(), shape));
    }
    return specs;
  }
}
