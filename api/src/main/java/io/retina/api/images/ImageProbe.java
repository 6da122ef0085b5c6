package io.retina.api.images;

import static io.retina.api.images.ImageRejectedException.Reason.MALFORMED;
import static io.retina.api.images.ImageRejectedException.Reason.TOO_MANY_SCANS;
import static io.retina.api.images.ImageRejectedException.Reason.TRUNCATED;
import static io.retina.api.images.ImageRejectedException.Reason.UNSUPPORTED_FORMAT;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Admits or rejects an uploaded image before anything is stored, without decoding pixels.
 *
 * <p>The format is identified by its magic bytes, never by the declared content type. Width and
 * height come from the header, so a 20000 x 20000 image costs no more than a thumbnail; the caller
 * decides what size is too big. The container structure is walked to its end (PNG chunks with their
 * CRCs, JPEG marker segments up to EOI, WebP RIFF chunks), so a cut-off upload is rejected here
 * rather than failing later in a worker. Compressed data itself is not checked, but a JPEG's scans
 * are counted: each scan of a progressive JPEG costs a decoder a pass over the whole image, so a
 * small file that repeats a scan thousands of times would hold a worker for hours.
 *
 * <p>Stateless and thread-safe. Runs in time linear in the input and, on any input, throws nothing
 * but {@link ImageRejectedException}.
 */
public final class ImageProbe {

  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  private static final int PNG_IHDR = 0x49484452;
  private static final int PNG_IDAT = 0x49444154;
  private static final int PNG_IEND = 0x49454E44;

  private static final int JPEG_SOS = 0xDA;
  private static final int JPEG_EOI = 0xD9;

  /**
   * The most scans a JPEG may have. Encoders write about ten (libjpeg's default progressive script
   * has ten for colour, six for grey; a baseline JPEG has one), and even a script that refines
   * every coefficient band of three components stays far below this. NVIDIA's nvImageCodec refuses
   * more than 256 by default against the same attack, found in a security review of libjpeg-turbo;
   * we take the same figure.
   */
  public static final int MAX_JPEG_SCANS = 256;

  // RIFF four-character codes read big-endian, so they compare as they are spelled.
  private static final int RIFF = 0x52494646;
  private static final int WEBP = 0x57454250;
  private static final int WEBP_VP8 = 0x56503820;
  private static final int WEBP_VP8L = 0x5650384C;
  private static final int WEBP_VP8X = 0x56503858;
  private static final int WEBP_ANMF = 0x414E4D46;

  private ImageProbe() {}

  /** Identifies the image, reads its dimensions and checks its structure is complete. */
  public static ImageInfo probe(byte[] bytes) throws ImageRejectedException {
    if (bytes == null || bytes.length == 0) {
      throw new ImageRejectedException(UNSUPPORTED_FORMAT, "The upload is empty.");
    }
    if (startsWith(bytes, PNG_SIGNATURE)) {
      return probePng(bytes);
    }
    if (bytes.length >= 3 && u8(bytes, 0) == 0xFF && u8(bytes, 1) == 0xD8 && u8(bytes, 2) == 0xFF) {
      return probeJpeg(bytes);
    }
    if (bytes.length >= 12 && s32be(bytes, 0) == RIFF && s32be(bytes, 8) == WEBP) {
      return probeWebp(bytes);
    }
    throw new ImageRejectedException(
        UNSUPPORTED_FORMAT,
        "The upload is not a PNG, JPEG or WebP image; it starts with bytes "
            + hex(bytes, 0, Math.min(bytes.length, 8))
            + ".");
  }

  // ---- PNG: signature, IHDR, then chunks with CRCs up to IEND ----

  private static ImageInfo probePng(byte[] b) throws ImageRejectedException {
    CRC32 crc = new CRC32();
    int pos = PNG_SIGNATURE.length;
    int width = 0;
    int height = 0;
    boolean sawIdat = false;
    while (true) {
      if (b.length - pos < 8) {
        throw reject(TRUNCATED, "The PNG ends at byte %d without an IEND chunk.", b.length);
      }
      long length = u32be(b, pos);
      int type = s32be(b, pos + 4);
      if (!isPngChunkType(b, pos + 4)) {
        throw reject(MALFORMED, "The PNG has an invalid chunk type at byte %d.", pos + 4);
      }
      String name = new String(b, pos + 4, 4, StandardCharsets.US_ASCII);
      if (length > Integer.MAX_VALUE) {
        throw reject(MALFORMED, "The PNG chunk %s at byte %d is longer than 2^31-1.", name, pos);
      }
      if (length + 4 > b.length - pos - 8L) {
        throw reject(
            TRUNCATED,
            "The PNG chunk %s at byte %d declares %d bytes but the file ends first.",
            name,
            pos,
            length);
      }
      int data = pos + 8;
      int len = (int) length;
      crc.reset();
      crc.update(b, pos + 4, 4 + len);
      if (crc.getValue() != u32be(b, data + len)) {
        throw reject(MALFORMED, "The PNG chunk %s at byte %d fails its CRC check.", name, pos);
      }
      if (pos == PNG_SIGNATURE.length) {
        if (type != PNG_IHDR || len != 13) {
          throw reject(MALFORMED, "The PNG does not start with a 13-byte IHDR chunk.");
        }
        checkPngHeader(b, data);
        width = s32be(b, data);
        height = s32be(b, data + 4);
      } else if (type == PNG_IHDR) {
        throw reject(MALFORMED, "The PNG has a second IHDR chunk at byte %d.", pos);
      } else if (type == PNG_IDAT) {
        sawIdat = true;
      } else if (type == PNG_IEND) {
        if (!sawIdat) {
          throw reject(MALFORMED, "The PNG reaches IEND without any IDAT image data.");
        }
        // Bytes after IEND are ignored, as decoders do.
        return new ImageInfo(ImageInfo.PNG, width, height);
      }
      pos = data + len + 4;
    }
  }

  private static void checkPngHeader(byte[] b, int ihdr) throws ImageRejectedException {
    int width = s32be(b, ihdr);
    int height = s32be(b, ihdr + 4);
    if (width <= 0 || height <= 0) {
      throw reject(
          MALFORMED,
          "The PNG header gives dimensions %dx%d; both must be between 1 and 2^31-1.",
          u32be(b, ihdr),
          u32be(b, ihdr + 4));
    }
    int depth = u8(b, ihdr + 8);
    int colorType = u8(b, ihdr + 9);
    boolean valid =
        switch (colorType) {
          case 0 -> depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
          case 3 -> depth == 1 || depth == 2 || depth == 4 || depth == 8;
          case 2, 4, 6 -> depth == 8 || depth == 16;
          default -> false;
        };
    if (!valid) {
      throw reject(
          MALFORMED,
          "The PNG header combines bit depth %d with color type %d, which PNG does not allow.",
          depth,
          colorType);
    }
    if (u8(b, ihdr + 10) != 0 || u8(b, ihdr + 11) != 0 || u8(b, ihdr + 12) > 1) {
      throw reject(MALFORMED, "The PNG header names an unknown compression, filter or interlace.");
    }
  }

  private static boolean isPngChunkType(byte[] b, int at) {
    for (int i = at; i < at + 4; i++) {
      int c = u8(b, i);
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
        return false;
      }
    }
    return true;
  }

  // ---- JPEG: marker segments to a frame header, scans, and EOI ----

  private static ImageInfo probeJpeg(byte[] b) throws ImageRejectedException {
    int pos = 2;
    int width = 0;
    int height = 0;
    int scans = 0;
    while (true) {
      if (pos >= b.length) {
        throw reject(TRUNCATED, "The JPEG ends at byte %d before its EOI marker.", b.length);
      }
      if (u8(b, pos) != 0xFF) {
        throw reject(
            MALFORMED, "The JPEG has byte 0x%02X at %d where a marker should be.", u8(b, pos), pos);
      }
      while (pos < b.length && u8(b, pos) == 0xFF) {
        pos++; // 0xFF fill bytes may precede any marker
      }
      if (pos >= b.length) {
        throw reject(TRUNCATED, "The JPEG ends at byte %d inside a marker.", b.length);
      }
      int marker = u8(b, pos++);
      if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
        continue; // TEM and RSTn stand alone, without a length
      }
      if (marker == 0x00 || marker == 0xD8 || marker == JPEG_EOI) {
        throw reject(
            MALFORMED,
            "The JPEG has marker 0x%02X at byte %d before any complete frame and scan.",
            marker,
            pos - 1);
      }
      if (b.length - pos < 2) {
        throw reject(TRUNCATED, "The JPEG ends at byte %d inside a segment length.", b.length);
      }
      int length = u16be(b, pos);
      if (length < 2) {
        throw reject(MALFORMED, "The JPEG segment at byte %d has length %d.", pos - 2, length);
      }
      if (length > b.length - pos) {
        throw reject(
            TRUNCATED,
            "The JPEG segment 0x%02X at byte %d declares %d bytes but the file ends first.",
            marker,
            pos - 2,
            length);
      }
      if (isStartOfFrame(marker) && width == 0) {
        checkJpegFrame(b, pos, length);
        height = u16be(b, pos + 3);
        width = u16be(b, pos + 5);
      }
      pos += length;
      if (marker == JPEG_SOS) {
        if (width == 0) {
          throw reject(MALFORMED, "The JPEG starts a scan before any frame header (SOFn).");
        }
        if (++scans > MAX_JPEG_SCANS) {
          throw reject(
              TOO_MANY_SCANS,
              "The JPEG has more than %d scans (a progressive JPEG usually has about 10); each"
                  + " scan costs a pass over the whole image, so it is refused.",
              MAX_JPEG_SCANS);
        }
        pos = skipEntropyCodedData(b, pos);
        if (pos < 0) {
          // Bytes after EOI are ignored, as decoders do.
          return new ImageInfo(ImageInfo.JPEG, width, height);
        }
      }
    }
  }

  /** SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range. */
  private static boolean isStartOfFrame(int marker) {
    return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
  }

  private static void checkJpegFrame(byte[] b, int pos, int length) throws ImageRejectedException {
    // length(2) precision(1) height(2) width(2) components(1), then 3 bytes per component
    if (length < 8 || length != 8 + 3 * u8(b, pos + 7) || u8(b, pos + 7) == 0) {
      throw reject(MALFORMED, "The JPEG frame header at byte %d has a wrong length.", pos - 2);
    }
    int height = u16be(b, pos + 3);
    int width = u16be(b, pos + 5);
    if (height == 0) {
      throw reject(
          MALFORMED, "The JPEG frame header leaves the height to a DNL marker; not supported.");
    }
    if (width == 0) {
      throw reject(MALFORMED, "The JPEG frame header gives a width of 0.");
    }
  }

  /**
   * Skips a scan's entropy-coded data. Returns the index of the next marker's first 0xFF, or -1
   * when that marker is EOI.
   */
  private static int skipEntropyCodedData(byte[] b, int from) throws ImageRejectedException {
    int i = from;
    while (true) {
      while (i < b.length && u8(b, i) != 0xFF) {
        i++;
      }
      int j = i + 1;
      while (j < b.length && u8(b, j) == 0xFF) {
        j++;
      }
      if (j >= b.length) {
        throw reject(
            TRUNCATED, "The JPEG ends at byte %d inside scan data, without EOI.", b.length);
      }
      int next = u8(b, j);
      if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
        i = j + 1; // a stuffed 0xFF data byte, or a restart marker inside the scan
      } else if (next == JPEG_EOI) {
        return -1;
      } else {
        return i; // another segment, e.g. the next scan of a progressive JPEG
      }
    }
  }

  // ---- WebP: RIFF container, VP8 / VP8L / VP8X chunks ----

  private static ImageInfo probeWebp(byte[] b) throws ImageRejectedException {
    long declaredEnd = u32le(b, 4) + 8;
    // A writer may or may not emit the final chunk's pad byte, so allow one byte either way.
    if (declaredEnd > b.length + 1L) {
      throw reject(
          TRUNCATED,
          "The WebP's RIFF header declares %d bytes but the upload has %d.",
          declaredEnd,
          b.length);
    }
    if (declaredEnd < b.length - 1L) {
      throw reject(
          MALFORMED,
          "The WebP's RIFF header declares %d bytes but the upload has %d; trailing data.",
          declaredEnd,
          b.length);
    }
    int end = (int) Math.min(declaredEnd, b.length);
    int pos = 12;
    ImageInfo info = null;
    boolean sawImageData = false;
    while (pos < end) {
      if (end - pos < 8) {
        throw reject(TRUNCATED, "The WebP ends at byte %d inside a chunk header.", end);
      }
      int fourcc = s32be(b, pos);
      long size = u32le(b, pos + 4);
      int data = pos + 8;
      if (size > end - data) {
        throw reject(
            TRUNCATED,
            "The WebP chunk '%s' at byte %d declares %d bytes but the file ends first.",
            new String(b, pos, 4, StandardCharsets.ISO_8859_1),
            pos,
            size);
      }
      int len = (int) size;
      if (info == null) {
        info =
            switch (fourcc) {
              case WEBP_VP8 -> probeVp8(b, data, len);
              case WEBP_VP8L -> probeVp8l(b, data, len);
              case WEBP_VP8X -> probeVp8x(b, data, len);
              default ->
                  throw reject(MALFORMED, "The WebP's first chunk is not VP8, VP8L or VP8X.");
            };
      }
      sawImageData |= fourcc == WEBP_VP8 || fourcc == WEBP_VP8L || fourcc == WEBP_ANMF;
      pos = data + len + (len & 1);
    }
    if (info == null) {
      throw reject(MALFORMED, "The WebP's RIFF container holds no chunks.");
    }
    if (!sawImageData) {
      throw reject(MALFORMED, "The WebP has a VP8X header but no image data chunk.");
    }
    return info;
  }

  private static ImageInfo probeVp8(byte[] b, int d, int len) throws ImageRejectedException {
    // frame tag(3) start code(3) width(2) height(2), the top 2 bits of each being a scale
    if (len < 10) {
      throw reject(MALFORMED, "The WebP VP8 chunk is too short for a frame header.");
    }
    int tag = u8(b, d) | u8(b, d + 1) << 8 | u8(b, d + 2) << 16;
    if ((tag & 1) != 0) {
      throw reject(MALFORMED, "The WebP VP8 frame is not a key frame.");
    }
    if (u8(b, d + 3) != 0x9D || u8(b, d + 4) != 0x01 || u8(b, d + 5) != 0x2A) {
      throw reject(MALFORMED, "The WebP VP8 frame lacks the start code 9d 01 2a.");
    }
    if ((tag >>> 5) > len - 10) {
      throw reject(MALFORMED, "The WebP VP8 first partition is larger than its chunk.");
    }
    int width = u16le(b, d + 6) & 0x3FFF;
    int height = u16le(b, d + 8) & 0x3FFF;
    if (width == 0 || height == 0) {
      throw reject(MALFORMED, "The WebP VP8 frame gives dimensions %dx%d.", width, height);
    }
    return new ImageInfo(ImageInfo.WEBP, width, height);
  }

  private static ImageInfo probeVp8l(byte[] b, int d, int len) throws ImageRejectedException {
    // signature 0x2f, then 14 bits width-1, 14 bits height-1, 1 bit alpha, 3 bits version
    if (len < 5 || u8(b, d) != 0x2F) {
      throw reject(MALFORMED, "The WebP VP8L chunk lacks its 0x2f signature.");
    }
    long bits = u32le(b, d + 1);
    if ((bits >>> 29) != 0) {
      throw reject(MALFORMED, "The WebP VP8L chunk has unknown version %d.", bits >>> 29);
    }
    int width = (int) (bits & 0x3FFF) + 1;
    int height = (int) ((bits >>> 14) & 0x3FFF) + 1;
    return new ImageInfo(ImageInfo.WEBP, width, height);
  }

  private static ImageInfo probeVp8x(byte[] b, int d, int len) throws ImageRejectedException {
    // flags(1) reserved(3) canvas width-1 (24 bits) canvas height-1 (24 bits)
    if (len < 10) {
      throw reject(MALFORMED, "The WebP VP8X chunk is shorter than 10 bytes.");
    }
    int width = u24le(b, d + 4) + 1;
    int height = u24le(b, d + 7) + 1;
    return new ImageInfo(ImageInfo.WEBP, width, height);
  }

  // ---- byte helpers; callers check bounds first ----

  private static ImageRejectedException reject(
      ImageRejectedException.Reason reason, String format, Object... args) {
    return new ImageRejectedException(reason, String.format(format, args));
  }

  private static boolean startsWith(byte[] b, byte[] prefix) {
    if (b.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (b[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static String hex(byte[] b, int from, int to) {
    StringBuilder s = new StringBuilder();
    for (int i = from; i < to; i++) {
      s.append(i > from ? " " : "").append(String.format("%02x", u8(b, i)));
    }
    return s.toString();
  }

  private static int u8(byte[] b, int i) {
    return b[i] & 0xFF;
  }

  private static int u16be(byte[] b, int i) {
    return u8(b, i) << 8 | u8(b, i + 1);
  }

  private static int u16le(byte[] b, int i) {
    return u8(b, i) | u8(b, i + 1) << 8;
  }

  private static int u24le(byte[] b, int i) {
    return u8(b, i) | u8(b, i + 1) << 8 | u8(b, i + 2) << 16;
  }

  private static int s32be(byte[] b, int i) {
    return u8(b, i) << 24 | u8(b, i + 1) << 16 | u8(b, i + 2) << 8 | u8(b, i + 3);
  }

  private static long u32be(byte[] b, int i) {
    return s32be(b, i) & 0xFFFFFFFFL;
  }

  private static long u32le(byte[] b, int i) {
    return (u8(b, i) | u8(b, i + 1) << 8 | u8(b, i + 2) << 16 | (long) u8(b, i + 3) << 24);
  }
}
