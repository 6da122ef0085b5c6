package io.retina.platform.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MemoTest {
  private final AtomicInteger loads = new AtomicInteger();

  private Optional<String> load(String value) {
    loads.incrementAndGet();
    return Optional.ofNullable(value);
  }

  @Test
  void aFoundValueIsReadOnceWithinItsTime() {
    Memo<String, String> memo = new Memo<>(Duration.ofMinutes(1), 10, new Memo.Changes());
    assertEquals(Optional.of("a"), memo.get("k", () -> load("a")));
    assertEquals(Optional.of("a"), memo.get("k", () -> load("b")));
    assertEquals(1, loads.get());
  }

  @Test
  void aChangeVoidsWhatWasReadBeforeIt() {
    Memo.Changes changes = new Memo.Changes();
    Memo<String, String> memo = new Memo<>(Duration.ofMinutes(1), 10, changes);
    memo.get("k", () -> load("old"));
    changes.changed();
    assertEquals(Optional.of("new"), memo.get("k", () -> load("new")));
    assertEquals(2, loads.get());
  }

  @Test
  void aChangeDuringTheLoadVoidsItsAnswer() {
    Memo.Changes changes = new Memo.Changes();
    Memo<String, String> memo = new Memo<>(Duration.ofMinutes(1), 10, changes);
    memo.get(
        "k",
        () -> {
          changes.changed(); // committed while the old value was being read
          return load("old");
        });
    assertEquals(Optional.of("new"), memo.get("k", () -> load("new")));
  }

  @Test
  void aMissIsNeverKept() {
    Memo<String, String> memo = new Memo<>(Duration.ofMinutes(1), 10, new Memo.Changes());
    assertEquals(Optional.empty(), memo.get("k", () -> load(null)));
    assertEquals(Optional.of("now"), memo.get("k", () -> load("now")));
    assertEquals(2, loads.get());
  }

  @Test
  void anExpiredValueIsReadAgain() throws Exception {
    Memo<String, String> memo = new Memo<>(Duration.ofMillis(20), 10, new Memo.Changes());
    memo.get("k", () -> load("a"));
    Thread.sleep(40);
    assertEquals(Optional.of("b"), memo.get("k", () -> load("b")));
  }

  @Test
  void pastItsCapacityItStartsAgain() {
    Memo<Integer, Integer> memo = new Memo<>(Duration.ofMinutes(1), 3, new Memo.Changes());
    for (int i = 0; i < 4; i++) {
      int v = i;
      memo.get(v, () -> Optional.of(v));
    }
    AtomicInteger reads = new AtomicInteger();
    memo.get(
        0,
        () -> {
          reads.incrementAndGet();
          return Optional.of(0);
        });
    assertEquals(1, reads.get());
  }

  @Test
  void keptAnswersOnlyWhatIsStillFreshAndNeverLoads() throws Exception {
    Memo.Changes changes = new Memo.Changes();
    Memo<String, String> memo = new Memo<>(Duration.ofMillis(200), 10, changes);
    assertEquals(Optional.empty(), memo.kept("k"));
    memo.get("k", () -> load("a"));
    assertEquals(Optional.of("a"), memo.kept("k"));
    changes.changed();
    assertEquals(Optional.empty(), memo.kept("k"));
    memo.get("k", () -> load("b"));
    Thread.sleep(250);
    assertEquals(Optional.empty(), memo.kept("k"));
    assertEquals(2, loads.get());
  }
}
