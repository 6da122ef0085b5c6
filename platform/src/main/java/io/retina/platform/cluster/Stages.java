package io.retina.platform.cluster;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * Turns the completion stages Pekko hands out (asks, stream results) into plain ones.
 *
 * <p>Those stages are Scala futures seen through {@code FutureConverters}, whose every dependent
 * action runs "async" on the JDK's default executor, even {@code thenApply}. On a machine with two
 * cores that default is not the common pool (its parallelism is 1) but a new thread per action: one
 * thread started and ended for each admitted job. A plain stage runs its dependents on the executor
 * given here (a pooled dispatcher), never on the thread that completed the Pekko stage: that may be
 * an actor's (the gate that answered) or the remoting's, and must not run the request's work.
 * Dependents that block must still name their own executor.
 */
public final class Stages {
  private Stages() {}

  /**
   * The same outcome as {@code stage}, on a plain {@link CompletableFuture} completed on {@code
   * on}.
   */
  public static <T> CompletableFuture<T> plain(CompletionStage<T> stage, Executor on) {
    CompletableFuture<T> plain = new CompletableFuture<>();
    stage.whenCompleteAsync(
        (value, error) -> {
          if (error != null) {
            plain.completeExceptionally(error);
          } else {
            plain.complete(value);
          }
        },
        on);
    return plain;
  }
}
