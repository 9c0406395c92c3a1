"""Dense verification of a RANSAC match over the product: does the product itself agree?

After the geometry is found (daemon.matching.features.match_features), the catalog
original's thumbnail cells are mapped into the candidate and judged one by one, but
only where the original's product mask (daemon.matching.foreground) says product:

- a backdrop replaced by white or by another scene is not evidence against a copy
  (backdrop cells are not judged);
- cells the candidate covers with flat overlays (callout boxes, bands, badges) where
  the original has content are occlusion, not disagreement;
- when the backdrop itself survived and follows one colour model, the product must
  follow that same model: a colour variant rendered on the same backdrop, or another
  garment shot on the same carpet, does not;
- a share of the RANSAC inliers must lie on the product (inliers on the backdrop only
  are a shared backdrop, not a copied photo);
- the inliers move as one picture (part_motion): halves that moved apart are the scene
  re-shot, whatever the colours say.

Thresholds and the figures behind them: docs/MATCHING.md ("The product region").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from daemon.matching.appearance import (
    BAD_CELL_RESIDUAL,
    _box_blur,
    _cell_centres,
    _sample,
    _warp,
    colour_fit,
)
from daemon.matching.features import Features, GeoMatch

# Mask value (0-255 share of the cell) for a cell to count as product core / backdrop.
CORE = 200
BACKDROP = 40
# A keypoint counts as on the product when its mask cell is at least this much product
# (outline keypoints sit on cells shared with the backdrop).
ON_PRODUCT = 64
# A candidate's cell is flat (a painted box, a band, white) when its 3x3 neighbourhood
# spans less than this (0-255, largest channel).
FLAT_RANGE = 24.0
# The backdrop's own colour fit is trusted (the backdrop survived the edit) when its
# median misfit is at most this, over at least MIN_BACKDROP cells; BACKDROP_FIT_FEW when
# few inliers back the match (compare() says): a backdrop re-shot rather than copied
# (another garment on the same floor) fits no better than 11-13.
BACKDROP_FIT = 8.0
BACKDROP_FIT_FEW = 16.0
MIN_BACKDROP = 40
MIN_CORE = 12
MIN_CORE_INLIERS = 8
# part_motion() needs this many inliers (each half fits 4 parameters).
MIN_PARTS = 12


@dataclass(frozen=True, slots=True)
class ProductCheck:
    """How the original's product region fares in the candidate (shares of core cells)."""

    cells: int  # product core cells inside the overlap
    agree: float  # explained by the colour model
    occluded: float  # unexplained, but covered by a flat overlay in the candidate
    bad: float  # unexplained and not occluded: evidence against a copy
    median: float  # median misfit over the non-occluded core cells (0-255)
    on_product: float  # share of RANSAC inliers on the product
    backdrop_kept: bool  # the backdrop follows one colour model (judged with it)
    backdrop_fit: float = 255.0  # median misfit of the backdrop's own colour fit
    backdrop_misfit: float = 0.0  # the backdrop's median misfit under the joint model
    # colour misfit at the inliers on the product core (50th, 75th pct; outline keypoints
    # mix in the backdrop, which a cut-out replaced)
    inlier_residuals: tuple[float, ...] = ()
    # how many of a's cells one of b's covers (> 1: b shows the product smaller, as in a
    # screenshot, a collage or a 70% paste; the cell comparison is then coarser)
    shrink: float = 1.0
    # RANSAC inliers on product core cells (compare() asks more of the cells without 8)
    core_inliers: int = 0
    # share of the product core cells inside the overlap that lie within the inliers'
    # convex hull: a copy's inliers span the product, a shared hanger's sit in one strip
    spread: float = 1.0

    def to_details(self) -> dict[str, Any]:
        return {"product_cells": self.cells, "product_agree": round(self.agree, 3),
                "product_occluded": round(self.occluded, 3), "product_bad": round(self.bad, 3),
                "product_median": round(self.median, 1),
                "inliers_on_product": round(self.on_product, 3),
                "backdrop_kept": self.backdrop_kept,
                "backdrop_fit": round(self.backdrop_fit, 1),
                "backdrop_misfit": round(self.backdrop_misfit, 1),
                "product_inlier_residuals": [round(r, 1) for r in self.inlier_residuals],
                "shrink": round(self.shrink, 2), "core_inliers": self.core_inliers,
                "inlier_spread": round(self.spread, 3)}


def _flat(thumb: np.ndarray) -> np.ndarray:
    """(T, T) bool: cells whose 3x3 neighbourhood is (nearly) one colour."""
    k = np.ones((3, 3), np.uint8)
    rng = (cv2.dilate(thumb, k) .astype(np.int16) - cv2.erode(thumb, k)).max(axis=2)
    return rng < FLAT_RANGE


def _predict(ca: np.ndarray, coef: tuple[float, float, float]) -> np.ndarray:
    grey = ca @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    pred = coef[0] * grey[:, None] + coef[1] * (ca - grey[:, None]) + coef[2]
    return np.clip(pred, 0, 255)


def product_check(fa: Features, fb: Features, geo: GeoMatch,
                  few: bool = False) -> ProductCheck | None:
    """Judge a's product region in b through geo.transform; None without a product mask.

    few: few inliers back the match, and a backdrop that fits less well (BACKDROP_FIT_FEW)
    still counts as kept, so the product is judged with the backdrop's colour model.
    """
    m = geo.transform
    if fa.mask is None or m is None or bool((fa.mask >= 128).all()):
        return None
    t = fa.thumb.shape[0]
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2])))) or 1e-6
    rx, ry = fb.width / (scale * fa.width), fb.height / (scale * fa.height)
    # Compare at the coarser side's resolution (as appearance() does): blur the finer.
    if rx * ry > 1:
        ta, tb = _box_blur(fa.thumb, rx, ry), fb.thumb
    else:
        ta, tb = fa.thumb, _box_blur(fb.thumb, 1 / rx, 1 / ry)
    xa, ya = _cell_centres(fa)
    xb, yb = _warp(m, xa, ya)
    inside = (xb >= 0) & (xb < fb.width) & (yb >= 0) & (yb < fb.height)
    mask = fa.mask.reshape(-1)
    core = inside & (mask >= CORE)
    back = inside & (mask <= BACKDROP)
    if core.sum() < MIN_CORE:
        return ProductCheck(int(core.sum()), 0.0, 0.0, 1.0, 255.0, 0.0, False)
    ca_all = ta.reshape(-1, 3).astype(np.float32)
    ub, vb = xb * t / fb.width - 0.5, yb * t / fb.height - 0.5
    cb_all = np.zeros_like(ca_all)
    cb_all[inside] = _sample(tb, ub[inside], vb[inside])
    flat_b = np.zeros(len(mask), bool)
    fb_flat = _flat(fb.thumb)
    ix = np.clip(np.round(ub), 0, t - 1).astype(int)
    iy = np.clip(np.round(vb), 0, t - 1).astype(int)
    flat_b[inside] = fb_flat[iy[inside], ix[inside]]
    flat_a = _flat(fa.thumb).reshape(-1)
    # The colour model: the backdrop's when the backdrop survived, else the product's own.
    bfit = colour_fit(ca_all[back], cb_all[back], min_cells=MIN_BACKDROP)
    # A backdrop replaced by white "fits" any model with a gain of 0: only a plausible
    # global change counts as the backdrop kept.
    fit_limit = BACKDROP_FIT_FEW if few else BACKDROP_FIT
    backdrop_kept = (bfit.cells > 0 and bfit.residuals[0] <= fit_limit
                     and 0.5 <= bfit.luma_gain <= 2.0 and -0.15 <= bfit.chroma_gain <= 2.0)
    # With the backdrop kept, one model must explain backdrop and product together (a
    # plain backdrop alone does not pin the gains down; fitted jointly, a recoloured
    # product leaves either itself or the backdrop unexplained). Else the product's own.
    both = core | back if backdrop_kept else core
    fit = colour_fit(ca_all[both], cb_all[both], min_cells=MIN_CORE)
    back_misfit = (float(np.median(np.abs(_predict(ca_all[back], fit.coef)
                                          - cb_all[back]).max(axis=1)))
                   if backdrop_kept and fit.cells else 0.0)
    if fit.cells == 0 or not (0.5 <= fit.luma_gain <= 2.0 and -0.15 <= fit.chroma_gain <= 2.0):
        # no plausible global colour change maps the product onto the candidate
        return ProductCheck(int(core.sum()), 0.0, 0.0, 1.0, 255.0, 0.0, backdrop_kept)
    inl_res = _core_inlier_residuals(fa, fb, geo)
    resid = np.abs(_predict(ca_all[core], fit.coef) - cb_all[core]).max(axis=1)
    miss = resid > BAD_CELL_RESIDUAL
    # Occlusion: a flat overlay in b over content in a, grown by a cell into the
    # unexplained cells around it (text inside a callout box is not flat).
    occl_grid = np.zeros(len(mask), bool)
    occl_grid[core] = miss & flat_b[core] & ~flat_a[core]
    grown = cv2.dilate(occl_grid.reshape(t, t).astype(np.uint8), np.ones((3, 3), np.uint8))
    grown = cv2.dilate(grown, np.ones((3, 3), np.uint8))
    occl = miss & grown.reshape(-1)[core].astype(bool)
    n = len(resid)
    visible = resid[~occl]
    # Inliers on the product.
    pa = geo.points_a
    on, n_core = 0.0, 0
    if len(pa):
        cx = np.clip((pa[:, 0] * t / fa.width).astype(int), 0, t - 1)
        cy = np.clip((pa[:, 1] * t / fa.height).astype(int), 0, t - 1)
        on = float((fa.mask[cy, cx] >= ON_PRODUCT).mean())
        n_core = int((fa.mask[cy, cx] >= CORE).sum())
    return ProductCheck(n, float((~miss).mean()), float(occl.sum() / n),
                        float((miss & ~occl).sum() / n),
                        float(np.median(visible)) if len(visible) else 255.0, on, backdrop_kept,
                        bfit.residuals[0] if bfit.cells else 255.0, back_misfit, inl_res,
                        rx * ry, n_core, _spread(fa, pa, xa[core], ya[core]))


def _spread(fa: Features, points: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> float:
    """Share of the cell centres (xs, ys) inside the convex hull of `points` (a's frame)."""
    if len(points) < 3 or not len(xs):
        return 0.0
    hull = cv2.convexHull(np.round(np.asarray(points)).astype(np.int32))
    canvas = np.zeros((fa.height, fa.width), np.uint8)
    cv2.fillConvexPoly(canvas, hull, 1)
    ix = np.clip(xs.astype(int), 0, fa.width - 1)
    iy = np.clip(ys.astype(int), 0, fa.height - 1)
    return float(canvas[iy, ix].mean())


def _core_inlier_residuals(fa: Features, fb: Features, geo: GeoMatch) -> tuple[float, ...]:
    """Keypoint colour misfit (as appearance() computes it) over the inliers on the
    product core only; () when fewer than MIN_CORE_INLIERS lie there."""
    assert fa.mask is not None
    t = fa.mask.shape[0]
    ia = geo.index_a
    if not len(ia):
        return ()
    pts = fa.points[ia]
    cx = np.clip((pts[:, 0] * t / fa.width).astype(int), 0, t - 1)
    cy = np.clip((pts[:, 1] * t / fa.height).astype(int), 0, t - 1)
    on = fa.mask[cy, cx] >= CORE
    if on.sum() < MIN_CORE_INLIERS:
        return ()
    sa = fa.colours[ia[on]].astype(np.float32)
    sb = fb.colours[geo.index_b[on]].astype(np.float32)
    return colour_fit(sa, sb, min_cells=MIN_CORE_INLIERS).residuals


def _similarity_residuals(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Distances left by the least-squares similarity (scale, rotation, shift) src -> dst."""
    n = len(src)
    a = np.zeros((2 * n, 4))
    a[0::2] = np.c_[src[:, 0], -src[:, 1], np.ones(n), np.zeros(n)]
    a[1::2] = np.c_[src[:, 1], src[:, 0], np.zeros(n), np.ones(n)]
    y = dst.reshape(-1)
    x, *_ = np.linalg.lstsq(a, y, rcond=None)
    return np.linalg.norm((a @ x - y).reshape(n, 2), axis=1)


def part_motion(geo: GeoMatch) -> tuple[float, float]:
    """How much better two similarities fit the inliers than one: the inliers split in two
    halves along their longest spread, each half fitted apart. (RMS ratio corrected for the
    extra parameters, ~1 when one rigid picture moved; F statistic of the 4 extra
    parameters, large when the halves' disagreement is no chance). A copy is one picture,
    however edited; the same objects re-shot on the same backdrop (two sandals laid down
    again) fit one similarity to a few pixels, but their halves disagree in a pattern, not
    at random. (0, 0) under MIN_PARTS inliers.
    """
    pa = np.asarray(geo.points_a, np.float64)
    pb = np.asarray(geo.points_b, np.float64)
    n = len(pa)
    if n < MIN_PARTS:
        return 0.0, 0.0
    centred = pa - pa.mean(axis=0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0]
    proj = centred @ axis
    first = proj < np.median(proj)
    if min(first.sum(), (~first).sum()) < MIN_PARTS // 2:
        return 0.0, 0.0
    one = _similarity_residuals(pa, pb)
    two = np.concatenate([_similarity_residuals(pa[first], pb[first]),
                          _similarity_residuals(pa[~first], pb[~first])])
    squares = float(np.sum(one ** 2)), max(float(np.sum(two ** 2)), 1e-9)
    # under noise alone the 8 parameters of two fits leave (2n-8)/(2n-4) of the squares
    ratio = float(np.sqrt(squares[0] / squares[1] * (n - 4) / (n - 2)))
    return ratio, (squares[0] - squares[1]) / 4 / (squares[1] / (2 * n - 8))
