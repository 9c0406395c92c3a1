"""The edits copiers make, in tiers A-E, generated at run time (shared by benches and tests).

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
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

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


# -- tier E: marketplace make-overs (issue 17) --------------------------------------


def cutout_mask(im: Img) -> np.ndarray:
    """A background-removal-service style alpha (0..1, float32) of the product.

    GrabCut from a rectangle 4% inside the frame at ~400 px, the largest component kept,
    holes filled, the edge feathered by a pixel or two: what a copier's one-click
    background remover gives. A mask that fails (under 3% of the frame) keeps the frame.
    """
    scale = 400 / max(im.size)
    small = im.resize((max(8, round(im.width * scale)), max(8, round(im.height * scale))),
                      Image.Resampling.BILINEAR) if scale < 1 else im
    arr = cv2.cvtColor(np.asarray(small), cv2.COLOR_RGB2BGR)
    h, w = arr.shape[:2]
    mx, my = max(1, round(w * 0.04)), max(1, round(h * 0.04))
    mask = np.zeros((h, w), np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(7)
    cv2.grabCut(arr, mask, (mx, my, w - 2 * mx, h - 2 * my), bgd, fgd, 4,
                cv2.GC_INIT_WITH_RECT)
    fg = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if n > 1:
        big = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        fg = (lab == big).astype(np.uint8)
    # fill holes: background not connected to the frame's border is product
    flood = np.pad(1 - fg, 1, constant_values=1)
    cv2.floodFill(flood, None, (0, 0), 2)
    fg = np.where(flood[1:-1, 1:-1] == 2, 0, 1).astype(np.uint8)
    if fg.mean() < 0.03:
        fg[:] = 1
    alpha = cv2.resize(fg.astype(np.float32), im.size, interpolation=cv2.INTER_LINEAR)
    return cv2.GaussianBlur(alpha, (0, 0), 1.2)


def _cutout(im: Img) -> tuple[Img, np.ndarray]:
    """The product's bounding box and its alpha (float32 0..1), cropped to that box."""
    alpha = cutout_mask(im)
    ys, xs = np.nonzero(alpha > 0.5)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    return im.crop((x0, y0, x1, y1)), alpha[y0:y1, x0:x1]


def _composite(base: np.ndarray, obj: Img, alpha: np.ndarray, x: int, y: int) -> None:
    """Alpha-blend obj (with its alpha) into base (float32 HxWx3) at (x, y), in place."""
    h, w = alpha.shape
    a = alpha[..., None]
    region = base[y:y + h, x:x + w]
    region[:] = region * (1 - a) + np.asarray(obj, np.float32) * a


def cutout_white(im: Img, rng: random.Random, others: Sequence[Img] = ()) -> Img:
    """The product cut out and centred on pure white, 800x800, 4-8% margin."""
    obj, alpha = _cutout(im)
    margin = rng.uniform(0.04, 0.08)
    s = 800 * (1 - 2 * margin) / max(obj.size)
    size = (max(1, round(obj.width * s)), max(1, round(obj.height * s)))
    obj = obj.resize(size, Image.Resampling.LANCZOS)
    alpha = np.clip(cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR), 0, 1)
    base = np.full((800, 800, 3), 255, np.float32)
    _composite(base, obj, alpha, (800 - size[0]) // 2, (800 - size[1]) // 2)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))


def cutout_scene(im: Img, rng: random.Random, others: Sequence[Img]) -> Img:
    """The cut-out at 70% of its size on another photo's backdrop, off-centre, soft shadow."""
    obj, alpha = _cutout(im)
    scene = (list(others) or [im.transpose(Image.Transpose.ROTATE_180)])[0]
    scene = ImageOps.fit(scene, im.size).filter(ImageFilter.GaussianBlur(2))
    size = (max(1, round(obj.width * 0.7)), max(1, round(obj.height * 0.7)))
    obj = obj.resize(size, Image.Resampling.LANCZOS)
    alpha = np.clip(cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR), 0, 1)
    w, h = im.size
    x = rng.randint(0, max(0, w - size[0]))
    y = rng.randint(0, max(0, h - size[1]))
    base = np.asarray(scene, np.float32).copy()
    # soft shadow: the alpha blurred, offset down-right, darkening the scene by up to 45%
    shadow = np.zeros((h, w), np.float32)
    off = max(2, round(0.02 * max(w, h)))
    sx, sy = min(w - size[0], x + off), min(h - size[1], y + off)
    shadow[sy:sy + size[1], sx:sx + size[0]] = alpha
    shadow = cv2.GaussianBlur(shadow, (0, 0), max(2.0, 0.015 * max(w, h)))
    base *= (1 - 0.45 * shadow)[..., None]
    _composite(base, obj, alpha, x, y)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))


def infographic(im: Img, rng: random.Random, others: Sequence[Img] = ()) -> Img:
    """3-4 opaque callout boxes with arrows (about 40% of the frame with the title band)."""
    w, h = im.size
    band = round(h * rng.uniform(0.10, 0.13))
    out = Image.new("RGB", (w, h), (255, 255, 255))
    out.paste(im)
    d = ImageDraw.Draw(out)
    accent = rng.choice([(20, 90, 200), (230, 90, 20), (30, 150, 80), (40, 40, 40)])
    d.rectangle((0, 0, w, band), fill=accent)
    d.text((w * 0.04, band * 0.2), rng.choice(["PREMIUM QUALITY", "WHY CHOOSE US",
                                              "KEY FEATURES"]),
           font=_font(int(band * 0.55)), fill=(255, 255, 255))
    # boxes in the four corners of the rest of the frame (3 or 4 of them), about 7% each
    slots = [(0, 0), (1, 0), (0, 1), (1, 1)]
    rng.shuffle(slots)
    for sx, sy in slots[:rng.choice([3, 4])]:
        bw, bh = round(w * rng.uniform(0.30, 0.36)), round(h * rng.uniform(0.18, 0.22))
        x = round(w * 0.03) if sx == 0 else w - bw - round(w * 0.03)
        y = band + round(h * 0.04) if sy == 0 else h - bh - round(h * 0.04)
        d.rounded_rectangle((x, y, x + bw, y + bh), radius=max(2, bh // 8),
                            fill=(250, 250, 250), outline=accent, width=max(2, w // 200))
        size = max(9, bh // 5)
        d.text((x + bw * 0.08, y + bh * 0.15), rng.choice(["Soft fabric", "Durable",
                                                           "Easy care", "Perfect fit",
                                                           "2-year warranty"]),
               font=_font(size), fill=accent)
        d.text((x + bw * 0.08, y + bh * 0.55), "High quality design", font=_font(size * 3 // 4),
               fill=(60, 60, 60))
        # arrow from the box towards the centre of the product
        ax, ay = x + bw / 2, (y + bh if sy == 0 else y)
        tx, ty = w / 2 + rng.uniform(-0.1, 0.1) * w, h / 2 + rng.uniform(-0.1, 0.1) * h
        d.line((ax, ay, tx, ty), fill=accent, width=max(2, w // 150))
        d.ellipse((tx - w * 0.012, ty - w * 0.012, tx + w * 0.012, ty + w * 0.012), fill=accent)
    return out


def upscale_sharpen(im: Img, rng: random.Random, others: Sequence[Img] = ()) -> Img:
    """2x upscale, strong unsharp mask, saturation boost."""
    big = im.resize((im.width * 2, im.height * 2), Image.Resampling.BICUBIC)
    big = big.filter(ImageFilter.UnsharpMask(radius=3, percent=220, threshold=2))
    return ImageEnhance.Color(big).enhance(1.45)


def pad_badges(im: Img, rng: random.Random, others: Sequence[Img] = ()) -> Img:
    """Padded to a square with brand-colour bars, a NEW/HOT badge and a price strip."""
    side = max(im.size)
    brand = rng.choice([(230, 30, 60), (20, 110, 220), (250, 170, 0), (20, 20, 20)])
    out = Image.new("RGB", (side, side), brand)
    d = ImageDraw.Draw(out)
    # two-tone bars: a lighter stripe inside each padded side
    light = tuple(min(255, c + 90) for c in brand)
    if im.width < side:
        pad = (side - im.width) // 2
        d.rectangle((pad // 3, 0, pad - pad // 3, side), fill=light)
        d.rectangle((side - pad + pad // 3, 0, side - pad // 3, side), fill=light)
    else:
        pad = (side - im.height) // 2
        d.rectangle((0, pad // 3, side, pad - pad // 3), fill=light)
        d.rectangle((0, side - pad + pad // 3, side, side - pad // 3), fill=light)
    out.paste(im, ((side - im.width) // 2, (side - im.height) // 2))
    r = round(side * rng.uniform(0.08, 0.1))
    cx = r + side // 30 if rng.random() < 0.5 else side - r - side // 30
    cy = r + side // 30
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(235, 20, 30), outline=(255, 255, 255),
              width=max(2, r // 10))
    d.text((cx - r * 0.62, cy - r * 0.38), rng.choice(["NEW", "HOT"]), font=_font(int(r * 0.7)),
           fill=(255, 255, 255))
    sh = round(side * rng.uniform(0.09, 0.12))
    d.rectangle((0, side - sh, side, side), fill=brand)
    d.text((side * 0.05, side - sh * 0.85), f"ONLY ${rng.randint(5, 99)}.99",
           font=_font(int(sh * 0.6)), fill=(255, 255, 255))
    return out


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
    Edit("cutout_white", "E", cutout_white),
    Edit("cutout_white_mirrored", "E", chain(cutout_white, flip)),
    Edit("cutout_70_scene_shadow", "E", cutout_scene),
    Edit("infographic_callouts", "E", infographic),
    Edit("upscale2x_sharpen_saturate", "E", upscale_sharpen),
    Edit("pad_bars_badge_price", "E", pad_badges),
)
TIERS = ("A", "B", "C", "D", "E")


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
