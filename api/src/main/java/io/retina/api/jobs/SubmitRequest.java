package io.retina.api.jobs;

import io.retina.api.http.Problem;
import io.retina.platform.cluster.Stages;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.Multipart;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.stream.Materializer;

/**
 * A job submission as sent: the image bytes, the declared media type, the model reference and the
 * task parameters, from a raw image body with query parameters or from a {@code
 * multipart/form-data} form whose file part is named {@code image}.
 */
public record SubmitRequest(
    byte[] image, String declaredType, String model, Map<String, String> params) {

  private static final long PART_TIMEOUT_MS = 30_000;

  /** Reads a submission from a request whose entity is already in memory. */
  public static CompletionStage<SubmitRequest> read(
      HttpRequest request, HttpEntity.Strict entity, ActorSystem<?> system) {
    String mediaType = essence(entity.getContentType().mediaType());
    Map<String, String> query = new LinkedHashMap<>(request.getUri().query().toMap());
    if (mediaType.equals("multipart/form-data")) {
      if (!entity.getContentType().mediaType().toString().contains("boundary=")) {
        throw Problem.badRequest(
            "bad-form", "A multipart/form-data body needs its boundary in the Content-Type.");
      }
      return Stages.plain(
              Unmarshaller.entityToMultipartFormData()
                  .unmarshal(entity, Materializer.matFromSystem(system)),
              system.executionContext())
          .thenCompose(
              form ->
                  Stages.plain(
                      form.toStrict(PART_TIMEOUT_MS, Materializer.matFromSystem(system)),
                      system.executionContext()))
          .exceptionally(
              e -> {
                throw Problem.badRequest(
                    "bad-form", "The multipart/form-data body is malformed; it could not be read.");
              })
          .thenApply(form -> fromForm(form, query));
    }
    if (!(mediaType.startsWith("image/") || mediaType.equals("application/octet-stream"))) {
      throw Problem.unsupportedMediaType(
          "Send the image as the raw body (image/png, image/jpeg or image/webp) or as the 'image' part"
              + " of a multipart/form-data form, not "
              + mediaType
              + ".");
    }
    String model = query.remove("model");
    return java.util.concurrent.CompletableFuture.completedFuture(
        new SubmitRequest(entity.getData().toArray(), mediaType, model, query));
  }

  private static SubmitRequest fromForm(Multipart.FormData.Strict form, Map<String, String> query) {
    Map<String, String> fields = new LinkedHashMap<>(query);
    byte[] image = null;
    String declared = null;
    for (Multipart.FormData.BodyPart.Strict part : form.getStrictParts()) {
      if (part.getName().equals("image")) {
        if (image != null) {
          throw Problem.badRequest("bad-form", "The form has more than one 'image' part.");
        }
        image = part.getEntity().getData().toArray();
        declared = essence(part.getEntity().getContentType().mediaType());
      } else if (part.getFilename().isPresent()) {
        throw Problem.badRequest(
            "bad-form",
            "Unexpected file part '" + part.getName() + "': send the image as 'image'.");
      } else {
        fields.put(part.getName(), part.getEntity().getData().utf8String());
      }
    }
    if (image == null) {
      throw Problem.badRequest("missing-image", "The form has no 'image' part.");
    }
    String model = fields.remove("model");
    return new SubmitRequest(image, declared, model, fields);
  }

  /** A media type without its parameters, e.g. multipart/form-data without the boundary. */
  private static String essence(org.apache.pekko.http.javadsl.model.MediaType type) {
    return (type.mainType() + "/" + type.subType()).toLowerCase();
  }

  /** The model reference split into name and optional pinned version. */
  public record ModelRef(String name, Optional<Integer> version) {
    public static ModelRef parse(String ref) {
      if (ref == null || ref.isBlank()) {
        throw Problem.badRequest(
            "missing-model",
            "Name the model with the 'model' parameter, e.g. model=super-resolution.");
      }
      int at = ref.indexOf('@');
      if (at < 0) {
        return new ModelRef(ref, Optional.empty());
      }
      try {
        int v = Integer.parseInt(ref.substring(at + 1));
        if (v <= 0) {
          throw new NumberFormatException();
        }
        return new ModelRef(ref.substring(0, at), Optional.of(v));
      } catch (NumberFormatException e) {
        throw Problem.badRequest(
            "bad-model-reference",
            "A pinned model is name@version with a positive version: " + ref);
      }
    }
  }
}
