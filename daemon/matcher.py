"""The layered decision rule: is image B a copy of image A, a mere resemblance, or unrelated?

Layers, cheapest first: identical bytes (SHA-256); global hashes for near-exact
copies; ORB features with RANSAC (also against the mirrored image) for crops,
collages, tilts, screenshots. A colour/appearance check over the matched region
separates the same photo edited (`copy`) from a different photo of the same thing
or scene (`similar`: colour variants, same backdrop). Thresholds: docs/MATCHING.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import cv2
import numpy as np
from PIL import Image

from daemon.features import (
    FEATURE_SIDE,
    FEATURES_VERSION,
    Features,
    GeoMatch,
    feature_frame,
    features_of_frame,
    match_features,
    mirror_frame,
)
from daemon.fingerprint import (
    FINGERPRINT_VERSION,
    Fingerprint,
    fingerprint_image,
    hamming64,
    hamming_bytes,
)
from daemon.imageio import Source, decode, load_image

Kind = Literal["copy", "similar"]

# Bump when the decision rule, fingerprints or features change: stored analyses and
# past match results made with another version are redone.
MATCHER_VERSION = FINGERPRINT_VERSION * 1000 + FEATURES_VERSION * 10 + 1

# -- thresholds (chosen on bench/robustness.py; figures in docs/MATCHING.md) ----------
# Hash layer: a near-exact copy has pHash AND PDQ close. pHash <= 10 alone gives 0.06%
# false matches over 44,850 random pairs; requiring PDQ too removes them.
HASH_PHASH_MAX = 10
HASH_PDQ_MAX = 70
# Feature layer: RANSAC inliers needed before the appearance check is even asked.
MIN_INLIERS = 15
# Appearance check over the matched region (see daemon/appearance.py).
MAX_BAD_SHARE = 0.30
MIN_LUMA_GAIN, MAX_LUMA_GAIN = 0.5, 2.0
MAX_CHROMA_GAIN = 2.0
MIN_CHROMA_GAIN = -0.15
# `similar` needs this many inliers (a real resemblance, not chance).
SIMILAR_INLIERS = 25
# Above this many inliers, feature matching stops early (no mirrored try needed).
SURE_INLIERS = 60


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything PicGuard computes from one image, once: compare() needs nothing else."""

    sha256: str
    width: int
    height: int
    fingerprint: Fingerprint
    features: Features
    features_mirror: Features | None = None  # of the flipped image

    def features_bytes(self) -> bytes:
        """Straight and mirrored features as one storage blob (from_stored reads it back)."""
        straight = self.features.to_bytes()
        mirror = self.features_mirror.to_bytes() if self.features_mirror is not None else b""
        return len(straight).to_bytes(4, "little") + straight + mirror

    @classmethod
    def from_stored(cls, fingerprint: bytes, features: bytes, sha256: str = "") -> Analysis:
        """Rebuild from Fingerprint.to_bytes() and features_bytes(); ValueError if damaged."""
        fp = Fingerprint.from_bytes(fingerprint)
        n = int.from_bytes(features[:4], "little")
        if n > len(features) - 4:
            raise ValueError("features blob is damaged; recompute it")
        straight = Features.from_bytes(features[4:4 + n])
        rest = features[4 + n:]
        mirror = Features.from_bytes(rest) if rest else None
        return cls(sha256, fp.width, fp.height, fp, straight, mirror)

    @classmethod
    def from_thumbnail(cls, thumb: bytes, fingerprint: bytes | None = None,
                       sha256: str = "") -> Analysis:
        """Rebuild a competitor image's analysis from its stored thumbnail (make_thumbnail).

        The stored fingerprint (of the full image) is used when given; features come
        from the thumbnail. ImageError if the thumbnail is unreadable.
        """
        im = load_image(thumb, max_side=FEATURE_SIDE)
        fp = Fingerprint.from_bytes(fingerprint) if fingerprint else fingerprint_image(im)
        frame = feature_frame(im)
        return cls(sha256, im.width, im.height, fp, features_of_frame(frame),
                   features_of_frame(mirror_frame(frame)))


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Outcome of comparing two images; `details` carries the distances and counts behind it."""

    match: bool
    kind: Kind | None
    score: float
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"match": self.match, "kind": self.kind, "score": round(self.score, 4),
                "details": self.details}


def analyse(src: Source | Image.Image, mirror: bool = True) -> Analysis:
    """Decode once and compute sha256, fingerprint and local features (and mirrored ones).

    ImageError if the input is not a readable image. A PIL image has no bytes, so its
    sha256 is of its pixels.
    """
    if isinstance(src, Image.Image):
        import hashlib

        im = src.convert("RGB")
        sha, w, h = hashlib.sha256(im.tobytes()).hexdigest(), im.width, im.height
    else:
        dec = decode(src, max_side=FEATURE_SIDE)
        im, sha, w, h = dec.image, dec.sha256, dec.width, dec.height
    frame = feature_frame(im)
    return Analysis(
        sha256=sha, width=w, height=h,
        fingerprint=fingerprint_image(im),
        features=features_of_frame(frame),
        features_mirror=features_of_frame(mirror_frame(frame)) if mirror else None,
    )


def hash_distances(a: Fingerprint, b: Fingerprint) -> dict[str, Any]:
    """pHash/dHash/PDQ distances, straight and mirrored; `mirrored` when the flip is closer."""
    straight = (hamming64(a.phash, b.phash), hamming64(a.dhash, b.dhash),
                hamming_bytes(a.pdq, b.pdq))
    flipped = (hamming64(a.phash_mirror, b.phash), hamming64(a.dhash_mirror, b.dhash),
               hamming_bytes(a.pdq_mirror, b.pdq))
    mirrored = sum(flipped) < sum(straight)
    ph, dh, pdq = flipped if mirrored else straight
    return {"phash": ph, "dhash": dh, "pdq": pdq, "mirrored": mirrored}


def _colour_ok(app: Appearance) -> bool:
    return (app.bad_share <= MAX_BAD_SHARE
            and MIN_LUMA_GAIN <= app.luma_gain <= MAX_LUMA_GAIN
            and MIN_CHROMA_GAIN <= app.chroma_gain <= MAX_CHROMA_GAIN)


def _feature_pairs(a: Analysis, b: Analysis) -> list[tuple[bool, Features, Features]]:
    """(mirrored, fa, fb) to try: straight first, then a mirrored side when available."""
    pairs = [(False, a.features, b.features)]
    if a.features_mirror is not None:
        pairs.append((True, a.features_mirror, b.features))
    elif b.features_mirror is not None:
        pairs.append((True, a.features, b.features_mirror))
    return pairs


def best_geometry(a: Analysis, b: Analysis) -> tuple[bool, Features, Features, GeoMatch]:
    """The best RANSAC match over straight and mirrored feature pairs."""
    best: tuple[bool, Features, Features, GeoMatch] | None = None
    for mirrored, fa, fb in _feature_pairs(a, b):
        geo = match_features(fa, fb)
        if best is None or geo.inliers > best[3].inliers:
            best = (mirrored, fa, fb, geo)
        if geo.inliers >= SURE_INLIERS:
            break
    assert best is not None
    return best


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


def evidence(a: Analysis, b: Analysis) -> dict[str, Any]:
    """Every measurement compare() may use, none skipped (for calibration benches)."""
    ev: dict[str, Any] = hash_distances(a.fingerprint, b.fingerprint)
    g = grid_appearance(a.fingerprint, b.fingerprint, ev["mirrored"])
    ev.update({f"grid_{k}": v for k, v in g.to_details().items()})
    best = None
    for mirrored, fa, fb in _feature_pairs(a, b):
        geo = match_features(fa, fb)
        if best is None or geo.inliers > best[3].inliers:
            best = (mirrored, fa, fb, geo)
    assert best is not None
    mirrored, fa, fb, geo = best
    ev.update({"inliers": geo.inliers, "matches": geo.matches, "features_mirrored": mirrored})
    if geo.transform is not None:
        ev.update(appearance(fa, fb, geo).to_details())
        ev["coverage"] = round(coverage(fa, fb, geo), 3)
        ev["scale"] = round(float(np.sqrt(abs(np.linalg.det(geo.transform[:, :2])))), 3)
    return ev


def compare(a: Analysis, b: Analysis) -> MatchResult:
    """Is b a copy of a (the same photo, edited), similar (resembles), or neither?"""
    if a.sha256 == b.sha256:
        return MatchResult(True, "copy", 1.0, {"layer": "sha256"})
    details: dict[str, Any] = hash_distances(a.fingerprint, b.fingerprint)
    near = details["phash"] <= HASH_PHASH_MAX and details["pdq"] <= HASH_PDQ_MAX
    if near:
        app = grid_appearance(a.fingerprint, b.fingerprint, details["mirrored"])
        details.update(app.to_details())
        if _colour_ok(app):
            details["layer"] = "hash"
            score = 1.0 - 0.5 * details["phash"] / 64 - 0.5 * details["pdq"] / 256
            return MatchResult(True, "copy", round(score, 4), details)
    mirrored, fa, fb, geo = best_geometry(a, b)
    details.update({"inliers": geo.inliers, "matches": geo.matches,
                    "features_mirrored": mirrored})
    if geo.inliers >= MIN_INLIERS and geo.transform is not None:
        app = appearance(fa, fb, geo)
        details.update(app.to_details())
        score = geo.inliers / (geo.inliers + 20)
        if _colour_ok(app):
            details["layer"] = "features"
            return MatchResult(True, "copy", round(score, 4), details)
        if geo.inliers >= SIMILAR_INLIERS:
            details["layer"] = "features"
            return MatchResult(True, "similar", round(0.5 * score, 4), details)
    if near:
        details["layer"] = "hash"
        return MatchResult(True, "similar", 0.4, details)
    details["layer"] = None
    return MatchResult(False, None, 0.0, details)


# -- appearance check ---------------------------------------------------------------


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

    def to_details(self) -> dict[str, float]:
        return {"bad_share": round(self.bad_share, 3), "luma_gain": round(self.luma_gain, 3),
                "chroma_gain": round(self.chroma_gain, 3), "overlap": round(self.overlap, 3)}


NO_APPEARANCE = Appearance(1.0, 0.0, 0.0, 0.0, 0)
# A cell is "bad" when the fitted colour model misses it by more than this (0-255 scale).
BAD_CELL_RESIDUAL = 40.0
MIN_CELLS = 24


def _colour_fit(ca: np.ndarray, cb: np.ndarray) -> Appearance:
    """Robust least-squares fit of the global colour model from cells ca -> cb (n, 3)."""
    n = len(ca)
    if n < MIN_CELLS:
        return NO_APPEARANCE
    grey = ca @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    chroma = ca - grey[:, None]
    # rows: one per (cell, channel); unknowns: luma gain, chroma gain, offset
    x = np.stack([np.repeat(grey, 3), chroma.ravel(), np.ones(3 * n, np.float32)], axis=1)
    y = cb.ravel()
    keep = np.ones(n, dtype=bool)
    coef = np.zeros(3)
    for _ in range(3):
        rows = np.repeat(keep, 3)
        coef, *_ = np.linalg.lstsq(x[rows], y[rows], rcond=None)
        resid = np.abs(x @ coef - y).reshape(n, 3).max(axis=1)
        # Refit on the cells the model explains best: stickers, logos and banners are
        # outliers, not evidence about the global colour change.
        keep = resid <= max(np.percentile(resid, 60), 1.0)
    bad = float((resid > BAD_CELL_RESIDUAL).mean())
    return Appearance(bad, float(coef[0]), float(coef[1]), 1.0, n)


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


def appearance(fa: Features, fb: Features, geo: GeoMatch) -> Appearance:
    """Colour agreement of a and b over the overlap given by the RANSAC transform."""
    m = geo.transform
    if m is None:
        return NO_APPEARANCE
    ta, tb = fa.thumb, fb.thumb
    t = ta.shape[0]
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2])))) or 1e-6
    # Cells of a's thumb cover wa/t a-pixels = scale*wa/t b-pixels; b's cells cover wb/t.
    # Blur the finer of the two so both average over about the same content.
    ratio = (fb.width / t) / (scale * fa.width / t)
    if ratio > 1.2:
        ta = cv2.GaussianBlur(ta, (0, 0), min(4.0, 0.5 * ratio))
    elif ratio < 1 / 1.2:
        tb = cv2.GaussianBlur(tb, (0, 0), min(4.0, 0.5 / ratio))
    jj, ii = np.meshgrid(np.arange(t), np.arange(t))
    xa = (jj.ravel() + 0.5) * fa.width / t
    ya = (ii.ravel() + 0.5) * fa.height / t
    xb = m[0, 0] * xa + m[0, 1] * ya + m[0, 2]
    yb = m[1, 0] * xa + m[1, 1] * ya + m[1, 2]
    inside = (xb >= 0) & (xb < fb.width) & (yb >= 0) & (yb < fb.height)
    if inside.sum() < MIN_CELLS:
        return NO_APPEARANCE
    ca = ta.reshape(-1, 3)[inside].astype(np.float32)
    cb = _sample(tb, xb[inside] * t / fb.width - 0.5, yb[inside] * t / fb.height - 0.5)
    fit = _colour_fit(ca, cb)
    return Appearance(fit.bad_share, fit.luma_gain, fit.chroma_gain, float(inside.mean()),
                      fit.cells)


def grid_appearance(a: Fingerprint, b: Fingerprint, mirrored: bool) -> Appearance:
    """Colour agreement of two fingerprints' colour grids, frame to frame (hash layer)."""
    ga = a.grid_array(mirror=mirrored).reshape(-1, 3).astype(np.float32)
    gb = b.grid_array().reshape(-1, 3).astype(np.float32)
    return _colour_fit(ga, gb)


def __getattr__(name: str) -> Any:
    # Catalog-scale retrieval lives in daemon.retrieval (it needs compare from here).
    if name in ("CatalogMatcher", "match_against"):
        from daemon import retrieval

        return getattr(retrieval, name)
    raise AttributeError(name)


__all__ = ["MATCHER_VERSION", "Analysis", "MatchResult", "analyse", "compare", "hash_distances",
           "best_geometry",
           "Appearance", "appearance", "grid_appearance"]
