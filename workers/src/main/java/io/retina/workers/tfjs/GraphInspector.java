package io.retina.workers.tfjs;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.retina.platform.models.ArtifactInspector;
import io.retina.platform.models.ModelArchive;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;

/**
 * Checks an uploaded artifact's graphs with {@link GraphCheck#checkAllowed} straight from the zip,
 * without TensorFlow's runtime: a SavedModel's {@code saved_model.pb}, a TF.js graph-model's
 * topology (as the importer will rewrite it). A TF.js layers-model is built from Keras layers
 * Retina knows, op by op, and needs no look. Stateless and thread-safe.
 */
public final class GraphInspector implements ArtifactInspector {
  /** Protocol buffers can't be larger; a SavedModel holding its weights as constants gets close. */
  private static final int MAX_GRAPH_BYTES = Integer.MAX_VALUE;

  @Override
  public Optional<String> refusal(Path zip, String format, Map<String, String> options)
      throws IOException {
    try (ZipFile z = new ZipFile(zip.toFile())) {
      for (String path : options.values()) {
        GraphDef graph =
            switch (format) {
              case "saved-model" -> savedModelGraph(z, path);
              case "tfjs-graph" -> tfjsGraph(z, path);
              default -> null;
            };
        if (graph == null) {
          continue;
        }
        try {
          GraphCheck.checkAllowed(graph);
        } catch (ModelRefusedException e) {
          return Optional.of(path + ": " + e.getMessage());
        }
      }
    }
    return Optional.empty();
  }

  private static GraphDef savedModelGraph(ZipFile z, String path) throws IOException {
    String dir = strip(path);
    String pb = dir.endsWith("saved_model.pb") ? dir : dir + "/saved_model.pb";
    try (InputStream in = open(z, pb)) {
      CodedInputStream coded = CodedInputStream.newInstance(in);
      coded.setSizeLimit(MAX_GRAPH_BYTES);
      SavedModel saved = SavedModel.parseFrom(coded);
      GraphDef.Builder all = GraphDef.newBuilder();
      for (MetaGraphDef meta : saved.getMetaGraphsList()) {
        // every graph in the file, whatever its tags: none of them may hold a refused op
        all.addAllNode(meta.getGraphDef().getNodeList());
        all.getLibraryBuilder().addAllFunction(meta.getGraphDef().getLibrary().getFunctionList());
      }
      return all.build();
    } catch (InvalidProtocolBufferException e) {
      throw new IOException(pb + " is not a SavedModel: " + e.getMessage(), e);
    }
  }

  private static GraphDef tfjsGraph(ZipFile z, String path) throws IOException {
    try (InputStream in = open(z, strip(path))) {
      JsonObject root =
          JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8))
              .getAsJsonObject();
      GraphDef.Builder def = GraphDef.newBuilder();
      JsonFormat.parser().ignoringUnknownFields().merge(root.get("modelTopology").toString(), def);
      return GraphDefFixes.apply(def.build());
    } catch (JsonParseException | IllegalStateException | NullPointerException e) {
      throw new IOException(path + " is not a TF.js graph-model: " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new IOException(path + ": " + e.getMessage(), e);
    }
  }

  /** The entry whose normalized name is {@code name}, as {@link ModelArchive#check} found it. */
  private static InputStream open(ZipFile z, String name) throws IOException {
    for (ZipEntry e : Collections.list(z.entries())) {
      if (!e.isDirectory() && ModelArchive.safeName(e.getName()).equals(name)) {
        return z.getInputStream(e);
      }
    }
    throw new IOException(name + " is not in the archive");
  }

  private static String strip(String path) throws IOException {
    return ModelArchive.safeName(path);
  }
}
