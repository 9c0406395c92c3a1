"""The appearance check of a RANSAC match: do b's colours follow a's over the overlap?

Split from daemon.matching.features (which finds the geometry); daemon.matching.compare
and daemon.matching.verify judge a match with these. Thresholds: docs/MATCHING.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from daemon.matching.features import Features, GeoMatch
from daemon.matching.fingerprint import Fingerprint


@dataclass(frozen=True, slots=True)
class Appearance:
    """How well b's colours follow a's over the region where they overlap.

    The copy edits in scope change colour globally (brightness, contrast, saturation,
    greyscale): b ~ luma_gain * grey(a) + chroma_gain * (a - grey(a)) + offset. A colour
    variant or a different garment on the same backdrop breaks that model over part of
    the region: `bad_share` is the share of overlapping cells it does not explain.
    """

    bad_share: float
    luma_gain: float
    chroma_gain: float
    overlap: float  # share of a's frame that lands inside b
    cells: int
    residuals: tuple[float, ...] = ()  # 50th, 75th, 90th percentile of per-cell misfit
    coef: tuple[float, float, float] = (0.0, 0.0, 0.0)
    inlier_residuals: tuple[float, ...] = ()  # same, at the matched keypoints only

    def to_details(self) -> dict[str, Any]:
        return {"bad_share": round(self.bad_share, 3), "luma_gain": round(self.luma_gain, 3),
                "chroma_gain": round(self.chroma_gain, 3), "overlap": round(self.overlap, 3),
                "residuals": [round(r, 1) for r in self.residuals],
                "inlier_residuals": [round(r, 1) for r in self.inlier_residuals]}


NO_APPEARANCE = Appearance(1.0, 0.0, 0.0, 0.0, 0)
# A cell is "bad" when the fitted colour model misses it by more than this (0-255 scale).
BAD_CELL_RESIDUAL = 40.0
CLIPPED = 250
MIN_CELLS = 24


def colour_fit(ca: np.ndarray, cb: np.ndarray, min_cells: int = MIN_CELLS) -> Appearance:
    """Robust least-squares fit of the global colour model from cells ca -> cb (n, 3)."""
    n = len(ca)
    if n < min_cells:
        return NO_APPEARANCE
    grey = ca @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    chroma = ca - grey[:, None]
    # rows: one per (cell, channel); unknowns: luma gain, chroma gain, offset
    x = np.stack([np.repeat(grey, 3), chroma.ravel(), np.ones(3 * n, np.float32)], axis=1)
    y = cb.ravel()
    # Brightening clips highlights at 255: a clipped sample says nothing about the gain,
    # and a prediction above 255 that reads 255 is no misfit.
    unclipped = cb.max(axis=1) < CLIPPED
    keep = unclipped if unclipped.sum() >= min_cells else np.ones(n, dtype=bool)
    coef = np.zeros(3)
    for _ in range(3):
        rows = np.repeat(keep, 3)
        # Three unknowns: the normal equations are as exact here and several times
        # cheaper than lstsq (compare() runs up to three fits per candidate).
        xr = x[rows]
        try:
            coef = np.linalg.solve(xr.T @ xr, xr.T @ y[rows])
        except np.linalg.LinAlgError:  # one grey level only: no gain can be told apart
            coef, *_ = np.linalg.lstsq(xr, y[rows], rcond=None)
        resid = np.abs(np.clip(x @ coef, 0, 255) - y).reshape(n, 3).max(axis=1)
        # Refit on the cells the model explains best: stickers, logos and banners are
        # outliers, not evidence about the global colour change.
        keep = resid <= max(np.percentile(resid, 60), 1.0)
    bad = float((resid > BAD_CELL_RESIDUAL).mean())
    q = tuple(float(v) for v in np.percentile(resid, [50, 75, 90]))
    return Appearance(bad, float(coef[0]), float(coef[1]), 1.0, n, q,
                      (float(coef[0]), float(coef[1]), float(coef[2])))


def _sample(thumb: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples of an (T, T, 3) thumbnail at fractional cell coords."""
    t = thumb.shape[0]
    x = np.clip(x, 0, t - 1.001)
    y = np.clip(y, 0, t - 1.001)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    th = thumb.astype(np.float32)
    top = th[y0, x0] * (1 - fx) + th[y0, x0 + 1] * fx
    bot = th[y0 + 1, x0] * (1 - fx) + th[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bot * fy


def _cell_centres(f: Features) -> tuple[np.ndarray, np.ndarray]:
    t = f.thumb.shape[0]
    jj, ii = np.meshgrid(np.arange(t), np.arange(t))
    return (jj.ravel() + 0.5) * f.width / t, (ii.ravel() + 0.5) * f.height / t


def _warp(m: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return m[0, 0] * x + m[0, 1] * y + m[0, 2], m[1, 0] * x + m[1, 1] * y + m[1, 2]


def _cell_pairs(src: Features, dst: Features, m: np.ndarray, dst_thumb: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """src's thumbnail cells inside dst (through m), and dst's colour sampled there."""
    t = dst_thumb.shape[0]
    xs, ys = _cell_centres(src)
    xd, yd = _warp(m, xs, ys)
    inside = (xd >= 0) & (xd < dst.width) & (yd >= 0) & (yd < dst.height)
    cs = src.thumb.reshape(-1, 3)[inside].astype(np.float32)
    cd = _sample(dst_thumb, xd[inside] * t / dst.width - 0.5, yd[inside] * t / dst.height - 0.5)
    return cs, cd


def _box_blur(thumb: np.ndarray, rx: float, ry: float) -> np.ndarray:
    """Blur a thumbnail as if its cells were averaged over rx x ry cells (Gaussian stand-in
    for a box: sigma^2 = (r^2 - 1) / 12)."""
    sx, sy = (float(np.sqrt(max(r * r - 1.0, 0.0) / 12.0)) for r in (rx, ry))
    if max(sx, sy) < 0.2:
        return thumb
    return cv2.GaussianBlur(thumb, (0, 0), sigmaX=max(min(sx, 4.0), 0.01),
                            sigmaY=max(min(sy, 4.0), 0.01))


def appearance(fa: Features, fb: Features, geo: GeoMatch) -> Appearance:
    """Colour agreement of a and b over the overlap given by the RANSAC transform."""
    m = geo.transform
    if m is None:
        return NO_APPEARANCE
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2])))) or 1e-6
    # Cells of a's thumb cover wa/t a-pixels = scale*wa/t b-pixels; b's cells cover wb/t.
    # Compare on the grid of the coarser side (a collage tile or a screenshot shows the
    # photo small: b's cells then span several of a's) and blur the finer to match.
    # Thumbnails squash each frame to t x t, so cells are not square: x and y apart.
    rx = fb.width / (scale * fa.width)
    ry = fb.height / (scale * fa.height)
    if rx * ry > 1:
        inv = cv2.invertAffineTransform(m)
        cb, ca = _cell_pairs(fb, fa, inv, _box_blur(fa.thumb, rx, ry))
    else:
        ca, cb = _cell_pairs(fa, fb, m, _box_blur(fb.thumb, 1 / rx, 1 / ry))
    xa, ya = _cell_centres(fa)
    xb, yb = _warp(m, xa, ya)
    overlap = float(((xb >= 0) & (xb < fb.width) & (yb >= 0) & (yb < fb.height)).mean())
    fit = colour_fit(ca, cb)
    inl = keypoint_residuals(fa, fb, geo)
    return Appearance(fit.bad_share, fit.luma_gain, fit.chroma_gain, overlap,
                      fit.cells, fit.residuals, fit.coef, inl)


def keypoint_residuals(fa: Features, fb: Features, geo: GeoMatch) -> tuple[float, ...]:
    """Colour misfit at the matched keypoints themselves (each at its own scale), () under 8.

    A recoloured product keeps its outline and buttons (inliers) but not their colour.
    """
    if len(geo.index_a) < 8:
        return ()
    sa = fa.colours[geo.index_a].astype(np.float32)
    sb = fb.colours[geo.index_b].astype(np.float32)
    return colour_fit(sa, sb, min_cells=8).residuals


def coverage(fa: Features, fb: Features, geo: GeoMatch, cells: int = 6) -> float:
    """Share of a's keypoint-bearing grid cells (inside the overlap) that hold an inlier.

    The same photo keeps inliers all over the shared region; a different garment on
    the same backdrop only matches on the backdrop.
    """
    m = geo.transform
    if m is None or not len(fa):
        return 0.0
    pts = fa.points
    xb = m[0, 0] * pts[:, 0] + m[0, 1] * pts[:, 1] + m[0, 2]
    yb = m[1, 0] * pts[:, 0] + m[1, 1] * pts[:, 1] + m[1, 2]
    w, h = fa.width, fa.height

    def cell_ids(p: np.ndarray) -> set[int]:
        cx = np.minimum((p[:, 0] * cells / w).astype(int), cells - 1)
        cy = np.minimum((p[:, 1] * cells / h).astype(int), cells - 1)
        return set((cy * cells + cx).tolist())

    inside = (xb >= 0) & (xb < fb.width) & (yb >= 0) & (yb < fb.height)
    bearing = cell_ids(pts[inside])
    return len(cell_ids(geo.points_a) & bearing) / max(1, len(bearing))


def grid_appearance(a: Fingerprint, b: Fingerprint, mirrored: bool) -> Appearance:
    """Colour agreement of two fingerprints' colour grids, frame to frame (hash layer)."""
    ga = a.grid_array(mirror=mirrored).reshape(-1, 3).astype(np.float32)
    gb = b.grid_array().reshape(-1, 3).astype(np.float32)
    return colour_fit(ga, gb)
