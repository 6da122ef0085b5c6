package io.retina.api.images;

import java.util.Objects;

/**
 * What {@link ImageProbe} learned from an image's header: its real media type, whatever the client
 * declared, and its dimensions in pixels.
 */
public record ImageInfo(String mediaType, int width, int height) {

  public static final String PNG = "image/png";
  public static final String JPEG = "image/jpeg";
  public static final String WEBP = "image/webp";

  public ImageInfo {
    Objects.requireNonNull(mediaType, "mediaType");
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("dimensions must be positive: " + width + "x" + height);
    }
  }

  /** Width times height, as a long because 65535 x 65535 overflows an int. */
  public long pixels() {
    return (long) width * height;
  }
}
