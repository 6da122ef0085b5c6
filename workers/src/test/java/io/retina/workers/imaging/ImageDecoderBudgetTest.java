package io.retina.workers.imaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.retina.platform.images.JpegBombs;
import io.retina.workers.budget.WorkBudget;
import io.retina.workers.budget.WorkStoppedException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Decoding is bounded: too many scans are refused, and a decode stops when its job does. */
class ImageDecoderBudgetTest {

  @Test
  void aJpegWithMoreScansThanTheLimitIsRefusedWithoutDecoding() {
    byte[] bomb = JpegBombs.progressiveJpeg(64, JpegScans.MAX);

    UnreadableImageException e =
        assertThrows(UnreadableImageException.class, () -> ImageDecoder.decode(bomb));

    assertTrue(e.getMessage().contains("scans"), e.getMessage());
  }

  @Test
  void aNormalProgressiveJpegDecodes() throws Exception {
    byte[] jpeg = JpegBombs.progressiveJpeg(64, 0);

    RgbaImage image = ImageDecoder.decode(jpeg);

    assertEquals(64, image.width());
  }

  @Test
  void aBombUnderTheLimitStopsDecodingWithinASecondOfItsCancel() throws Exception {
    // 250 scans of 2048x2048: tens of seconds to decode whole
    byte[] bomb = JpegBombs.progressiveJpeg(2048, 240);
    AtomicBoolean wanted = new AtomicBoolean(true);
    WorkBudget budget = WorkBudget.of(null, wanted::get, Duration.ofMillis(100));
    long[] canceledAt = {0};
    Thread canceler =
        new Thread(
            () -> {
              try {
                Thread.sleep(1000);
              } catch (InterruptedException e) {
                return;
              }
              canceledAt[0] = System.nanoTime();
              wanted.set(false);
            });

    canceler.start();
    WorkStoppedException e;
    try (WorkBudget.Binding bound = budget.bind()) {
      e = assertThrows(WorkStoppedException.class, () -> ImageDecoder.decode(bomb));
    }
    Duration afterCancel = Duration.ofNanos(System.nanoTime() - canceledAt[0]);
    canceler.join();

    assertEquals(WorkStoppedException.Reason.CANCELED, e.reason());
    System.out.println("the decode stopped " + afterCancel.toMillis() + " ms after the cancel");
    assertTrue(afterCancel.compareTo(Duration.ofSeconds(3)) < 0, "stopped after " + afterCancel);
  }
}
