"""Safe image loading and normalising: every image PicGuard looks at comes through here.

Untrusted bytes (competitor listings) are decoded with Pillow's decompression-bomb
guard on, and any failure becomes an `ImageError` whose message says what was wrong
and what to do, so callers never have to catch Pillow's zoo of exceptions.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pillow_heif
from PIL import Image, ImageOps

# HEIC/HEIF (iPhone photos) through pillow-heif; AVIF and WebP are native in Pillow >= 11.3.
pillow_heif.register_heif_opener()

# Input larger than this is refused before decoding: no product photo needs 64 MB.
MAX_FILE_BYTES = 64 * 1024 * 1024
FORMATS = ("JPEG", "PNG", "WEBP", "AVIF", "GIF", "HEIF")
# A margin row/column is "plain" when at most this share of its pixels differs from
# the row's median colour by more than TRIM_TOLERANCE (0-255). Tight on purpose:
# copiers' borders and padding are flat, while a loose rule also eats smooth walls
# and floors, differently in each re-encode (measured on 120 clothing photos: 28/2%
# moved pHash by more than 8 bits for 15-30% of copies, 12/0.5% for under 1%).
TRIM_TOLERANCE = 12
TRIM_MAX_OUTLIERS = 0.005
# Longer side / shorter side beyond this is a strip, not a photo: refused before decoding.
MAX_ASPECT = 64
# Reductions to at least this share of the size are done by plain linear interpolation.
LINEAR_FROM = 2 / 3
# Never trim an image down to less than this share of its width or height: an
# image that is almost all one colour keeps its frame.
TRIM_MIN_KEEP = 0.25

Source = bytes | bytearray | memoryview | str | Path


class ImageError(ValueError):
    """The input is not an image PicGuard can read; the message says why and what to do."""


def _read_source(src: Source) -> bytes:
    """Return the raw bytes of a path or bytes source, refusing missing or huge files."""
    if isinstance(src, bytes | bytearray | memoryview):
        data = bytes(src)
    elif isinstance(src, str | Path):
        path = Path(src)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise ImageError(f"cannot read {path}: {exc.strerror or exc}; check the path") from exc
        if not path.is_file():
            raise ImageError(f"{path} is not a file; give the path of an image file")
        if size > MAX_FILE_BYTES:
            raise ImageError(
                f"{path} is {size // (1024 * 1024)} MB, more than the "
                f"{MAX_FILE_BYTES // (1024 * 1024)} MB limit; use a smaller export of the photo"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ImageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    else:
        raise ImageError(f"expected a file path or image bytes, got {type(src).__name__}")
    if not data:
        raise ImageError("the image is empty (0 bytes); the download or file is incomplete")
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(
            f"the image is {len(data) // (1024 * 1024)} MB, more than the "
            f"{MAX_FILE_BYTES // (1024 * 1024)} MB limit; use a smaller export"
        )
    return data


def _draft_request(w: int, h: int, max_side: int, coarse: bool) -> tuple[int, int]:
    """The size to ask JPEG draft for: Pillow then picks the largest 1/1..1/8 DCT scale
    whose result is at least this big on both sides.

    Asked with the aspect ratio kept (asking max_side x max_side made the short side
    decide: a 1600x1200 photo was decoded whole for a 640 frame). `coarse` asks for
    half, so the result lands between max_side/2 and max_side (4000x3000 -> 500x375
    for 512): enough for hashes, which look at 64x64 at most.
    """
    scale = max_side / max(w, h) / (2 if coarse else 1)
    return max(1, math.ceil(w * scale)), max(1, math.ceil(h * scale))


def _open(data: bytes, max_side: int,
          coarse: bool = False) -> tuple[Image.Image, tuple[int, int], str]:
    """Decode to RGB at no more than about 2*max_side (JPEG draft), first frame only."""
    try:
        im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageError(
            f"the image is too large to decode safely ({exc}); use a smaller copy") from exc
    except Exception as exc:  # Pillow raises UnidentifiedImageError, SyntaxError, OSError...
        raise ImageError(
            "the data is not a readable image (JPEG, PNG, WebP, AVIF, GIF or HEIC expected); "
            "check that the file or download is really a picture"
        ) from exc
    fmt = im.format or "?"
    if fmt not in FORMATS:
        raise ImageError(
            f"{fmt} images are not supported; convert it to JPEG, PNG, WebP, AVIF, GIF or HEIC"
        )
    w, h = im.size
    if w < 1 or h < 1:
        raise ImageError("the image has no pixels; the file is damaged")
    if w * h > Image.MAX_IMAGE_PIXELS:
        raise ImageError(
            f"the image claims {w}x{h} pixels, beyond the safe decoding limit; "
            "this looks like a decompression bomb, or use a smaller copy"
        )
    if max(w, h) > MAX_ASPECT * min(w, h):
        # Shrunk for matching, such a strip is 1 px wide and OpenCV's feature pyramid
        # fails on it (found by tests/test_image_fuzz.py with a 1x60000 PNG).
        raise ImageError(
            f"the image is {w}x{h} pixels, a strip more than {MAX_ASPECT} times longer than "
            "it is wide, which cannot be compared as a photo; crop it to the picture itself"
        )
    try:
        if fmt == "JPEG":
            # Draft decode: libjpeg scales by 1/2..1/8 while decoding, 3x faster on 12 MP.
            im.draft("RGB", _draft_request(w, h, max_side, coarse))
        im.seek(0)  # GIF/animated WebP: the first frame
        im.load()
        im = ImageOps.exif_transpose(im)
        im = _to_rgb(im)
    except ImageError:
        raise
    except Exception as exc:
        raise ImageError(
            f"the {fmt} image is truncated or corrupt ({type(exc).__name__}: {exc}); "
            "download or export it again"
        ) from exc
    return im, (w, h), fmt


def _to_rgb(im: Image.Image) -> Image.Image:
    """Plain RGB; transparent pixels composited onto white (how marketplaces show them)."""
    if im.mode == "RGB":
        return im
    if im.mode == "P":
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "RGBa", "La", "PA"):
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, im).convert("RGB")
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        # 16-bit/float greyscale: scale to 8 bits by its own range.
        arr = np.asarray(im, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        arr = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
        return Image.fromarray(arr.astype(np.uint8)).convert("RGB")
    return im.convert("RGB")


def _shrink(im: Image.Image, max_side: int) -> Image.Image:
    w, h = im.size
    scale = max_side / max(w, h)
    if scale >= 1:
        return im
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if scale >= LINEAR_FROM and im.mode == "RGB":
        # A small reduction (a 1600 px JPEG drafted to 800, brought to 640) needs no
        # antialiasing filter: OpenCV's linear resize, 1 ms against Pillow's 5.
        return Image.fromarray(cv2.resize(np.asarray(im), size, interpolation=cv2.INTER_LINEAR))
    return im.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def _reduce(im: Image.Image, max_side: int) -> Image.Image:
    """Shrink by an integer box factor to at most max_side (at least about half of it):
    what coarse decoding does for formats without a JPEG draft (WebP, PNG, AVIF)."""
    k = -(-max(im.size) // max_side)
    return im.reduce(k) if k > 1 else im


def trim_box(arr: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the content once plain margins are cut off.

    Each side is walked inward while its rows/columns stay the colour of that side's
    edge; repeated so a border around a white backdrop is cut down to the product.
    """
    h, w = arr.shape[:2]
    left, top, right, bottom = 0, 0, w, h
    for _ in range(3):
        before = (left, top, right, bottom)
        sub = arr[top:bottom, left:right].astype(np.int16)
        if sub.shape[0] < 4 or sub.shape[1] < 4:
            break
        t = _plain_run(sub)
        b = _plain_run(sub[::-1])
        lft = _plain_run(sub.transpose(1, 0, 2))
        rgt = _plain_run(sub.transpose(1, 0, 2)[::-1])
        hh, ww = sub.shape[:2]
        if hh - t - b < TRIM_MIN_KEEP * h or ww - lft - rgt < TRIM_MIN_KEEP * w:
            break
        left, top, right, bottom = left + lft, top + t, right - rgt, bottom - b
        if (left, top, right, bottom) == before:
            break
    return left, top, right, bottom


def _plain_run(rows: np.ndarray) -> int:
    """How many leading rows are plain (uniform in colour).

    Scans in chunks and stops at the first busy row: most photos have no margin and
    cost one row, not a pass over the whole image.
    """
    n, chunk, start = rows.shape[0], 1, 0
    while start < n:
        block = rows[start:start + chunk]
        # Each row against its own median colour: uniform rows are margin, even where
        # JPEG blends a coloured border into the photo over a pixel or two.
        ref = np.median(block, axis=1)[:, None, :]
        off = np.abs(block - ref).max(axis=2) > TRIM_TOLERANCE
        bad = np.flatnonzero(off.mean(axis=1) > TRIM_MAX_OUTLIERS)
        if bad.size:
            return start + int(bad[0])
        start += chunk
        chunk = min(2 * chunk, 64)
    return n


def trim_margins(im: Image.Image) -> Image.Image:
    """The image with plain borders/padding cut off (a no-op when there are none)."""
    box = trim_box(np.asarray(im))
    if box == (0, 0, im.width, im.height):
        return im
    return im.crop(box)


def load_image(src: Source, max_side: int = 512, trim: bool = False,
               coarse: bool = False) -> Image.Image:
    """Decode `src` (path or bytes) to a normalised RGB image no larger than max_side.

    Normalised: EXIF orientation applied, transparency composited onto white, first
    frame only; with trim=True plain margins are cut off (what fingerprints use).
    coarse=True lets the result be as small as max_side/2, reached the cheapest way (JPEG
    draft, then an integer box reduction, no resampling): what hashes need.
    Raises ImageError (a ValueError) for anything that is not a readable image.
    """
    if max_side < 8:
        raise ValueError("max_side must be at least 8")
    im = _open(_read_source(src), max_side, coarse)[0]
    im = _reduce(im, max_side) if coarse else _shrink(im, max_side)
    return trim_margins(im) if trim else im


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded image (normalised, shrunk to max_side) plus facts about its source."""

    image: Image.Image
    sha256: str  # of the exact input bytes
    width: int  # size as stored in the file (before EXIF rotation and shrinking)
    height: int
    format: str
    nbytes: int


def decode(src: Source, max_side: int = 512) -> Decoded:
    """Read once: the normalised image (untrimmed), SHA-256 of the bytes, stored size, format."""
    data = _read_source(src)
    im, size, fmt = _open(data, max_side)
    return Decoded(_shrink(im, max_side), hashlib.sha256(data).hexdigest(), size[0], size[1],
                   fmt, len(data))


def make_thumbnail(src: Source | Image.Image, max_side: int = 384, quality: int = 88) -> bytes:
    """A small JPEG of the image as shown (not trimmed), enough to re-verify a match later.

    384 px by default: measured in bench/retrieval.py, smaller thumbnails lose the
    local features that crops and collages are verified with.
    """
    im = src if isinstance(src, Image.Image) else load_image(src, max_side=max_side)
    im = _shrink(_to_rgb(im), max_side)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()
