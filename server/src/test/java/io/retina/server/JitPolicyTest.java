package io.retina.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.Map;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * The node's JIT policy ({@code retina.node.jit}), as the JVM itself reports it: what {@code jcmd
 * <pid> Compiler.directives_print} shows an operator.
 */
class JitPolicyTest {

  @Test
  void byDefaultANodeLeavesC2ThePixelTensorAndDigestCodeOnly() throws Exception {
    JitPolicy.apply(NodeConfig.load(Map.of()));
    String printed = directives();
    // the JVM prints the directives in the order they match: first the code C2 may compile, then
    // everything else, for which C2 is excluded
    int ours = printed.indexOf("io/retina/*.*");
    int everythingElse = printed.indexOf("matching: *.*");
    assertTrue(ours >= 0 && everythingElse > ours, printed);
    for (String kept : new String[] {"org/tensorflow/*.*", "com/sun/imageio/*.*"}) {
      assertTrue(printed.substring(0, everythingElse).contains(kept), kept + "\n" + printed);
    }
    String c2OfTheRest =
        printed
            .substring(printed.indexOf("c2 directives", everythingElse))
            .lines()
            .skip(2)
            .findFirst()
            .orElseThrow();
    assertTrue(c2OfTheRest.contains(" Exclude:true "), printed);
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
    return (String)
        ManagementFactory.getPlatformMBeanServer()
            .invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"),
                "compilerDirectivesPrint",
                new Object[] {new String[0]},
                new String[] {String[].class.getName()});
  }
}
