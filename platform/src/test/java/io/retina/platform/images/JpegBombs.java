package io.retina.platform.images;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Decoding bombs made by the tests of every module, never stored in the repository: a valid
 * progressive JPEG whose last scan is repeated before EOI. Each repeat is well formed (decoders
 * only warn of an inconsistent progression) and costs a full pass over the image, so a 2048x2048
 * bomb of a few hundred scans takes tens of seconds to decode while its file stays under 150 KB.
 */
public final class JpegBombs {
  private JpegBombs() {}

  /** A progressive JPEG of a smooth {@code side}-pixel square, its last scan repeated. */
  public static byte[] progressiveJpeg(int side, int repeats) {
    BufferedImage image = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        image.setRGB(x, y, (x * 255 / side) << 16 | (y * 255 / side) << 8 | ((x ^ y) & 0xFF));
      }
    }
    return repeatLastScan(progressive(image), repeats);
  }

  /** How many SOS segments the JPEG has. */
  public static int scanCount(byte[] jpeg) {
    return scans(jpeg).size();
  }

  public static byte[] progressive(BufferedImage image) {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
      writer.setOutput(stream);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
      writer.write(null, new IIOImage(image, null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  }

  public static byte[] repeatLastScan(byte[] jpeg, int repeats) {
    List<int[]> scans = scans(jpeg);
    int[] last = scans.get(scans.size() - 1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(jpeg, 0, last[1]);
    for (int i = 0; i < repeats; i++) {
      out.write(jpeg, last[0], last[1] - last[0]);
    }
    out.write(0xFF);
    out.write(0xD9);
    return out.toByteArray();
  }

  /** Each scan's [start, end): its SOS segment and the entropy-coded data after it. */
  private static List<int[]> scans(byte[] b) {
    List<int[]> scans = new ArrayList<>();
    int pos = 2;
    while (true) {
      while ((b[pos] & 0xFF) == 0xFF) {
        pos++;
      }
      int marker = b[pos++] & 0xFF;
      if (marker == 0xD9) {
        return scans;
      }
      int start = pos - 2;
      pos += (b[pos] & 0xFF) << 8 | (b[pos + 1] & 0xFF);
      if (marker == 0xDA) {
        // entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or an RSTn
        while (true) {
          if ((b[pos] & 0xFF) == 0xFF) {
            int next = b[pos + 1] & 0xFF;
            if (next != 0x00 && (next < 0xD0 || next > 0xD7)) {
              break;
            }
            pos++;
          }
          pos++;
        }
        scans.add(new int[] {start, pos});
      }
    }
  }
}
