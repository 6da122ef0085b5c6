package io.retina.server;

import java.util.Map;

/** Starts a Retina node with the roles and store its configuration names. */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    Node node = Node.start(NodeConfig.load(Map.of()));
    node.system().getWhenTerminated().toCompletableFuture().join();
    System.exit(0);
  }
}
