package io.retina.server;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;

/**
 * Test images: real photographs from npm packages the build fetched into the model cache (never
 * committed), and images made here.
 */
final class Photos {
  private Photos() {}

  static Path cache() {
    String env = System.getenv("RETINA_MODEL_CACHE");
    return env != null
        ? Path.of(env)
        : Path.of(System.getProperty("user.home"), ".cache", "retina", "models");
  }

  /** A 128x128 photo of a flower (esrgan-slim's own test fixture). */
  static byte[] flowerPng() {
    return read(cache().resolve("upscalerjs_esrgan-slim_1.0.0/assets/fixture.png"));
  }

  /** A photo of people, 1920 pixels wide (face-api's demo samples 1 to 6). */
  static byte[] peopleJpeg(int n) {
    return read(cache().resolve("vladmandic_face-api_1.7.15/demo/sample" + n + ".jpg"));
  }

  static BufferedImage decode(byte[] bytes) {
    try {
      BufferedImage image = ImageIO.read(new ByteArrayInputStream(bytes));
      if (image == null) {
        throw new AssertionError("not an image ImageIO can read");
      }
      return image;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] png(BufferedImage image) {
    try {
      var out = new ByteArrayOutputStream();
      ImageIO.write(image, "png", out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A well-formed PNG whose header claims width x height, with one tiny IDAT: nothing to decode.
   */
  static byte[] pngHeaderOnly(int width, int height) {
    ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height);
    ihdr.put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
    var out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    chunk(out, "IHDR", ihdr.array());
    chunk(out, "IDAT", new byte[] {0x78, (byte) 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
    chunk(out, "IEND", new byte[0]);
    return out.toByteArray();
  }

  private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
    out.writeBytes(t);
    out.writeBytes(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
  }

  private static byte[] read(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new UncheckedIOException("missing test photo (the build fetches it): " + p, e);
    }
  }
}
