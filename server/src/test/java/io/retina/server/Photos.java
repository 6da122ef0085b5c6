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

  /**
   * The JPEG with an EXIF segment that holds GPS tags (latitude N 48 51' 29.67") and a comment
   * segment, right after its start marker, as a camera or phone writes them.
   */
  static byte[] withGpsAndComment(byte[] jpeg, String comment) {
    java.nio.ByteBuffer tiff = java.nio.ByteBuffer.allocate(80); // big-endian
    tiff.put(new byte[] {'M', 'M', 0, 42}).putInt(8);
    // IFD0: one entry, GPSInfo (0x8825, LONG) pointing at the GPS IFD at 26
    tiff.putShort((short) 1).putShort((short) 0x8825).putShort((short) 4).putInt(1).putInt(26);
    tiff.putInt(0);
    // GPS IFD: GPSLatitudeRef "N", GPSLatitude 3 RATIONALs at 56
    tiff.putShort((short) 2);
    tiff.putShort((short) 1).putShort((short) 2).putInt(2).put(new byte[] {'N', 0, 0, 0});
    tiff.putShort((short) 2).putShort((short) 5).putInt(3).putInt(56);
    tiff.putInt(0);
    tiff.putInt(48).putInt(1).putInt(51).putInt(1).putInt(2967).putInt(100);
    byte[] exif = new byte[6 + tiff.position()];
    System.arraycopy(
        "Exif\0\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 0, exif, 0, 6);
    System.arraycopy(tiff.array(), 0, exif, 6, tiff.position());
    byte[] text = comment.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(0xff);
    out.write(0xd8);
    segment(out, 0xe1, exif);
    segment(out, 0xfe, text);
    out.write(jpeg, 2, jpeg.length - 2);
    return out.toByteArray();
  }

  private static void segment(java.io.ByteArrayOutputStream out, int marker, byte[] payload) {
    out.write(0xff);
    out.write(marker);
    out.write((payload.length + 2) >> 8);
    out.write((payload.length + 2) & 0xff);
    out.write(payload, 0, payload.length);
  }

  /** Whether {@code bytes} contain {@code needle}. */
  static boolean contains(byte[] bytes, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= bytes.length; i++) {
      for (int k = 0; k < needle.length; k++) {
        if (bytes[i + k] != needle[k]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
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
