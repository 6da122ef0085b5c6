package io.retina.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

/**
 * The node's shipped logging configuration (logback.xml): text for people by default, one JSON
 * object a line with {@code RETINA_LOG_FORMAT=json}, a job's ids in its lines.
 */
class LogFormatTest {

  /** What the shipped configuration prints for one line logged while a job is being worked on. */
  private static String logged(String format) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    if (format != null) {
      context.putProperty("RETINA_LOG_FORMAT", format);
    }
    try {
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(context);
      configurator.doConfigure(LogFormatTest.class.getResource("/logback.xml"));
      // the configured console appender, writing here instead of to standard output
      var appenders = context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders();
      var console = (OutputStreamAppender<ILoggingEvent>) appenders.next();
      assertFalse(appenders.hasNext(), "one appender");
      console.setOutputStream(out);
      context.getMDCAdapter().put("job", "0b9a7f3e-1111-4222-8333-944445555666");
      context.getMDCAdapter().put("tenant", "5c1d2e3f-aaaa-4bbb-8ccc-dddddddddddd");
      context.getLogger("io.retina.workers.runners.JobExecution").info("job {} stopped", "x");
    } finally {
      context.stop();
    }
    return out.toString(StandardCharsets.UTF_8).trim();
  }

  @Test
  void textByDefault() throws Exception {
    String line = logged(null);
    assertTrue(line.contains("INFO") && line.contains("job x stopped"), line);
    assertThrows(Exception.class, () -> new ObjectMapper().readTree(line).get("level").asText());
  }

  @Test
  void jsonOnRequestWithTheJobsIds() throws Exception {
    String out = logged("json");
    assertFalse(out.isEmpty());
    String[] lines = out.split("\n");
    assertEquals(1, lines.length, out);
    JsonNode line = new ObjectMapper().readTree(lines[0]);
    assertEquals("INFO", line.get("level").asText(), out);
    assertEquals("job x stopped", line.get("formattedMessage").asText(), out);
    assertEquals("io.retina.workers.runners.JobExecution", line.get("loggerName").asText());
    assertEquals("0b9a7f3e-1111-4222-8333-944445555666", line.at("/mdc/job").asText(), out);
    assertEquals("5c1d2e3f-aaaa-4bbb-8ccc-dddddddddddd", line.at("/mdc/tenant").asText(), out);
    assertTrue(line.get("timestamp").asLong() > 0, out);
  }
}
