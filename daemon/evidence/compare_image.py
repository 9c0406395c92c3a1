"""The side-by-side comparison for an evidence pack: both images, matched points, scores.

A reviewer at the platform looks at this picture for a few seconds; lines joining the same
points in both images show at a glance that one is derived from the other. The points are
the matcher's own: its analysis of both images, its feature matching and its seeded RANSAC
(daemon.matching.compare.best_geometry), drawn on the frames it compares (plain margins
trimmed), so the picture always shows the match that raised the alert.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from daemon.matching.compare import analyse, best_geometry
from daemon.matching.features import FEATURE_SIDE, feature_frame
from daemon.matching.imageio import Source, decode

PANEL_HEIGHT = 520
GAP = 24
HEADER = 64
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


def _frames(own_src: Source, other_src: Source) -> tuple[Image.Image, Image.Image, PointMatch]:
    """Both images in the matcher's feature frames, and the points the matcher verified.

    The matcher's own analysis, feature matching and seeded RANSAC (compare.best_geometry)
    run here on the same frames, so the picture shows the match that raised the alert, not
    a second opinion that could disagree with it.
    """
    own = feature_frame(decode(own_src, max_side=FEATURE_SIDE).image)
    other = feature_frame(decode(other_src, max_side=FEATURE_SIDE).image)
    a = analyse(own, mirror=False)
    b = analyse(other, mirror=True, product=False)
    mirrored, _fa, _fb, geo = best_geometry(a, b)
    pa = np.asarray(geo.points_a, dtype=np.float32)
    pb = np.asarray(geo.points_b, dtype=np.float32).copy()
    if mirrored and len(pb):
        pb[:, 0] = other.width - 1 - pb[:, 0]  # back to the unflipped frame's coordinates
    return own, other, PointMatch(pa, pb, geo.matches, mirrored)


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
    own, other, found = _frames(own_src, other_src)
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
