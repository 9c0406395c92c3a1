"""Local features (ORB keypoints + binary descriptors) of one image, stored compactly.

Global hashes lose crops, collages, tilts and screenshots; local features matched
with geometric verification find them (daemon.matching.compare). A small colour thumbnail
(and, for catalog originals, a product mask) rides along so a verified match can also be
checked for colour (daemon.matching.appearance, daemon.matching.verify).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from daemon.matching.imageio import Source, load_image, trim_margins

# faiss searches here are small (hundreds of descriptors): OpenMP threads only add
# contention (measured 215 ms vs 9 ms a search on 2 cores). daemon/__init__.py makes one
# OpenMP thread the default through OMP_NUM_THREADS (which, unlike omp_set_num_threads,
# also reaches worker threads); an explicit OMP_NUM_THREADS from the environment wins.

# 3: frames shrunk by less than 1.5x with linear interpolation (daemon.matching.imageio._shrink).
# 4: an optional product mask (daemon.matching.foreground) rides in the blob.
# 5: candidates (competitor images) detect from a wider pool (QUERY_DETECT_FACTOR).
FEATURES_VERSION = 5
# Images are brought to this longest side (up or down) before detection, so the
# same photo gives the same keypoints at every size it is published at.
FEATURE_SIDE = 640
N_FEATURES = 1000
# Detect DETECT_FACTOR x more corners than kept, then keep N_FEATURES spread over a
# GRID_CELLS x GRID_CELLS grid. ORB keeps only its strongest corners, so the spread can
# only choose among those: on a candidate, a copier's text (infographic callouts,
# badges) takes most of 3,000 and the photo's cells are left with none. Candidates
# (competitor images) therefore detect from a pool of QUERY_DETECT_FACTOR x; catalog
# originals (clean seller photos) keep DETECT_FACTOR, because the wider pool there lets
# weak backdrop corners displace product ones (a listing screenshot lost half its
# inliers). Figures: docs/MATCHING.md ("Features that survive the cut-out").
DETECT_FACTOR = 3
QUERY_DETECT_FACTOR = 6
GRID_CELLS = 8
# Lowe's ratio test and RANSAC reprojection tolerance (pixels of the feature frame).
RATIO = 0.75
RANSAC_REPROJ = 8.0
MIN_RANSAC_MATCHES = 6
MIN_SCALE = 1 / 8
RANSAC_SEED = 12345
# Colour thumbnail (THUMB x THUMB, RGB) for the appearance check after matching.
THUMB = 32
# Keypoint colour: mean over a box of +-PATCH_FRACTION x the keypoint's size.
PATCH_FRACTION = 0.5
# Keypoint coordinates are stored as uint16 in 1/COORD_SCALE pixel units.
COORD_SCALE = 16

_HEAD = struct.Struct("<BHHIB")  # version, width, height, n, has mask

# cv2 objects are not thread-safe: one ORB detector per call (creating one costs ~20 us).


def orb_detector(n: int) -> cv2.ORB:
    """An ORB detector keeping the n strongest corners, with the settings every side uses."""
    return cv2.ORB_create(nfeatures=n, scaleFactor=1.2, nlevels=8, edgeThreshold=19,
                          patchSize=19, fastThreshold=8)


def spread_keypoints(kps: tuple[cv2.KeyPoint, ...], w: int, h: int,
                     n: int) -> list[cv2.KeyPoint]:
    """Keep n keypoints spread over an 8x8 grid, strongest first in each cell, round robin.

    Without this, text (watermarks, banners, page chrome) takes most of the strongest
    corners and the photo underneath keeps too few to be recognised: measured on 40
    clothing photos, watermark recall at 20 inliers went from 75% to 100%.
    """
    if len(kps) <= n:
        return list(kps)
    resp = np.fromiter((k.response for k in kps), dtype=np.float32, count=len(kps))
    pts = cv2.KeyPoint_convert(kps)
    cell = (np.minimum(pts[:, 1] * GRID_CELLS // h, GRID_CELLS - 1) * GRID_CELLS
            + np.minimum(pts[:, 0] * GRID_CELLS // w, GRID_CELLS - 1)).astype(np.int64)
    order = np.lexsort((-resp, cell))  # by cell, strongest first
    sorted_cells = cell[order]
    first = np.searchsorted(sorted_cells, sorted_cells, side="left")
    rank = np.arange(len(order)) - first  # rank of each keypoint inside its cell
    pick = order[np.lexsort((-resp[order], rank))][:n]
    return [kps[i] for i in pick]


@dataclass(frozen=True, slots=True)
class Features:
    """Keypoints (n, 2) float32 in pixels of a width x height frame; descriptors (n, 32) uint8."""

    width: int
    height: int
    points: np.ndarray
    descriptors: np.ndarray
    thumb: np.ndarray  # (THUMB, THUMB, 3) uint8, the whole frame squashed
    colours: np.ndarray  # (n, 3) uint8 mean colour around each keypoint (at its scale)
    # (THUMB, THUMB) uint8 share of each thumbnail cell that is product (foreground.py);
    # catalog originals have one, other images may not.
    mask: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.descriptors)

    def to_bytes(self) -> bytes:
        """One blob: header, coords, descriptors, colours, thumbnail (39 B a keypoint + 3 KB),
        then the product mask when there is one (1 KB)."""
        pts = np.clip(np.round(self.points * COORD_SCALE), 0, 65535).astype("<u2")
        mask = b"" if self.mask is None else np.ascontiguousarray(self.mask, np.uint8).tobytes()
        return b"".join((
            _HEAD.pack(FEATURES_VERSION, self.width, self.height, len(self), bool(mask)),
            pts.tobytes(), np.ascontiguousarray(self.descriptors, dtype=np.uint8).tobytes(),
            np.ascontiguousarray(self.colours, dtype=np.uint8).tobytes(),
            np.ascontiguousarray(self.thumb, dtype=np.uint8).tobytes(), mask,
        ))

    @classmethod
    def from_bytes(cls, blob: bytes) -> Features:
        """Inverse of to_bytes; ValueError for a blob of another version or a damaged one."""
        if len(blob) < _HEAD.size:
            raise ValueError("features blob too short; recompute it")
        v, w, h, n, has_mask = _HEAD.unpack_from(blob)
        if v != FEATURES_VERSION:
            raise ValueError(f"features version {v}, expected {FEATURES_VERSION}; recompute them")
        tsz = THUMB * THUMB * 3
        msz = THUMB * THUMB if has_mask else 0
        if len(blob) != _HEAD.size + n * 39 + tsz + msz:
            raise ValueError("features blob has the wrong size; recompute it")
        o = _HEAD.size
        pts = np.frombuffer(blob, "<u2", 2 * n, o).reshape(n, 2).astype(np.float32) / COORD_SCALE
        o += 4 * n
        desc = np.frombuffer(blob, np.uint8, 32 * n, o).reshape(n, 32).copy()
        o += 32 * n
        colours = np.frombuffer(blob, np.uint8, 3 * n, o).reshape(n, 3).copy()
        o += 3 * n
        thumb = np.frombuffer(blob, np.uint8, tsz, o).reshape(THUMB, THUMB, 3).copy()
        mask = (np.frombuffer(blob, np.uint8, msz, o + tsz).reshape(THUMB, THUMB).copy()
                if msz else None)
        return cls(w, h, pts, desc, thumb, colours, mask)


def feature_frame(im: Image.Image, side: int = FEATURE_SIDE) -> Image.Image:
    """The trimmed image scaled so its longest side is `side` (the frame features live in)."""
    im = trim_margins(im)
    scale = side / max(im.size)
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    if size != im.size:
        im = im.resize(size, Image.Resampling.BILINEAR if scale < 1 else Image.Resampling.BICUBIC)
    return im


def features_of_frame(frame: Image.Image, n: int = N_FEATURES,
                      detect: int = DETECT_FACTOR) -> Features:
    """ORB features of an image already brought to its feature frame.

    detect: corners detected per kept one (DETECT_FACTOR for a catalog original,
    QUERY_DETECT_FACTOR for a candidate image; see the constants).
    """
    rgb = np.asarray(frame)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    orb = orb_detector(n * detect)
    kps = spread_keypoints(orb.detect(grey, None), frame.width, frame.height, n)
    kps, desc = orb.compute(grey, kps) if kps else ((), None)
    if desc is None or not kps:
        pts = np.zeros((0, 2), np.float32)
        desc = np.zeros((0, 32), np.uint8)
        colours = np.zeros((0, 3), np.uint8)
    else:
        pts = np.array([k.pt for k in kps], dtype=np.float32)
        sizes = np.array([k.size for k in kps], dtype=np.float32)
        colours = _patch_colours(rgb, pts, sizes)
    thumb = cv2.resize(rgb, (THUMB, THUMB), interpolation=cv2.INTER_AREA)
    return Features(frame.width, frame.height, pts, desc, thumb, colours)


def _patch_colours(rgb: np.ndarray, pts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Mean colour of a box around each keypoint, half its size: scale-covariant, so the
    same point of a resized copy averages the same content (an integral image: O(1) each)."""
    h, w = rgb.shape[:2]
    # int32 sums are exact in a feature frame (640 x 640 x 255 < 2^31) and skip a float64
    # copy of the whole integral image (3 ms of each candidate's verification)
    integ = cv2.integral(rgb, sdepth=cv2.CV_32S if h * w * 255 < 2**31 else cv2.CV_64F)
    r = np.maximum(2.0, sizes * PATCH_FRACTION)
    x0 = np.clip(np.round(pts[:, 0] - r), 0, w - 1).astype(int)
    x1 = np.clip(np.round(pts[:, 0] + r) + 1, x0 + 1, w).astype(int)
    y0 = np.clip(np.round(pts[:, 1] - r), 0, h - 1).astype(int)
    y1 = np.clip(np.round(pts[:, 1] + r) + 1, y0 + 1, h).astype(int)
    total = (integ[y1, x1] - integ[y0, x1] - integ[y1, x0] + integ[y0, x0]).astype(np.float64)
    area = ((x1 - x0) * (y1 - y0))[:, None]
    return np.clip(np.round(total / area), 0, 255).astype(np.uint8)


def mirror_frame(frame: Image.Image) -> Image.Image:
    return frame.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def extract_features(src: Source | Image.Image, n: int = N_FEATURES) -> Features:
    """Local features of an image file, bytes or PIL image; ImageError if unreadable."""
    im = src if isinstance(src, Image.Image) else load_image(src, max_side=FEATURE_SIDE)
    return features_of_frame(feature_frame(im), n)


@dataclass(frozen=True, slots=True)
class GeoMatch:
    """Result of matching two feature sets: RANSAC inliers and the a->b similarity transform."""

    inliers: int
    matches: int  # matches that passed the ratio test
    transform: np.ndarray | None  # 2x3, a-frame pixels -> b-frame pixels
    points_a: np.ndarray  # (inliers, 2) inlier coordinates in a's frame
    points_b: np.ndarray
    distance: float = 256.0  # median Hamming distance of the inlier matches (0-256)
    index_a: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    index_b: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


NO_MATCH = GeoMatch(0, 0, None, np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32))


def match_features(fa: Features, fb: Features, ratio: float = RATIO,
                   reproj: float = RANSAC_REPROJ) -> GeoMatch:
    """Nearest neighbours a->b (faiss, exact Hamming), Lowe's ratio test, then RANSAC.

    The transform is a 4-degree similarity (estimateAffinePartial2D): copies are
    scaled, shifted, slightly rotated; a looser model lets unrelated photos collect
    chance inliers. Slight perspective tilts still keep most points within `reproj`.
    """
    if len(fa) < 2 or len(fb) < 2:
        return NO_MATCH
    # Imported here: registration extracts features but never matches them, and faiss
    # costs a new `catalog add` process about 0.08 s of start-up (bench/register.py).
    import faiss

    index = faiss.IndexBinaryFlat(256)
    index.add(fb.descriptors)
    dist, nn = index.search(fa.descriptors, 2)
    ok = dist[:, 0] < ratio * dist[:, 1]
    good = int(ok.sum())
    if good < MIN_RANSAC_MATCHES:
        return GeoMatch(0, good, None, NO_MATCH.points_a, NO_MATCH.points_b)
    src = fa.points[ok]
    dst = fb.points[nn[ok, 0]]
    cv2.setRNGSeed(RANSAC_SEED)  # RANSAC samples at random: same inputs, same answer
    m, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                          ransacReprojThreshold=reproj, maxIters=2000,
                                          confidence=0.995, refineIters=10)
    if m is None or mask is None:
        return GeoMatch(0, good, None, NO_MATCH.points_a, NO_MATCH.points_b)
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    if not MIN_SCALE <= scale <= 1 / MIN_SCALE:
        # A copy is never shrunk or enlarged 8x between feature frames (both are 640
        # px); such a "fit" is chance agreement of a few points.
        return GeoMatch(0, good, None, NO_MATCH.points_a, NO_MATCH.points_b)
    inl = mask.ravel().astype(bool)
    d = float(np.median(dist[ok, 0][inl])) if inl.any() else 256.0
    ia = np.flatnonzero(ok)[inl]
    return GeoMatch(int(inl.sum()), good, m, src[inl], dst[inl], d, ia, nn[ia, 0].astype(np.int64))
