package io.retina.platform.store;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;

/**
 * Counts the SQL statements a node prepares, by text, and its explicit commits, while counting is
 * on: how the tests prove that a job's path runs each query once. Off, it costs one volatile read
 * per statement. Thread-safe.
 */
public final class StatementCounts {
  /**
   * How an explicit commit is counted: its own round trip. A statement run on its own ({@link
   * Tx#single}) commits with it and is not counted here.
   */
  public static final String COMMIT = "commit";

  private volatile Map<String, LongAdder> counts;

  /** Starts counting afresh. */
  public void start() {
    counts = new ConcurrentHashMap<>();
  }

  /** Stops counting and returns what was counted since {@link #start}, by statement text. */
  public Map<String, Long> stop() {
    Map<String, LongAdder> counted = counts;
    counts = null;
    Map<String, Long> result = new TreeMap<>();
    if (counted != null) {
      counted.forEach((sql, n) -> result.put(sql, n.sum()));
    }
    return result;
  }

  /** A data source whose connections report the statements they prepare here. */
  DataSource wrap(DataSource source) {
    InvocationHandler sourceCalls =
        (proxy, method, args) -> {
          Object result = invoke(source, method, args);
          return result instanceof Connection c ? counting(c) : result;
        };
    return (DataSource)
        Proxy.newProxyInstance(
            DataSource.class.getClassLoader(), new Class<?>[] {DataSource.class}, sourceCalls);
  }

  private Connection counting(Connection connection) {
    InvocationHandler connectionCalls =
        (proxy, method, args) -> {
          String name = method.getName();
          String counted = null;
          if (name.startsWith("prepare") && args != null && args[0] instanceof String sql) {
            counted = sql;
          } else if (name.equals("commit")) {
            counted = COMMIT;
          }
          Map<String, LongAdder> now = counts;
          if (counted != null && now != null) {
            now.computeIfAbsent(counted, s -> new LongAdder()).increment();
          }
          return invoke(connection, method, args);
        };
    return (Connection)
        Proxy.newProxyInstance(
            Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, connectionCalls);
  }

  private static Object invoke(Object target, java.lang.reflect.Method method, Object[] args)
      throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
