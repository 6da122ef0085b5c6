package io.retina.server;

import java.util.Map;

/** Starts a Retina node with the roles and store its configuration names. */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    Node node;
    try {
      node = Node.start(NodeConfig.load(Map.of()));
    } catch (IllegalArgumentException e) {
      // a setting the node cannot run with: the reason is the whole story, not a stack trace
      System.err.println("Retina did not start: " + e.getMessage());
      System.exit(2);
      return;
    }
    node.system().getWhenTerminated().toCompletableFuture().join();
    System.exit(0);
  }
}
