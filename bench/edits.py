"""The edits copiers make, in tiers A-D, generated at run time (shared by benches and tests).

Every edit takes the original RGB image, a seeded random.Random and a few other
photos (for collages and listing screenshots) and returns the encoded bytes a
competitor would publish: JPEG q90 unless the edit itself is a re-encode.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

Img = Image.Image
EditFn = Callable[[Img, random.Random, Sequence[Img]], "Img | bytes"]


@dataclass(frozen=True)
class Edit:
    name: str
    tier: str
    fn: EditFn


def encode(im: Img, fmt: str = "JPEG", quality: int = 90) -> bytes:
    out = io.BytesIO()
    im.convert("RGB").save(out, fmt, quality=quality)
    return out.getvalue()


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=max(8, size))


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


# -- tier A: global edits --------------------------------------------------------


def jpeg(q: int) -> EditFn:
    return lambda im, rng, others: encode(im, "JPEG", q)


def resize(f: float) -> EditFn:
    def fn(im: Img, rng: random.Random, others: Sequence[Img]) -> Img:
        return im.resize((max(8, round(im.width * f)), max(8, round(im.height * f))),
                         Image.Resampling.LANCZOS)
    return fn


def enhance(kind: str, factor: float) -> EditFn:
    cls = {"brightness": ImageEnhance.Brightness, "contrast": ImageEnhance.Contrast,
           "saturation": ImageEnhance.Color}[kind]
    return lambda im, rng, others: cls(im).enhance(factor)


def watermark(im: Img, rng: random.Random, others: Sequence[Img] = ()) -> Img:
    """A semi-transparent shop name written diagonally across the middle."""
    layer = Image.new("RGBA", im.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    size = max(12, im.width // 9)
    text = rng.choice(["BEST SHOP", "TopStore 88", "SuperDeal", "FashionMall"])
    for k in range(3):
        y = im.height * (0.25 + 0.25 * k) - size / 2
        d.text((im.width * 0.08, y), text, font=_font(size), fill=(255, 255, 255, 140),
               stroke_width=max(1, size // 15), stroke_fill=(0, 0, 0, 110))
    layer = layer.rotate(rng.uniform(-25, 25), resample=Image.Resampling.BILINEAR)
    return Image.alpha_composite(im.convert("RGBA"), layer).convert("RGB")


def logo(im: Img, rng: random.Random, others: Sequence[Img] = ()) -> Img:
    """An opaque shop logo (coloured disc and letters) in one corner, 15-20% of the width."""
    out = im.copy()
    s = int(im.width * rng.uniform(0.15, 0.2))
    m = max(2, im.width // 40)
    x = m if rng.random() < 0.5 else im.width - s - m
    y = m if rng.random() < 0.5 else im.height - s - m
    d = ImageDraw.Draw(out)
    d.ellipse((x, y, x + s, y + s), fill=_colour(rng), outline=(255, 255, 255),
              width=max(1, s // 20))
    d.text((x + s * 0.18, y + s * 0.28), "TS", font=_font(int(s * 0.45)), fill=(255, 255, 255))
    return out


def sticker(im: Img, rng: random.Random, others: Sequence[Img] = ()) -> Img:
    """A red price sticker (about 25% of the width) near a corner."""
    out = im.copy()
    w, h = int(im.width * 0.26), int(im.width * 0.13)
    x = rng.choice([int(im.width * 0.03), im.width - w - int(im.width * 0.03)])
    y = rng.choice([int(im.height * 0.03), im.height - h - int(im.height * 0.03)])
    d = ImageDraw.Draw(out)
    d.rounded_rectangle((x, y, x + w, y + h), radius=h // 4, fill=(220, 20, 40))
    d.text((x + w * 0.08, y + h * 0.15), f"${rng.randint(3, 49)}.99", font=_font(int(h * 0.6)),
           fill=(255, 255, 0))
    return out


# -- tier B: geometry ------------------------------------------------------------


def border(frac: float) -> EditFn:
    def fn(im: Img, rng: random.Random, others: Sequence[Img]) -> Img:
        b = max(1, round(max(im.size) * frac))
        return ImageOps.expand(im, border=b, fill=_colour(rng))
    return fn


def pad_square(im: Img, rng: random.Random, others: Sequence[Img] = ()) -> Img:
    side = max(im.size)
    fill = rng.choice([(255, 255, 255), (0, 0, 0), _colour(rng)])
    out = Image.new("RGB", (side, side), fill)
    out.paste(im, ((side - im.width) // 2, (side - im.height) // 2))
    return out


def crop(lo: float, hi: float, centred: bool) -> EditFn:
    """Cut lo..hi of the width/height from each side (the same on all sides when centred)."""
    def fn(im: Img, rng: random.Random, others: Sequence[Img]) -> Img:
        if centred:
            f = rng.uniform(lo, hi)
            fl = ft = fr = fb = f
        else:
            fl, ft, fr, fb = (rng.uniform(0, hi) for _ in range(4))
            # off-centre: one side of each pair at least `lo`
            if rng.random() < 0.5:
                fl = max(fl, lo)
            else:
                fr = max(fr, lo)
            if rng.random() < 0.5:
                ft = max(ft, lo)
            else:
                fb = max(fb, lo)
        w, h = im.size
        return im.crop((round(w * fl), round(h * ft), round(w * (1 - fr)), round(h * (1 - fb))))
    return fn


def rotate(im: Img, rng: random.Random, others: Sequence[Img] = ()) -> Img:
    a = rng.uniform(2.0, 5.0) * rng.choice([-1, 1])
    return im.rotate(a, resample=Image.Resampling.BICUBIC, fillcolor=(255, 255, 255))


def flip(im: Img, rng: random.Random, others: Sequence[Img] = ()) -> Img:
    return im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


# -- tier D: what listing copiers do ----------------------------------------------


def collage(im: Img, rng: random.Random, others: Sequence[Img]) -> Img:
    """The photo as one tile of a 2x2 collage the size of the original."""
    w, h = im.width // 2, im.height // 2
    out = Image.new("RGB", (2 * w, 2 * h), (255, 255, 255))
    slot = rng.randrange(4)
    pool = list(others) or [im]
    for k in range(4):
        tile = im if k == slot else pool[k % len(pool)]
        out.paste(ImageOps.fit(tile, (w - 4, h - 4)), ((k % 2) * w + 2, (k // 2) * h + 2))
    return out


def banner(im: Img, rng: random.Random, others: Sequence[Img] = ()) -> Img:
    """A promotional banner covering a quarter of the image (top or bottom band)."""
    out = im.copy()
    d = ImageDraw.Draw(out)
    bh = im.height // 4
    y = 0 if rng.random() < 0.5 else im.height - bh
    d.rectangle((0, y, im.width, y + bh), fill=_colour(rng))
    size = max(10, bh // 3)
    text = rng.choice(["HOT SALE -50%", "NEW 2024", "FREE SHIPPING"])
    d.text((im.width * 0.05, y + bh * 0.2), text, font=_font(size), fill=(255, 255, 255),
           stroke_width=1, stroke_fill=(0, 0, 0))
    return out


def half_crop(im: Img, rng: random.Random, others: Sequence[Img] = ()) -> Img:
    """An off-centre crop keeping half the area (71% of each side) at a random place."""
    k = math.sqrt(0.5)
    w, h = im.size
    cw, ch = round(w * k), round(h * k)
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    return im.crop((x, y, x + cw, y + ch))


def tilt(im: Img, rng: random.Random, others: Sequence[Img] = ()) -> Img:
    """A slight perspective tilt: corners moved by up to 6% of the size."""
    w, h = im.size
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    j = [(rng.uniform(0, 0.06) * w, rng.uniform(0, 0.06) * h) for _ in range(4)]
    dst = np.float32([[j[0][0], j[0][1]], [w - j[1][0], j[1][1]],
                      [w - j[2][0], h - j[2][1]], [j[3][0], h - j[3][1]]])
    m = cv2.getPerspectiveTransform(src, dst)
    arr = cv2.warpPerspective(np.asarray(im), m, (w, h), flags=cv2.INTER_LINEAR,
                              borderValue=(255, 255, 255))
    return Image.fromarray(arr)


def screenshot(im: Img, rng: random.Random, others: Sequence[Img]) -> Img:
    """The photo inside a screenshot of a listing page (1280x800, gallery at ~480 px)."""
    page = Image.new("RGB", (1280, 800), (245, 245, 245))
    d = ImageDraw.Draw(page)
    d.rectangle((0, 0, 1280, 60), fill=(230, 40, 30))
    d.text((30, 15), "AliExpress", font=_font(28), fill=(255, 255, 255))
    side = 480
    photo = im.copy()
    photo.thumbnail((side, side), Image.Resampling.LANCZOS)
    x0, y0 = 120, 90
    page.paste(photo, (x0 + (side - photo.width) // 2, y0 + (side - photo.height) // 2))
    for k, o in enumerate([im, *others][:5]):
        t = ImageOps.fit(o, (64, 64))
        page.paste(t, (30, 90 + k * 74))
    d.text((660, 100), "2024 New Women Fashion Casual Item", font=_font(24), fill=(20, 20, 20))
    d.text((660, 150), f"US ${rng.randint(5, 40)}.{rng.randint(10, 99)}", font=_font(36),
           fill=(230, 40, 30))
    for k in range(6):
        right = 660 + rng.randint(200, 560)
        d.rectangle((660, 220 + 40 * k, right, 240 + 40 * k), fill=(210, 210, 210))
    return page


def chain(*fns: EditFn, quality: int | None = None) -> EditFn:
    """Apply edits in turn; an optional final JPEG quality."""
    def fn(im: Img, rng: random.Random, others: Sequence[Img]) -> Img | bytes:
        out: Img | bytes = im
        for f in fns:
            if isinstance(out, bytes):
                out = Image.open(io.BytesIO(out)).convert("RGB")
            out = f(out, rng, others)
        if quality is not None:
            pic = out if isinstance(out, Img) else Image.open(io.BytesIO(out))
            out = encode(pic, "JPEG", quality)
        return out
    return fn


EDITS: tuple[Edit, ...] = (
    Edit("jpeg_q30", "A", jpeg(30)),
    Edit("jpeg_q50", "A", jpeg(50)),
    Edit("jpeg_q90", "A", jpeg(90)),
    Edit("webp", "A", lambda im, rng, o: encode(im, "WEBP", 75)),
    Edit("avif", "A", lambda im, rng, o: encode(im, "AVIF", 60)),
    Edit("resize_50", "A", resize(0.5)),
    Edit("resize_25", "A", resize(0.25)),
    Edit("greyscale", "A", lambda im, rng, o: im.convert("L").convert("RGB")),
    Edit("brightness+25", "A", enhance("brightness", 1.25)),
    Edit("brightness-25", "A", enhance("brightness", 0.75)),
    Edit("contrast+25", "A", enhance("contrast", 1.25)),
    Edit("contrast-25", "A", enhance("contrast", 0.75)),
    Edit("saturation+25", "A", enhance("saturation", 1.25)),
    Edit("saturation-25", "A", enhance("saturation", 0.75)),
    Edit("watermark", "A", watermark),
    Edit("logo", "A", logo),
    Edit("sticker", "A", sticker),
    Edit("border_5", "B", border(0.05)),
    Edit("pad_square", "B", pad_square),
    Edit("crop_10_centred", "B", crop(0.10, 0.10, True)),
    Edit("crop_10_offcentre", "B", crop(0.05, 0.10, False)),
    Edit("rotate_5", "B", rotate),
    Edit("flip", "B", flip),
    Edit("flip_jpeg50", "B", chain(flip, quality=50)),
    Edit("crop_15_20_centred", "C", crop(0.15, 0.20, True)),
    Edit("crop_15_20_offcentre", "C", crop(0.15, 0.20, False)),
    Edit("crop_watermark_jpeg50", "C", chain(crop(0.05, 0.10, False), watermark, quality=50)),
    Edit("flip_border_webp", "C", chain(flip, border(0.05),
                                        lambda im, rng, o: encode(im, "WEBP", 70))),
    Edit("resize50_logo_crop", "C", chain(resize(0.5), logo, crop(0.05, 0.10, False))),
    Edit("rotate_saturation_jpeg40", "C", chain(rotate, enhance("saturation", 1.25), quality=40)),
    Edit("collage_2x2", "D", collage),
    Edit("banner_quarter", "D", banner),
    Edit("half_area_crop", "D", half_crop),
    Edit("perspective_tilt", "D", tilt),
    Edit("listing_screenshot", "D", screenshot),
    Edit("flip_crop_watermark_jpeg40", "D", chain(flip, crop(0.05, 0.10, False), watermark,
                                                  quality=40)),
)
TIERS = ("A", "B", "C", "D")


def apply(edit: Edit, im: Img, seed: int, others: Sequence[Img] = ()) -> bytes:
    """The edited copy as encoded bytes, deterministic for (edit, image, seed)."""
    rng = random.Random(f"{edit.name}:{seed}")
    out = edit.fn(im.convert("RGB"), rng, others)
    return out if isinstance(out, bytes) else encode(out, "JPEG", 90)


def by_name(name: str) -> Edit:
    for e in EDITS:
        if e.name == name:
            return e
    raise KeyError(name)
