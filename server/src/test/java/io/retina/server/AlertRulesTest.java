package io.retina.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The alert rules operators load (deploy/prometheus) are valid and do what their unit tests say,
 * checked by Prometheus's own promtool (Debian's {@code prometheus} package): the rules parse, each
 * alert fires on the series that should page and stays quiet on those that should not, and the
 * example scrape configuration loads them.
 */
class AlertRulesTest {

  static Path deploy() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("deploy/prometheus"))) {
        return dir.resolve("deploy/prometheus");
      }
    }
    throw new AssertionError("deploy/prometheus not found above " + Path.of("").toAbsolutePath());
  }

  static Path promtool() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      Path p = Path.of(dir, "promtool");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    throw new AssertionError("AlertRulesTest needs promtool: apt-get install -y prometheus");
  }

  @ParameterizedTest(name = "promtool {0} {1}")
  @CsvSource({
    "check rules, alerts.yml",
    "test rules, alerts_test.yml",
    "check config, prometheus.yml"
  })
  void promtoolAccepts(String command, String file) throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>(List.of(promtool().toString()));
    argv.addAll(List.of(command.split(" ")));
    argv.add(file);
    Process p =
        new ProcessBuilder(argv).directory(deploy().toFile()).redirectErrorStream(true).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    System.out.println(out);
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("SUCCESS"), out);
  }
}
