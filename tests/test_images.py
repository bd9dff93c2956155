"""Tests of load_image on files of every mode, broken files and decompression bombs built in tmp_path."""

from __future__ import annotations

import io
import pickle
import resource
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hpl.data.images import ALPHA_BACKGROUND, ImageLoadError, ImageNotFoundError, load_image

RED = (255, 0, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)


def _save(image: Image.Image, path: Path, **params) -> Path:
    image.save(path, **params)
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height RGB pixels but whose data is one tiny IDAT."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _png_blank_1bit(width: int, height: int) -> bytes:
    """A valid, fully encoded 1-bit PNG of a blank width x height image (a few tens of kilobytes)."""
    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_with_claimed_size(width: int, height: int) -> bytes:
    """A small JPEG whose SOF0 header is patched to claim width x height pixels."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), RED).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_rgb_jpeg_loads(tmp_path):
    path = _save(Image.new("RGB", (64, 128), RED), tmp_path / "a.jpg")
    image = load_image(path)
    assert image.mode == "RGB"
    assert image.size == (64, 128)
    assert np.allclose(image.getpixel((10, 10)), RED, atol=3)


def test_grayscale_becomes_rgb(tmp_path):
    path = _save(Image.new("L", (8, 8), 77), tmp_path / "grey.png")
    image = load_image(path)
    assert image.mode == "RGB"
    assert image.getpixel((0, 0)) == (77, 77, 77)


def test_bilevel_becomes_rgb(tmp_path):
    path = _save(Image.new("1", (8, 8), 1), tmp_path / "bw.png")
    assert load_image(path).getpixel((3, 3)) == WHITE


def test_palette_becomes_rgb(tmp_path):
    image = Image.new("P", (4, 4), 1)
    image.putpalette([0, 0, 0, 10, 200, 30] + [0] * (254 * 3))
    path = _save(image, tmp_path / "palette.png")
    assert load_image(path).getpixel((0, 0)) == (10, 200, 30)


def test_palette_transparency_uses_background(tmp_path):
    image = Image.new("P", (4, 4), 0)
    image.putpalette([0, 0, 0, 10, 200, 30] + [0] * (254 * 3))
    image.putpixel((3, 3), 1)
    path = _save(image, tmp_path / "palette_alpha.png", transparency=0)
    loaded = load_image(path)
    assert loaded.getpixel((0, 0)) == ALPHA_BACKGROUND
    assert loaded.getpixel((3, 3)) == (10, 200, 30)


def test_rgba_composited_on_background(tmp_path):
    image = Image.new("RGBA", (3, 1))
    image.putpixel((0, 0), (255, 0, 0, 0))
    image.putpixel((1, 0), (255, 0, 0, 255))
    image.putpixel((2, 0), (0, 0, 0, 128))
    loaded = load_image(_save(image, tmp_path / "alpha.png"))
    assert loaded.getpixel((0, 0)) == ALPHA_BACKGROUND
    assert loaded.getpixel((1, 0)) == RED
    blended = loaded.getpixel((2, 0))
    assert all(abs(channel - 127) <= 1 for channel in blended)


def test_grey_alpha_composited_on_background(tmp_path):
    image = Image.new("LA", (2, 1))
    image.putpixel((0, 0), (0, 0))
    image.putpixel((1, 0), (40, 255))
    loaded = load_image(_save(image, tmp_path / "la.png"))
    assert loaded.getpixel((0, 0)) == ALPHA_BACKGROUND
    assert loaded.getpixel((1, 0)) == (40, 40, 40)


def test_cmyk_becomes_rgb(tmp_path):
    image = Image.new("CMYK", (2, 1))
    image.putpixel((0, 0), (0, 0, 0, 0))
    image.putpixel((1, 0), (0, 255, 255, 0))
    loaded = load_image(_save(image, tmp_path / "cmyk.tif"))
    assert loaded.mode == "RGB"
    assert loaded.getpixel((0, 0)) == WHITE
    assert loaded.getpixel((1, 0)) == RED


def test_16bit_png_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257 * 64, 257 * 128, 65535]], dtype=np.uint16)
    path = _save(Image.fromarray(values), tmp_path / "deep.png")
    assert Image.open(path).mode.startswith("I;16")
    loaded = np.asarray(load_image(path))
    assert loaded.dtype == np.uint8
    assert loaded[0, :, 0].tolist() == [0, 64, 128, 255]
    assert (loaded[..., 0] == loaded[..., 2]).all()


def test_32bit_integer_mode_read_as_16bit(tmp_path):
    values = np.array([[-5, 257 * 100, 65535, 70000]], dtype=np.int32)
    path = _save(Image.fromarray(values, mode="I"), tmp_path / "int.tif")
    assert Image.open(path).mode == "I"
    assert np.asarray(load_image(path))[0, :, 1].tolist() == [0, 100, 255, 255]


def test_exif_orientation_applied(tmp_path):
    stored = Image.new("RGB", (40, 20), BLUE)
    stored.paste(RED, (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = _save(stored, tmp_path / "rotated.jpg", exif=exif, quality=95)
    loaded = load_image(path)
    assert loaded.size == (20, 40)
    assert np.allclose(loaded.getpixel((10, 5)), RED, atol=40)
    assert np.allclose(loaded.getpixel((10, 35)), BLUE, atol=40)


def test_bytes_stream_and_image_sources(tmp_path):
    path = _save(Image.new("RGB", (8, 6), BLUE), tmp_path / "b.png")
    data = path.read_bytes()
    from_bytes = load_image(data)
    with path.open("rb") as stream:
        from_stream = load_image(stream)
        assert not stream.closed
    opened = Image.open(io.BytesIO(data)).convert("RGBA")
    from_image = load_image(opened)
    for image in (from_bytes, from_stream, from_image):
        assert image.size == (8, 6)
        assert image.getpixel((1, 1)) == BLUE
    assert opened.mode == "RGBA"
    assert from_image is not opened


def test_missing_file_names_path(tmp_path):
    path = tmp_path / "nowhere" / "missing.jpg"
    with pytest.raises(ImageNotFoundError, match="missing.jpg"):
        load_image(path)
    with pytest.raises(FileNotFoundError):
        load_image(path)


@pytest.mark.parametrize(
    ("file_name", "content", "reason"),
    [
        ("empty.jpg", b"", "empty"),
        ("notes.jpg", b"this is a text file, not a picture\n" * 10, "not a supported image"),
        ("header.png", b"\x89PNG\r\n\x1a\n", "not a supported image|header"),
    ],
)
def test_non_image_files_rejected(tmp_path, file_name, content, reason):
    path = tmp_path / file_name
    path.write_bytes(content)
    with pytest.raises(ImageLoadError, match=reason) as caught:
        load_image(path)
    assert file_name in str(caught.value)


def test_truncated_jpeg_rejected(tmp_path):
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))
    buffer = io.BytesIO()
    noise.save(buffer, format="JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageLoadError, match="cut.jpg"):
        load_image(path)


def test_corrupt_png_rejected(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), RED).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    idat = data.index(b"IDAT")
    data[idat + 6 : idat + 16] = b"\xff" * 10
    with pytest.raises(ImageLoadError, match="corrupt.png"):
        load_image(bytes(data), name="corrupt.png")


def test_directory_rejected(tmp_path):
    with pytest.raises(ImageLoadError, match="not a regular file"):
        load_image(tmp_path)


def test_empty_bytes_rejected():
    with pytest.raises(ImageLoadError, match="empty"):
        load_image(b"")


@pytest.mark.parametrize(
    "make_bomb",
    [
        lambda: _png_header_only(20000, 20000),
        lambda: _png_blank_1bit(20000, 20000),
        lambda: _jpeg_with_claimed_size(20000, 20000),
        lambda: _jpeg_with_claimed_size(10000, 10000),
    ],
    ids=["png-header", "png-compressed", "jpeg-header", "jpeg-over-pillow-limit"],
)
def test_bombs_fail_fast_without_memory(tmp_path, make_bomb):
    path = tmp_path / "bomb.img"
    path.write_bytes(make_bomb())
    rss_before = _peak_rss_mib()
    start = time.perf_counter()
    with pytest.raises(ImageLoadError, match="bomb.img"):
        load_image(path)
    assert time.perf_counter() - start < 2.0
    assert _peak_rss_mib() - rss_before < 100


def test_over_max_pixels_rejected_before_decoding(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(_png_header_only(5000, 5000))
    with pytest.raises(ImageLoadError, match="max_pixels"):
        load_image(path, max_pixels=1_000_000)


def test_large_jpeg_decoded_at_reduced_scale(tmp_path):
    path = _save(Image.new("RGB", (400, 300), RED), tmp_path / "large.jpg")
    image = load_image(path, max_pixels=40_000)
    assert image.size == (200, 150)
    assert np.allclose(image.getpixel((100, 75)), RED, atol=3)


def test_jpeg_too_large_even_at_eighth_scale(tmp_path):
    path = _save(Image.new("RGB", (400, 300), RED), tmp_path / "large.jpg")
    with pytest.raises(ImageLoadError, match="max_pixels"):
        load_image(path, max_pixels=100)


def test_invalid_max_pixels_rejected(tmp_path):
    with pytest.raises(ValueError, match="max_pixels"):
        load_image(b"data", max_pixels=0)


def test_error_survives_pickling():
    error = ImageLoadError("a.jpg", "the file is empty (0 bytes)")
    restored = pickle.loads(pickle.dumps(error))
    assert str(restored) == str(error)
    assert restored.source == "a.jpg"
