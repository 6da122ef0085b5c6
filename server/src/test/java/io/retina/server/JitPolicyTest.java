package io.retina.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The node's JIT policy ({@code retina.node.jit}), as the JVM itself reports it: what {@code jcmd
 * <pid> Compiler.directives_print} shows an operator.
 */
class JitPolicyTest {

  @Test
  void byDefaultANodeLeavesPekkoAndTheJobPathsPlumbingToC1() throws Exception {
    JitPolicy.apply(NodeConfig.load(Map.of()));
    String printed = directives();
    String ours =
        printed.lines().filter(l -> l.contains("org/apache/pekko/*.*")).findFirst().orElse(null);
    assertNotNull(ours, printed);
    for (String c1Only :
        new String[] {"scala/*.*", "io/retina/api/*.*", "io/retina/platform/*.*"}) {
      assertTrue(ours.contains(c1Only), c1Only + "\n" + printed);
    }
    // pixel and tensor code is left to the JVM: the directive does not name it
    assertFalse(ours.contains("io/retina/workers/imaging"), printed);
    assertFalse(ours.contains("org/tensorflow"), printed);
    String c2 =
        printed
            .substring(printed.indexOf("c2 directives", printed.indexOf(ours)))
            .lines()
            .skip(2)
            .findFirst()
            .orElseThrow();
    assertTrue(c2.contains(" Exclude:true "), printed);
  }

  @Test
  void anUnknownPolicyStopsTheNodeNamingTheChoices() {
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> JitPolicy.apply(NodeConfig.load(Map.of("retina.node.jit", "fastest"))));
    assertEquals(
        "retina.node.jit (RETINA_JIT) is 'fastest'; use plumbing-c1 or jvm", e.getMessage());
  }

  private static String directives() throws Exception {
    return JitPolicy.diagnosticCommand("compilerDirectivesPrint");
  }
}
