"""Image loading shared by training, indexing and the app: one function, upright RGB out, clear errors.

`load_image` applies the EXIF orientation, converts every Pillow mode to 8-bit RGB (alpha composited on
`ALPHA_BACKGROUND`, 16-bit scaled rather than clipped) and rejects oversized images from their header,
before any pixel is decoded. Every failure is an `ImageLoadError` that names the image and the cause.
"""

from __future__ import annotations

import io
import logging
import struct
import warnings
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps

logger = logging.getLogger(__name__)

# Pixel limit checked on the header before decoding: 36 million pixels decode to about 108 MB of RGB,
# and cover 12-megapixel phone photos in full and larger JPEGs after `draft` downscaling.
DEFAULT_MAX_PIXELS = 6000 * 6000

# Background that transparent pixels are composited on (RGBA, LA, PA and palette or RGB images with a
# transparency key).
ALPHA_BACKGROUND = (255, 255, 255)

# Formats tried by Image.open. Formats outside this list (EPS, which would start Ghostscript, and
# rarely used plugins with less tested decoders) are rejected as unidentified images.
ALLOWED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "BMP", "GIF", "TIFF", "PPM", "AVIF")

# JPEG files can be decoded at 1/2, 1/4 or 1/8 of their size through `Image.draft`.
_JPEG_DRAFT_FORMATS = ("JPEG", "MPO")
_JPEG_DRAFT_SCALES = (2, 4, 8)

# Exceptions that Pillow and its codecs raise for unreadable, truncated or malformed files.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, IndexError)

ImageSource = str | Path | bytes | bytearray | memoryview | BinaryIO | Image.Image


class ImageLoadError(ValueError):
    """Error for an image that cannot be loaded. `source` names the file or stream, `reason` the cause."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"Failed to load image {source}: {reason}")
        self.source = source
        self.reason = reason

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return self.__class__, (self.source, self.reason)


class ImageNotFoundError(ImageLoadError, FileNotFoundError):
    """A missing image file: caught both as `ImageLoadError` and as `FileNotFoundError`."""


def load_image(
    source: ImageSource,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    name: str | None = None,
) -> Image.Image:
    """Load an image as an upright 8-bit RGB `PIL.Image.Image`.

    `source` is a file path, the encoded bytes, a seekable binary file object (read from its start,
    left open) or an already opened image (its pixels are never changed, a converted copy is returned).
    `name` labels the image in error messages, for example the original name of an upload.

    Size limits are checked on the header, before decoding. A JPEG file larger than `max_pixels` is
    decoded at 1/2, 1/4 or 1/8 scale (`Image.draft`) when that brings it under the limit, but an opened
    image passed in is never downscaled. Any other image over
    `max_pixels`, and any image over Pillow's own limit `Image.MAX_IMAGE_PIXELS` (a decompression
    bomb), is rejected. So `max_pixels` above `Image.MAX_IMAGE_PIXELS` has no effect unless the caller
    raises Pillow's limit too.

    Raises:
        ImageNotFoundError: the path does not exist (also a `FileNotFoundError`).
        ImageLoadError: the file is empty, not an image, truncated, corrupt or too large.
        ValueError: `max_pixels` is not a positive integer.
    """
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be a positive number of pixels, got {max_pixels}")

    label = name if name is not None else _describe_source(source)
    if isinstance(source, Image.Image):
        return _decode(source, label, max_pixels, allow_draft=False)

    stream, owned = _open_stream(source, label)
    try:
        image = _open_header(stream, label)
        return _decode(image, label, max_pixels, allow_draft=True)
    finally:
        if owned:
            stream.close()


def _describe_source(source: ImageSource) -> str:
    if isinstance(source, (str, Path)):
        return str(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes in memory>"
    if isinstance(source, Image.Image):
        filename = getattr(source, "filename", "")
        return str(filename) if filename else f"<{source.mode} image {source.width}x{source.height}>"
    stream_name = getattr(source, "name", None)
    return str(stream_name) if isinstance(stream_name, (str, Path)) else "<binary stream>"


def _open_stream(source: ImageSource, label: str) -> tuple[BinaryIO, bool]:
    """Return a binary stream for `source` and whether this module opened it (and must close it)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise ImageLoadError(label, "the data is empty (0 bytes)")
        return io.BytesIO(bytes(source)), True

    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise ImageNotFoundError(label, "the file does not exist. Check the path")
        if not path.is_file():
            raise ImageLoadError(label, "the path is not a regular file")
        if path.stat().st_size == 0:
            raise ImageLoadError(label, "the file is empty (0 bytes)")
        try:
            return path.open("rb"), True
        except OSError as err:
            raise ImageLoadError(label, f"the file cannot be opened ({err.strerror or err})") from err

    if hasattr(source, "read"):
        return source, False
    raise TypeError(
        f"load_image expects a path, bytes, a binary file object or a PIL image, got {type(source).__name__}"
    )


def _open_header(stream: BinaryIO, label: str) -> Image.Image:
    """Read the header only, turning Pillow's decompression bomb warning into an error."""
    Image.init()
    formats = [name for name in ALLOWED_FORMATS if name in Image.OPEN]
    try:
        # NOTE: warnings.catch_warnings swaps a process-wide filter list, so a thread that warns at
        # the same moment may see this filter. The filter only turns DecompressionBombWarning into
        # an error, which this module rejects anyway.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(stream, formats=formats)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageLoadError(label, f"the image is too large to decode safely ({err})") from err
    except Image.UnidentifiedImageError as err:
        raise ImageLoadError(
            label, f"not a supported image file (supported formats: {', '.join(formats)})"
        ) from err
    except _DECODE_ERRORS as err:
        raise ImageLoadError(label, f"the header cannot be read ({err})") from err


def _decode(image: Image.Image, label: str, max_pixels: int, allow_draft: bool) -> Image.Image:
    """Check the size, decode the pixels, apply the EXIF orientation and convert to RGB."""
    _limit_size(image, label, max_pixels, allow_draft)
    try:
        image.load()
    except _DECODE_ERRORS as err:
        raise ImageLoadError(label, f"the image data is corrupt or truncated ({err})") from err

    upright = _apply_exif_orientation(image, label)
    rgb = _to_rgb(upright)
    if rgb is image:
        rgb = image.copy()
    return rgb


def _limit_size(image: Image.Image, label: str, max_pixels: int, allow_draft: bool) -> None:
    """Reject an image over the limits, or set a JPEG to decode at a reduced scale that fits."""
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageLoadError(label, f"the header gives an empty size {width}x{height}")
    if Image.MAX_IMAGE_PIXELS is not None and width * height > Image.MAX_IMAGE_PIXELS:
        raise ImageLoadError(
            label,
            f"{width}x{height} is more than Pillow's limit of {Image.MAX_IMAGE_PIXELS:,} pixels "
            "(possible decompression bomb)",
        )
    if width * height <= max_pixels:
        return

    if allow_draft and image.format in _JPEG_DRAFT_FORMATS:
        for scale in _JPEG_DRAFT_SCALES:
            if -(-width // scale) * -(-height // scale) <= max_pixels:
                image.draft(None, (width // scale, height // scale))
                logger.info(
                    "Decoding %s at 1/%d scale: %dx%d is over %d pixels",
                    label,
                    scale,
                    width,
                    height,
                    max_pixels,
                )
                break

    if image.width * image.height > max_pixels:
        raise ImageLoadError(
            label,
            f"{width}x{height} is more than max_pixels={max_pixels:,}. Downscale the image or raise max_pixels",
        )


def _apply_exif_orientation(image: Image.Image, label: str) -> Image.Image:
    """Rotate or flip by the EXIF orientation tag. A malformed EXIF block leaves the image as stored."""
    try:
        return ImageOps.exif_transpose(image)
    except (*_DECODE_ERRORS, KeyError, TypeError) as err:
        logger.warning("Ignoring the malformed EXIF orientation of %s: %s", label, err)
        return image


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB.

    16-bit grey ("I;16*") maps 0..65535 linearly to 0..255. Mode "I" (32-bit integers, which Pillow
    uses for some 16-bit files) is read as 16-bit too, with values outside 0..65535 clipped. Pillow's
    own conversion of these modes clips at 255, which turns most 16-bit images white.
    """
    if image.mode == "RGB" and "transparency" not in image.info:
        return image

    if image.mode.startswith("I;16") or image.mode == "I":
        grey = _scale_16bit_to_8bit(np.asarray(image))
        return Image.fromarray(grey, mode="L").convert("RGB")

    has_alpha = image.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*ALPHA_BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")

    return image.convert("RGB")


def _scale_16bit_to_8bit(values: np.ndarray) -> np.ndarray:
    clipped = np.clip(values.astype(np.float64), 0, 65535)
    return np.rint(clipped / 257.0).astype(np.uint8)
