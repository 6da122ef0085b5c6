package io.retina.api.http;

import io.retina.platform.cluster.Stages;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;

/**
 * The bytes of request bodies this node holds in memory at once, across all requests, and the only
 * way a route reads a body into memory. A body claims its declared length before its first byte is
 * read (a chunked one claims as its chunks arrive) and gives it back when the handler's answer is
 * complete; past the budget the request is refused with 503 {@code server-busy} and {@code
 * Retry-After}, so a crowd of large or stalled uploads costs a bounded amount of heap however many
 * connections carry it. Thread-safe.
 */
public final class BodyBudget {
  /** Seconds a refused client is asked to wait: long enough for a typical upload to finish. */
  private static final int RETRY_AFTER_SECONDS = 5;

  private final long limit;
  private final AtomicLong inFlight = new AtomicLong();

  public BodyBudget(long limit) {
    if (limit <= 0) {
      throw new IllegalArgumentException("the body budget must be positive");
    }
    this.limit = limit;
  }

  /** Bytes of bodies claimed now. */
  public long inFlight() {
    return inFlight.get();
  }

  /**
   * Reads the entity into memory (at most {@code maxBytes}, within {@code timeout}) under a claim
   * on the budget, hands it to {@code use}, and gives the claim back when {@code use}'s answer
   * completes, however it completes. Fails with 503 {@code server-busy} when the budget is spent,
   * 413 when the body is over {@code maxBytes}, 408 {@code body-timeout} when it is not all sent in
   * time.
   */
  public <T> CompletionStage<T> read(
      HttpEntity entity,
      long maxBytes,
      Duration timeout,
      Materializer mat,
      Function<HttpEntity.Strict, CompletionStage<T>> use) {
    Claim claim = new Claim();
    claim.grow(entity.getContentLengthOption().orElse(0L));
    CompletionStage<HttpEntity.Strict> body;
    if (entity instanceof HttpEntity.Strict strict) {
      body = CompletableFuture.completedFuture(strict);
    } else {
      body =
          Stages.plain(
                  entity
                      .withSizeLimit(maxBytes)
                      .getDataBytes()
                      .map(
                          chunk -> {
                            claim.seen(chunk.size());
                            return chunk;
                          })
                      .completionTimeout(timeout)
                      .runFold(ByteString.emptyByteString(), ByteString::concat, mat),
                  mat.executionContext())
              .<HttpEntity.Strict>thenApply(
                  bytes -> HttpEntities.create(entity.getContentType(), bytes))
              .exceptionally(
                  e -> {
                    if (timedOut(e)) {
                      throw bodyTimeout(timeout);
                    }
                    throw e instanceof RuntimeException re ? re : new CompletionException(e);
                  });
    }
    CompletionStage<T> answer;
    try {
      answer = body.thenCompose(use);
    } catch (RuntimeException e) {
      claim.close();
      throw e;
    }
    return answer.whenComplete((r, e) -> claim.close());
  }

  /**
   * The most the HTTP layer reads of any body ({@code
   * pekko.http.server.parsing.max-content-length}): the most {@link #refuseAfterDiscarding} is
   * worth asking to read, since past it the body's stream fails anyway.
   */
  public static long parsedAtMost(org.apache.pekko.actor.typed.ActorSystem<?> system) {
    String path = "pekko.http.server.parsing.max-content-length";
    var config = system.settings().config();
    return "infinite".equals(config.getString(path)) ? Long.MAX_VALUE : config.getBytes(path);
  }

  /**
   * Fails with {@code refusal} once the request's body has been read and thrown away, so that the
   * refusal reaches the client. A server that answers while the client is still sending and then
   * closes leaves unread bytes in its socket, and the kernel resets the connection: a client that
   * does not read before it has sent everything (most do not) sees the reset, not the answer. The
   * body is not read when the client asked for {@code Expect: 100-continue} (it waits for leave to
   * send, and the refusal is that answer), when it declares more than {@code atMost} bytes, or past
   * {@code timeout}; those clients may see the reset. Nothing is held in memory.
   */
  public static <T> CompletionStage<T> refuseAfterDiscarding(
      HttpRequest request,
      long atMost,
      Duration timeout,
      Materializer mat,
      RuntimeException refusal) {
    HttpEntity entity = request.entity();
    boolean waitsForLeave =
        request
            .getHeader("Expect")
            .map(h -> h.value().equalsIgnoreCase("100-continue"))
            .orElse(false);
    if (waitsForLeave
        || entity instanceof HttpEntity.Strict
        || entity.getContentLengthOption().orElse(Long.MAX_VALUE) > atMost) {
      return CompletableFuture.failedFuture(refusal);
    }
    return entity
        .getDataBytes()
        .completionTimeout(timeout)
        .runWith(Sink.ignore(), mat)
        .handle(
            (done, e) -> {
              throw refusal;
            });
  }

  private static boolean timedOut(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof TimeoutException) {
        return true;
      }
    }
    return false;
  }

  private static Problem bodyTimeout(Duration timeout) {
    return new Problem(
        408,
        "body-timeout",
        "Request timeout",
        "The body was not all sent within " + timeout.toSeconds() + " s.");
  }

  private Problem busy() {
    return new Problem(
            503,
            "server-busy",
            "Service unavailable",
            "This node is reading as many request bodies as it holds at once; retry shortly.")
        .withHeader(RawHeader.create("Retry-After", Integer.toString(RETRY_AFTER_SECONDS)));
  }

  /** One body's share of the budget: what it reserved, and what of it has arrived. */
  private final class Claim {
    private long reserved;
    private long seen;
    private boolean closed;

    /** Reserves {@code bytes} more, or fails with 503 and reserves nothing. */
    synchronized void grow(long bytes) {
      if (bytes <= 0) {
        return;
      }
      long now = inFlight.addAndGet(bytes);
      if (now > limit) {
        inFlight.addAndGet(-bytes);
        throw busy();
      }
      reserved += bytes;
    }

    /** Counts bytes that arrived; a body without a declared length reserves them now. */
    synchronized void seen(long bytes) {
      seen += bytes;
      if (seen > reserved) {
        grow(seen - reserved);
      }
    }

    synchronized void close() {
      if (!closed) {
        closed = true;
        inFlight.addAndGet(-reserved);
      }
    }
  }
}
