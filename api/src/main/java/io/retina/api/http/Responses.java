package io.retina.api.http;

import io.retina.platform.store.Json;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/** JSON responses, written with the same mapper as the store's jsonb columns. */
public final class Responses {
  private Responses() {}

  public static HttpResponse json(int status, Object body) {
    return HttpResponse.create()
        .withStatus(StatusCodes.get(status))
        .withEntity(ContentTypes.APPLICATION_JSON, Json.write(body));
  }

  public static HttpResponse ok(Object body) {
    return json(200, body);
  }
}
