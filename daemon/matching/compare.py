"""The layered decision rule: is image B a copy of image A, a mere resemblance, or unrelated?

Layers, cheapest first: identical bytes (SHA-256); global hashes for near-exact
copies; ORB features with RANSAC (also against the mirrored image) for crops,
collages, tilts, screenshots. A colour/appearance check over the matched region
separates the same photo edited (`copy`) from a different photo of the same thing
or scene (`similar`: colour variants, same backdrop). When the original has a product
mask (foreground.py), that check is made over the product (verify.py): a replaced
backdrop or callout boxes do not count against a copy, and a copy claim needs the
product itself to agree. Thresholds: docs/MATCHING.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from PIL import Image

from daemon.matching.appearance import (
    Appearance,
    appearance,
    coverage,
    grid_appearance,
    keypoint_residuals,
)
from daemon.matching.features import (
    DETECT_FACTOR,
    FEATURE_SIDE,
    FEATURES_VERSION,
    QUERY_DETECT_FACTOR,
    Features,
    GeoMatch,
    feature_frame,
    features_of_frame,
    match_features,
    mirror_frame,
)
from daemon.matching.fingerprint import (
    FINGERPRINT_VERSION,
    Fingerprint,
    fingerprint_image,
    hash_distances,
)
from daemon.matching.foreground import product_mask
from daemon.matching.imageio import Source, decode, load_image
from daemon.matching.verify import MIN_CORE_INLIERS, ProductCheck, part_motion, product_check

Kind = Literal["copy", "similar"]

# What analyse() stores (fingerprints, features, product mask) last changed with rule
# revision 5: stored analyses, the catalog index and the competitor index are of this
# version, redone when it changes. MATCHER_VERSION also counts the decision rule's
# revisions: past match results of another are redone, but not every original re-read
# nor an index of 10^5 images rebuilt for a rule change.
ANALYSIS_VERSION = FINGERPRINT_VERSION * 1000 + FEATURES_VERSION * 10 + 5
MATCHER_VERSION = FINGERPRINT_VERSION * 1000 + FEATURES_VERSION * 10 + 6

# -- thresholds (chosen on bench/robustness.py; figures in docs/MATCHING.md) ----------
# Hash layer: candidates have pHash AND PDQ close (pHash <= 10 alone: 0.06% false
# matches over 44,850 random pairs; colour variants of one product get that close too).
HASH_PHASH_MAX = 10
HASH_PDQ_MAX = 70
# ...and are copies outright only when almost pixel-identical (a heavy watermark can
# leave no local features to confirm them):
EXACT_PHASH_MAX, EXACT_PDQ_MAX = 4, 40
EXACT_GRID_RESIDUALS = (2.5, 6.0)  # colour-grid misfit, median and 75th percentile
MIN_INLIERS = 15  # feature layer: RANSAC inliers needed before the checks below
# Colour at the matched keypoints under the fitted global colour change: median and
# 75th percentile misfit (0-255). Copies stay under 5.2 / 9.1; colour variants of one
# product keep their outline (inliers) but not its colour.
KEYPOINT_RESIDUALS = (6.0, 10.0)
KEYPOINT_RESIDUALS_MANY = (8.0, 14.0)  # with >= FEW_INLIERS inliers
# Share of the overlap the colour model does not explain (stickers, banners...):
# generous when the geometry is certain, strict when only a few points agree (a
# different garment on the same backdrop matches on the backdrop only).
MAX_BAD_SHARE = 0.30
MAX_BAD_SHARE_FEW = 0.10
MAX_CELL_MEDIAN_FEW = 14.0  # median misfit over the overlap, below FEW_INLIERS
FEW_INLIERS = 130
MIN_LUMA_GAIN, MAX_LUMA_GAIN, MIN_CHROMA_GAIN, MAX_CHROMA_GAIN = 0.5, 2.0, -0.15, 2.0
# `similar` (not the same photo, but the same product or scene) needs this much;
# different photos reach at most 31 inliers over 6,000 pairs.
SIMILAR_INLIERS = 40
# Product region (verify.product_check), for originals with a product mask: core cells
# in the overlap, share of inliers on the product, share of core cells the colour
# model explains, share unexplained and not occluded, median misfit of visible cells.
PRODUCT_MIN_CELLS, PRODUCT_MIN_INLIERS = 12, 0.15
PRODUCT_MAX_BACKDROP_MISFIT = 20.0
PRODUCT_MIN_AGREE = 0.6
# Under SIMILAR_INLIERS inliers: FEW. 0.10, not 0.15: burgundy shorts vs black trousers
# on one hanger left 12-14% of the product unexplained with 18-20 inliers (a `copy` at
# 10^4 competitor images); the full robustness run's copies under 40 inliers: <= 8.8%.
PRODUCT_MAX_BAD, PRODUCT_MAX_BAD_FEW = 0.30, 0.10
PRODUCT_MAX_MEDIAN, PRODUCT_MAX_MEDIAN_FEW = 15.0, 12.0
# With FEW_INLIERS or more (brightening clips a backdrop), or when the candidate shows
# the product at half its area or less (the coarse cells of a screenshot or collage
# miss a shoe's edges by 16-17; colour variants are framed alike, shrink ~1); under
# SIMILAR_INLIERS a shrunk candidate gets PRODUCT_MAX_MEDIAN (a collage tile: 12.5):
PRODUCT_MAX_MEDIAN_MANY = 25.0
PRODUCT_SHRINK = 2.0
# Under SIMILAR_INLIERS with fewer than verify.MIN_CORE_INLIERS inliers on the product
# core, no keypoint inside the product backs the claim (they sit on the outline, a
# hanger, the backdrop): the product's cells must then agree all but everywhere (copies
# seen: <= 1.7% unexplained; another garment on the same hanger: 11.7-14.6%).
PRODUCT_BARE_MAX_BAD = 0.05
# Under FEW_INLIERS the inliers must span the product: their convex hull covers at least
# this share of its core cells inside the overlap (navy shorts vs other navy garments on
# the same hanger and wall: 1.5-4.9% with 22-43 inliers, on the hanger and waistband; the
# fewest of 277 copies under 130 inliers from thumbnails: 12.6%, a 15-20% crop).
PRODUCT_MIN_SPREAD = 0.08
# Under 100 inliers, over a fifth of the product hidden is not a copy shown (a denim
# blouse vs jeans on one sheet: 41-49 inliers, 25% occluded; copies seen over 20%: banners,
# 155+ inliers).
PRODUCT_MAX_OCCLUDED, OCCLUDED_FEW_INLIERS = 0.2, 100
# Under FEW_INLIERS, two similarities (one a half of the inliers each) fitting this much
# better than one, with an F statistic over PART_MOTION_F, say the parts moved apart: the
# scene was re-shot (verify.part_motion). 367 copies under 130 inliers: ratio <= 1.15 but
# one (1.24, F 6.9, 24 inliers), F <= 6.9; the same sandals laid down again on the same
# carpet: 1.22-1.37, F 11-25 (a `copy` at 7x10^4 competitor images). A perspective tilt
# bends a copy too (1.4-1.65), but only copies with 200+ inliers showed it.
MAX_PART_MOTION, PART_MOTION_F = 1.15, 10.0
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
        # The mirrored side's product mask is the straight one flipped: stored once.
        mirror = (replace(self.features_mirror, mask=None).to_bytes()
                  if self.features_mirror is not None else b"")
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
        if mirror is not None and straight.mask is not None:
            mirror = replace(mirror, mask=np.ascontiguousarray(straight.mask[:, ::-1]))
        return cls(sha256, fp.width, fp.height, fp, straight, mirror)

    @classmethod
    def from_thumbnail(cls, thumb: bytes, fingerprint: bytes | None = None,
                       sha256: str = "") -> Analysis:
        """Rebuild a competitor image's analysis from its stored thumbnail (make_thumbnail).

        The stored fingerprint (of the full image) is used when given and current; one
        made by an older version is recomputed from the thumbnail, so images stored before
        an upgrade still match. Features come from the thumbnail, detected as a candidate's
        (QUERY_DETECT_FACTOR). ImageError if the thumbnail is unreadable.
        """
        im = load_image(thumb, max_side=FEATURE_SIDE)
        fp = None
        if fingerprint:
            try:
                fp = Fingerprint.from_bytes(fingerprint)
            except ValueError:
                fp = None
        fp = fp or fingerprint_image(im)
        frame = feature_frame(im)
        return cls(sha256, im.width, im.height, fp,
                   features_of_frame(frame, detect=QUERY_DETECT_FACTOR),
                   features_of_frame(mirror_frame(frame), detect=QUERY_DETECT_FACTOR))


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


def analyse(src: Source | Image.Image, mirror: bool = True, product: bool = True) -> Analysis:
    """Decode once and compute sha256, fingerprint and local features (and mirrored ones).

    product=True also computes the product mask (foreground.py, about 15-60 ms): compare(a,
    b) judges a's product region, so catalog originals need it; a competitor image
    (always the b side) does not, and detects its keypoints from a wider pool
    (features.QUERY_DETECT_FACTOR: overlays copiers add take ORB's strongest corners).
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
    # A catalog original detects from the narrower pool (features.DETECT_FACTOR).
    detect = DETECT_FACTOR if product else QUERY_DETECT_FACTOR
    feats = features_of_frame(frame, detect=detect)
    feats_mirror = features_of_frame(mirror_frame(frame), detect=detect) if mirror else None
    if product:
        mask = product_mask(np.asarray(frame))
        feats = replace(feats, mask=mask)
        if feats_mirror is not None:
            feats_mirror = replace(feats_mirror, mask=np.ascontiguousarray(mask[:, ::-1]))
    return Analysis(sha256=sha, width=w, height=h, fingerprint=fingerprint_image(im),
                    features=feats, features_mirror=feats_mirror)


def _global_colour_ok(app: Appearance, inliers: int) -> bool:
    """The overlap follows one global colour change, bar overlays (see Appearance)."""
    if not (app.cells > 0 and MIN_LUMA_GAIN <= app.luma_gain <= MAX_LUMA_GAIN
            and MIN_CHROMA_GAIN <= app.chroma_gain <= MAX_CHROMA_GAIN):
        return False
    if inliers >= FEW_INLIERS:
        return app.bad_share <= MAX_BAD_SHARE
    return app.bad_share <= MAX_BAD_SHARE_FEW and app.residuals[0] <= MAX_CELL_MEDIAN_FEW


def _product_ok(pc: ProductCheck, colours: tuple[float, ...], inliers: int) -> bool:
    """The original's product region agrees in the candidate (verify.product_check): its
    cells and the inliers on it follow one colour change (with the backdrop's, when the
    backdrop survived), and enough of the inliers are on it."""
    few = inliers < SIMILAR_INLIERS
    if few and pc.core_inliers < MIN_CORE_INLIERS and pc.bad > PRODUCT_BARE_MAX_BAD:
        return False
    if inliers < FEW_INLIERS and pc.spread < PRODUCT_MIN_SPREAD:
        return False
    if inliers < OCCLUDED_FEW_INLIERS and pc.occluded > PRODUCT_MAX_OCCLUDED:
        return False
    return (pc.cells >= PRODUCT_MIN_CELLS and pc.on_product >= PRODUCT_MIN_INLIERS
            and _residuals_ok(colours, inliers)
            and pc.agree >= PRODUCT_MIN_AGREE
            and pc.bad <= (PRODUCT_MAX_BAD_FEW if few else PRODUCT_MAX_BAD)
            and pc.median <= _median_limit(pc, inliers)
            and (not pc.backdrop_kept or pc.backdrop_misfit <= PRODUCT_MAX_BACKDROP_MISFIT))


def _median_limit(pc: ProductCheck, inliers: int) -> float:
    """Largest median misfit of the visible product cells for a copy (see the constants)."""
    shrunk = pc.shrink >= PRODUCT_SHRINK
    if inliers < SIMILAR_INLIERS:
        return PRODUCT_MAX_MEDIAN if shrunk else PRODUCT_MAX_MEDIAN_FEW
    return PRODUCT_MAX_MEDIAN_MANY if shrunk or inliers >= FEW_INLIERS else PRODUCT_MAX_MEDIAN


def _keypoints_colour_ok(app: Appearance, inliers: int) -> bool:
    return _residuals_ok(app.inlier_residuals, inliers)


def _residuals_ok(r: tuple[float, ...], inliers: int) -> bool:
    """Keypoint colours follow one colour change (median and 75th percentile misfit)."""
    lim = KEYPOINT_RESIDUALS_MANY if inliers >= FEW_INLIERS else KEYPOINT_RESIDUALS
    return len(r) >= 2 and r[0] <= lim[0] and r[1] <= lim[1]


def _grid_exact(app: Appearance) -> bool:
    r = app.residuals
    return (len(r) >= 2 and r[0] <= EXACT_GRID_RESIDUALS[0] and r[1] <= EXACT_GRID_RESIDUALS[1]
            and MIN_LUMA_GAIN <= app.luma_gain <= MAX_LUMA_GAIN)


def _feature_pairs(a: Analysis, b: Analysis, only: bool | None = None
                   ) -> list[tuple[bool, Features, Features]]:
    """(mirrored, fa, fb) to try: straight first, then a mirrored side when available;
    only=False/True keeps just the straight/mirrored pair."""
    pairs = [(False, a.features, b.features)]
    if a.features_mirror is not None:
        pairs.append((True, a.features_mirror, b.features))
    elif b.features_mirror is not None:
        pairs.append((True, a.features, b.features_mirror))
    return pairs if only is None else [p for p in pairs if p[0] == only] or pairs[:1]


def best_geometry(a: Analysis, b: Analysis, only: bool | None = None
                  ) -> tuple[bool, Features, Features, GeoMatch]:
    """The best RANSAC match over straight and mirrored feature pairs (see _feature_pairs)."""
    best: tuple[bool, Features, Features, GeoMatch] | None = None
    for mirrored, fa, fb in _feature_pairs(a, b, only):
        geo = match_features(fa, fb)
        if best is None or geo.inliers > best[3].inliers:
            best = (mirrored, fa, fb, geo)
        if geo.inliers >= SURE_INLIERS:
            break
    assert best is not None
    return best


def measurements(a: Analysis, b: Analysis) -> dict[str, Any]:
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
    ev.update({"inliers": geo.inliers, "matches": geo.matches, "features_mirrored": mirrored,
               "distance": geo.distance})
    if geo.transform is not None:
        ev.update(appearance(fa, fb, geo).to_details())
        ev["coverage"] = round(coverage(fa, fb, geo), 3)
        ev["scale"] = round(float(np.sqrt(abs(np.linalg.det(geo.transform[:, :2])))), 3)
        ev["part_motion"] = [round(x, 3) for x in part_motion(geo)]
        pc = product_check(fa, fb, geo, few=geo.inliers < SIMILAR_INLIERS)
        if pc is not None:
            ev.update(pc.to_details())
    return ev


def compare(a: Analysis, b: Analysis, mirrored: bool | None = None) -> MatchResult:
    """Is b a copy of a (the same photo, edited), similar (resembles), or neither?

    copy: identical bytes; or near-identical hashes and colour grid; or enough RANSAC
    inliers whose colours follow one global colour change over the shared region.
    similar: the geometry agrees (40+ inliers, or 15+ with close hashes) but the colours
    do not (a colour variant, the same product re-shot, the same backdrop). With a
    product mask on a, the colours are judged over a's product (verify.product_check),
    and enough inliers must lie on it and span it. Thresholds: docs/MATCHING.md.
    mirrored=False/True verifies local features in that orientation only (catalog
    retrieval knows which one voted for the photo).
    """
    if a.sha256 and a.sha256 == b.sha256:
        return MatchResult(True, "copy", 1.0, {"layer": "sha256"})
    details: dict[str, Any] = hash_distances(a.fingerprint, b.fingerprint)
    near = details["phash"] <= HASH_PHASH_MAX and details["pdq"] <= HASH_PDQ_MAX
    hash_score = 1.0 - 0.5 * details["phash"] / 64 - 0.5 * details["pdq"] / 256
    if near:
        grid = grid_appearance(a.fingerprint, b.fingerprint, details["mirrored"])
        details.update({f"grid_{k}": v for k, v in grid.to_details().items()
                        if k in ("bad_share", "residuals", "luma_gain")})
        if (details["phash"] <= EXACT_PHASH_MAX and details["pdq"] <= EXACT_PDQ_MAX
                and _grid_exact(grid)):
            details["layer"] = "hash"
            return MatchResult(True, "copy", round(hash_score, 4), details)
    flipped, fa, fb, geo = best_geometry(a, b, mirrored)
    details.update({"inliers": geo.inliers, "matches": geo.matches,
                    "features_mirrored": flipped})
    if geo.inliers >= MIN_INLIERS and geo.transform is not None:
        score = geo.inliers / (geo.inliers + 20)
        # With a product mask the product check replaces the whole-frame appearance check
        # (and costs about as much, so the latter is not computed).
        pc = product_check(fa, fb, geo, few=geo.inliers < SIMILAR_INLIERS)
        if pc is None:
            app = appearance(fa, fb, geo)
            details.update(app.to_details())
            is_copy = _global_colour_ok(app, geo.inliers) and _keypoints_colour_ok(app, geo.inliers)
            plausible = app.cells > 0 and MIN_LUMA_GAIN <= app.luma_gain <= MAX_LUMA_GAIN
        else:
            details.update(pc.to_details())
            kp = pc.inlier_residuals or keypoint_residuals(fa, fb, geo)
            details["inlier_residuals"] = [round(r, 1) for r in kp]
            is_copy = _product_ok(pc, kp, geo.inliers)
            plausible = pc.on_product >= PRODUCT_MIN_INLIERS
        if is_copy and geo.inliers < FEW_INLIERS:
            # one picture moves as one: halves that moved apart are the scene re-shot
            ratio, f = part_motion(geo)
            details["part_motion"] = [round(ratio, 3), round(f, 1)]
            is_copy = ratio <= MAX_PART_MOTION or f <= PART_MOTION_F
        if is_copy:
            details["layer"] = "features"
            return MatchResult(True, "copy", round(max(score, hash_score if near else 0), 4),
                               details)
        if (geo.inliers >= SIMILAR_INLIERS and plausible) or near:
            details["layer"] = "features"
            return MatchResult(True, "similar", round(0.5 * score, 4), details)
    # Close hashes with no local features to back them are not reported: against a
    # 3,068-photo catalog, 2 of 496 unrelated photos were that close to some photo.
    details["layer"] = None
    return MatchResult(False, None, 0.0, details)


__all__ = ["ANALYSIS_VERSION", "MATCHER_VERSION", "Analysis", "MatchResult", "analyse", "compare",
           "hash_distances", "best_geometry", "Appearance", "appearance", "grid_appearance"]
