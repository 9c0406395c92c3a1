"""The side-by-side comparison for an evidence pack: both images, matched points, scores.

A reviewer at the platform looks at this picture for a few seconds; lines joining the same
points in both images show at a glance that one is derived from the other. The points are
ORB features (daemon.matching.features) verified with RANSAC, the same kind of check the matcher
makes, recomputed here at display size so the lines land where the reviewer sees them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from daemon.matching.features import features_of_frame, mirror_frame
from daemon.matching.imageio import Source, load_image

FRAME_SIDE = 640
PANEL_HEIGHT = 520
GAP = 24
HEADER = 64
RATIO = 0.75  # Lowe's ratio test
MIN_INLIERS_MIRROR = 25  # below this the mirrored candidate is tried too (a flipped copy)
MAX_LINES = 120  # more lines only hide the pictures
# Fewer verified points than this are what unrelated photos reach by chance: drawing them
# would suggest a match the numbers do not support, so none are drawn.
MIN_DRAWN = 10
COLOURS = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (70, 240, 240), (240, 50, 230), (210, 245, 60)]


@dataclass
class PointMatch:
    """RANSAC-verified matched points: own[i] in the original frame <-> other[i] in theirs."""

    own: np.ndarray
    other: np.ndarray
    candidates: int
    mirrored: bool

    @property
    def inliers(self) -> int:
        return len(self.own)


def _frame(src: Source) -> Image.Image:
    """The whole image (no trimming: the reviewer sees all of it) at FRAME_SIDE."""
    im = load_image(src, max_side=FRAME_SIDE)
    scale = FRAME_SIDE / max(im.size)
    if scale > 1:  # small images are brought up so both get comparable feature counts
        im = im.resize((round(im.width * scale), round(im.height * scale)),
                       Image.Resampling.BICUBIC)
    return im


def _verified(own: Image.Image, other: Image.Image) -> tuple[np.ndarray, np.ndarray, int]:
    fa, fb = features_of_frame(own), features_of_frame(other)
    if len(fa) < 2 or len(fb) < 2:
        return np.zeros((0, 2)), np.zeros((0, 2)), 0
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(fb.descriptors, fa.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < 3:
        return np.zeros((0, 2)), np.zeros((0, 2)), len(good)
    pb = np.float32([fb.points[m.queryIdx] for m in good])
    pa = np.float32([fa.points[m.trainIdx] for m in good])
    # Similarity transform (scale, rotation, shift): what crops, resizes and tilts do.
    _, mask = cv2.estimateAffinePartial2D(pb, pa, method=cv2.RANSAC,
                                          ransacReprojThreshold=8.0, maxIters=4000,
                                          confidence=0.995)
    if mask is None:
        return np.zeros((0, 2)), np.zeros((0, 2)), len(good)
    keep = mask.ravel().astype(bool)
    return pa[keep], pb[keep], len(good)


def match_points(own: Image.Image, other: Image.Image) -> PointMatch:
    """Matched points between the two frames; a flipped copy is matched mirrored."""
    pa, pb, n = _verified(own, other)
    result = PointMatch(pa, pb, n, mirrored=False)
    if result.inliers < MIN_INLIERS_MIRROR:
        ma, mb, mn = _verified(own, mirror_frame(other))
        if len(ma) > result.inliers:
            mb = mb.copy()
            mb[:, 0] = other.width - 1 - mb[:, 0]  # back to the unflipped image's coordinates
            result = PointMatch(ma, mb, mn, mirrored=True)
    return result


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, TypeError):  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def side_by_side(own_src: Source, other_src: Source, lines: list[str]) -> tuple[bytes, dict]:
    """A JPEG of the original (left) and the other store's image (right), the matched points
    joined by lines, and `lines` of text on top (ASCII: the report carries the Chinese).

    Returns (jpeg bytes, {"inliers", "candidates", "mirrored"}).
    """
    own, other = _frame(own_src), _frame(other_src)
    found = match_points(own, other)
    sa, sb = PANEL_HEIGHT / own.height, PANEL_HEIGHT / other.height
    wa, wb = round(own.width * sa), round(other.width * sb)
    canvas = Image.new("RGB", (wa + GAP + wb, HEADER + PANEL_HEIGHT), "white")
    canvas.paste(own.resize((wa, PANEL_HEIGHT), Image.Resampling.LANCZOS), (0, HEADER))
    canvas.paste(other.resize((wb, PANEL_HEIGHT), Image.Resampling.LANCZOS), (wa + GAP, HEADER))
    draw = ImageDraw.Draw(canvas)
    step = max(1, found.inliers // MAX_LINES)  # an even sample across all the inliers
    for i in range(0, found.inliers if found.inliers >= MIN_DRAWN else 0, step):
        (xa, ya), (xb, yb) = found.own[i], found.other[i]
        a = (xa * sa, HEADER + ya * sa)
        b = (wa + GAP + xb * sb, HEADER + yb * sb)
        colour = COLOURS[(i // step) % len(COLOURS)]
        draw.line([a, b], fill=colour, width=1)
        for x, y in (a, b):
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], outline=colour, width=2)
    font = _font(15)
    for row, text in enumerate(lines[:3]):
        draw.text((8, 6 + row * 19), text, fill=(20, 20, 20), font=font)
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=90, optimize=True)
    return out.getvalue(), {"inliers": found.inliers, "candidates": found.candidates,
                            "mirrored": found.mirrored}
