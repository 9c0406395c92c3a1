"""Loading and normalising images: formats, orientation, transparency, and refusing bad input."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from daemon.matching.imageio import (
    ImageError,
    _open,
    decode,
    load_image,
    make_thumbnail,
    trim_margins,
)


@pytest.fixture(scope="module")
def photo(photos_dir: Path) -> Path:
    return sorted((photos_dir / "clothing" / "dress").glob("*.jpg"))[0]


def _encode(im: Image.Image, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **kw)
    return out.getvalue()


def test_loads_real_jpeg_from_path_and_bytes(photo: Path) -> None:
    a = load_image(photo)
    b = load_image(photo.read_bytes())
    assert a.mode == "RGB" and a.size == b.size
    assert a.tobytes() == b.tobytes()


def test_shrinks_big_jpeg_with_draft_decode(photo: Path) -> None:
    big = Image.open(photo).convert("RGB").resize((3000, 4000))
    im = load_image(_encode(big, "JPEG", quality=85), max_side=512)
    assert max(im.size) == 512 and im.size == (384, 512)


def test_draft_keeps_aspect_ratio_and_coarse_stops_at_half(photo: Path) -> None:
    landscape = _encode(Image.open(photo).convert("RGB").resize((1600, 1200)), "JPEG")
    # Asked for a 640 frame, a 1600x1200 JPEG is decoded at 1/2 (800x600), not whole.
    assert _open(landscape, 640)[0].size == (800, 600)
    assert load_image(landscape, max_side=640).size == (640, 480)
    big = _encode(Image.open(photo).convert("RGB").resize((4000, 3000)), "JPEG")
    # For hashes 1/8 is enough: 500x375, within (max_side/2, max_side].
    assert _open(big, 512, coarse=True)[0].size == (500, 375)
    assert load_image(big, max_side=512, coarse=True).size == (500, 375)
    assert load_image(big, max_side=512).size == (512, 384)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "AVIF", "GIF", "HEIF"])
def test_formats(photo: Path, fmt: str) -> None:
    src = load_image(photo, max_side=300)
    im = load_image(_encode(src, fmt))
    assert im.mode == "RGB" and im.size == src.size


def test_gif_gives_first_frame() -> None:
    frames = [Image.new("RGB", (40, 30), c) for c in [(250, 0, 0), (0, 0, 250)]]
    data = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    r, g, b = load_image(data).getpixel((20, 15))
    assert r > 200 and b < 50


def test_alpha_is_composited_onto_white() -> None:
    im = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    im.paste((200, 0, 0, 255), (10, 10, 30, 30))
    out = load_image(_encode(im, "PNG"))
    assert out.getpixel((0, 0)) == (255, 255, 255)
    assert out.getpixel((20, 20)) == (200, 0, 0)


def test_exif_orientation_is_applied(photo: Path) -> None:
    src = load_image(photo)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    im = load_image(_encode(src, "JPEG", exif=exif.tobytes()))
    assert im.size == (src.height, src.width)


def test_decode_reports_sha_and_stored_size(photo: Path) -> None:
    import hashlib

    data = photo.read_bytes()
    d = decode(data, max_side=200)
    assert d.sha256 == hashlib.sha256(data).hexdigest()
    assert (d.width, d.height) == Image.open(photo).size and d.format == "JPEG"
    assert max(d.image.size) == 200


def test_trim_margins_cuts_border_and_padding(photo: Path) -> None:
    src = load_image(photo)
    framed = Image.new("RGB", (src.width + 60, src.height + 40), (30, 160, 60))
    framed.paste(src, (30, 20))
    out = trim_margins(load_image(_encode(framed, "JPEG", quality=90), max_side=1024))
    assert abs(out.width - src.width) <= 6 and abs(out.height - src.height) <= 6


def test_trim_keeps_plain_image() -> None:
    im = Image.new("RGB", (100, 80), (255, 255, 255))
    assert trim_margins(im).size == (100, 80)


def test_thumbnail_is_small_jpeg(photo: Path) -> None:
    data = make_thumbnail(photo, max_side=256)
    im = Image.open(io.BytesIO(data))
    assert im.format == "JPEG" and max(im.size) == 256


# -- refusing bad input ------------------------------------------------------------


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny valid PNG whose header claims width x height (a decompression bomb)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 10)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(20000, 20000), (100000, 100000)])
def test_decompression_bomb_is_refused(size: tuple[int, int]) -> None:
    with pytest.raises(ImageError, match="decompression bomb|too large"):
        load_image(_png_claiming(*size))


def test_truncated_jpeg_is_refused(photo: Path) -> None:
    data = photo.read_bytes()
    with pytest.raises(ImageError, match="truncated or corrupt"):
        load_image(data[: len(data) // 2])


def test_corrupt_and_non_images_are_refused(photo: Path, tmp_path: Path) -> None:
    data = bytearray(photo.read_bytes())
    data[200:4000] = b"\x00" * 3800
    for bad in (bytes(data), b"<html>not an image</html>", b"", b"GIF89a"):
        with pytest.raises(ImageError):
            load_image(bad)
    with pytest.raises(ImageError, match="cannot read"):
        load_image(tmp_path / "missing.jpg")
    with pytest.raises(ImageError, match="not a file"):
        load_image(tmp_path)


def test_unsupported_format_is_refused() -> None:
    with pytest.raises(ImageError, match="not supported"):
        load_image(_encode(Image.new("RGB", (10, 10)), "BMP"))


def test_error_is_a_valueerror_with_plain_reason() -> None:
    with pytest.raises(ValueError) as info:
        load_image(b"\xff\xd8\xff\xe0garbage")
    assert "image" in str(info.value) and len(str(info.value)) > 30


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_give_image_error_or_an_image(data: bytes) -> None:
    try:
        im = load_image(data)
    except ImageError:
        return
    assert im.mode == "RGB"


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=0.0, max_value=0.98))
def test_any_truncation_of_a_real_jpeg_is_refused(photos_dir: Path, keep: float) -> None:
    raw = sorted((photos_dir / "clothing" / "hat").glob("*.jpg"))[0].read_bytes()
    with pytest.raises(ImageError):
        load_image(raw[: int(len(raw) * keep)])
