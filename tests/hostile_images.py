"""Hostile and unusual image inputs, built in memory: what the decoding fuzz tests feed in.

Each case is (name, bytes, expect) with expect "ok" (a valid picture PicGuard must read),
"error" (must be refused with an ImageError / a clear message) or "either" (reading it or
refusing it clearly are both fine; crashing is not).
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Iterator

import pillow_heif
from PIL import Image, ImageDraw


def _encode(im: Image.Image, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **kw)
    return out.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def raw_png(width: int, height: int, depth: int = 8, colour: int = 0,
            rows: bytes | None = None, crc_ok: bool = True) -> bytes:
    """A PNG written by hand, so headers can claim anything (bombs, zero sizes, 16 bits)."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    if rows is None:
        channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
        row = b"\x00" + bytes(width * channels * depth // 8)
        # a compressed stream of zero rows: tiny on disk, huge once decoded
        comp = zlib.compressobj(9)
        body = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    else:
        body = zlib.compress(rows, 9)
    head = _chunk(b"IHDR", ihdr)
    if not crc_ok:
        head = head[:-4] + b"\x00\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + head + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def sample_photo(size: tuple[int, int] = (320, 240), seed: int = 7) -> Image.Image:
    """A busy synthetic picture (shapes and noise), with features for the matcher."""
    rnd = random.Random(seed)
    im = Image.new("RGB", size, (230, 225, 210))
    draw = ImageDraw.Draw(im)
    for _ in range(40):
        x, y = rnd.randrange(size[0]), rnd.randrange(size[1])
        r = rnd.randrange(5, 40)
        colour = tuple(rnd.randrange(256) for _ in range(3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour, outline=(0, 0, 0))
    return im


def _animated(fmt: str) -> bytes:
    frames = [sample_photo(seed=s) for s in (1, 2, 3)]
    return _encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100,
                   loop=0)


def _heic() -> bytes:
    heif = pillow_heif.from_pillow(sample_photo())
    out = io.BytesIO()
    heif.save(out, quality=80)
    return out.getvalue()


def _png16_rgb() -> bytes:
    w, h = 64, 48
    rows = b"".join(b"\x00" + b"".join(struct.pack(">HHH", x * 1000, y * 1300, 40000)
                                       for x in range(w)) for y in range(h))
    return raw_png(w, h, depth=16, colour=2, rows=rows)


def _gif_bomb() -> bytes:
    """A GIF whose logical screen and frame claim 65535x65535 pixels."""
    small = _encode(Image.new("P", (4, 4)), "GIF")
    # patch the logical screen width/height and the image descriptor's size
    data = bytearray(small)
    data[6:10] = struct.pack("<HH", 65535, 65535)
    idx = data.index(b"\x2c")
    data[idx + 5:idx + 9] = struct.pack("<HH", 65535, 65535)
    return bytes(data)


def _jpeg_bad_exif_orientation() -> bytes:
    im = sample_photo()
    exif = Image.Exif()
    exif[0x0112] = 9  # orientation values are 1..8
    return _encode(im, "JPEG", exif=exif)


def hostile_images() -> Iterator[tuple[str, bytes, str]]:
    """Every case, built fresh: (name, bytes, "ok" | "error" | "either")."""
    photo = sample_photo()
    jpeg = _encode(photo, "JPEG", quality=90)
    png = _encode(photo, "PNG")
    yield "zero-bytes", b"", "error"
    yield "random-bytes", random.Random(3).randbytes(4096), "error"
    yield "text-not-image", b"<html><body>not a picture</body></html>", "error"
    yield "svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "error"
    yield "jpeg-header-only", jpeg[:200], "error"
    yield "jpeg-truncated-half", jpeg[: len(jpeg) // 2], "either"
    yield "png-truncated-half", png[: len(png) // 2], "error"
    yield "png-bad-crc", raw_png(16, 16, crc_ok=False), "error"
    yield "png-zero-width", raw_png(0, 10, rows=b""), "error"
    yield "png-1x60000", raw_png(1, 60000), "error"
    yield "png-60000x1", raw_png(60000, 1), "error"
    yield "png-1x1", _encode(Image.new("RGB", (1, 1), "red"), "PNG"), "either"
    yield "png-bomb-20000x20000", raw_png(20000, 20000), "error"
    yield "png-bomb-12000x12000", raw_png(12000, 12000), "error"
    yield "gif-bomb-65535", _gif_bomb(), "error"
    yield "tiff-unsupported", _encode(photo, "TIFF"), "error"
    yield "bmp-unsupported", _encode(photo, "BMP"), "error"
    yield "gif-animated", _animated("GIF"), "ok"
    yield "webp-animated", _animated("WEBP"), "ok"
    yield "jpeg-cmyk", _encode(photo.convert("CMYK"), "JPEG"), "ok"
    yield "png-16bit-grey", _encode(photo.convert("L").convert("I;16"), "PNG"), "ok"
    yield "png-16bit-rgb", _png16_rgb(), "ok"
    yield "png-palette-transparent", _encode(photo.convert("P"), "PNG", transparency=0), "ok"
    yield "png-la", _encode(photo.convert("LA"), "PNG"), "ok"
    yield "png-1bit", _encode(photo.convert("1"), "PNG"), "ok"
    yield "png-flat-colour", _encode(Image.new("RGB", (300, 200), "white"), "PNG"), "either"
    yield "jpeg-bad-exif-orientation", _jpeg_bad_exif_orientation(), "ok"
    yield "heic", _heic(), "ok"
    yield "avif", _encode(photo, "AVIF"), "ok"
