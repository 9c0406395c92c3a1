"""Where the product is: a foreground mask of a catalog original, computed once at analysis.

A copier who cuts the product out onto white, pastes it on another scene or covers
part of it with callout boxes keeps the product and throws the backdrop away; the
compare rule (daemon.matching.compare) judges the product region with this mask, and
a copy claim needs the product itself to agree (not a shared backdrop).

GrabCut (OpenCV, no model) on the feature frame squashed to MASK_WORK x MASK_WORK,
seeded with the outer ring as background; the result is averaged into a
MASK_CELLS x MASK_CELLS grid aligned with Features.thumb (one value 0-255 per cell:
the share of the cell that is product).
"""

from __future__ import annotations

import cv2
import numpy as np

# Side the frame is squashed to for GrabCut (cost grows with the pixel count: 80 px is
# about 15 ms on one core, 128 px 40 ms) and the stored grid (= features.THUMB).
MASK_WORK = 80
MASK_CELLS = 32
# Outer ring taken as certain background (share of the side): products are framed
# with some backdrop around them in catalog photos.
RING = 0.04
ITERATIONS = 3
# A mask covering less than this share of the frame, or more, is no segmentation
# (a plain product shot filling the frame, or GrabCut losing the object): the whole
# frame is then the product, which is the rule without a mask.
# Under 10% it is usually a part of the product (the dark display of a white appliance
# on a cream backdrop): judging only that part would let colour variants through.
MIN_SHARE, MAX_SHARE = 0.10, 0.92


def product_mask(rgb: np.ndarray) -> np.ndarray:
    """(MASK_CELLS, MASK_CELLS) uint8, share of each cell that is product (255 = all).

    rgb is the feature frame (H, W, 3) uint8. Deterministic (OpenCV's RNG is seeded).
    """
    small = cv2.resize(rgb, (MASK_WORK, MASK_WORK), interpolation=cv2.INTER_AREA)
    bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
    r = max(1, round(MASK_WORK * RING))
    seed = np.full((MASK_WORK, MASK_WORK), cv2.GC_PR_FGD, np.uint8)
    seed[:r], seed[-r:], seed[:, :r], seed[:, -r:] = (cv2.GC_BGD,) * 4
    # Pixels that look like the ring (close to its median colour) start as probable
    # background: plain studio backdrops then converge in fewer iterations.
    ring = np.concatenate([small[:r].reshape(-1, 3), small[-r:].reshape(-1, 3),
                           small[:, :r].reshape(-1, 3), small[:, -r:].reshape(-1, 3)])
    near = np.abs(small.astype(np.int16) - np.median(ring, axis=0)).max(axis=2) < 12
    seed[(seed == cv2.GC_PR_FGD) & near] = cv2.GC_PR_BGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(4321)
    try:
        cv2.grabCut(bgr, seed, None, bgd, fgd, ITERATIONS, cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # a frame of one colour: GrabCut cannot model two classes
        return np.full((MASK_CELLS, MASK_CELLS), 255, np.uint8)
    fg = np.isin(seed, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    # The product is one object: keep the largest component and fill its holes.
    n, lab, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if n > 1:
        fg = (lab == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)
    flood = np.pad(1 - fg, 1, constant_values=1)
    cv2.floodFill(flood, None, (0, 0), 2)
    fg = (flood[1:-1, 1:-1] != 2).astype(np.float32)
    if not MIN_SHARE <= fg.mean() <= MAX_SHARE:
        return np.full((MASK_CELLS, MASK_CELLS), 255, np.uint8)
    cells = cv2.resize(fg, (MASK_CELLS, MASK_CELLS), interpolation=cv2.INTER_AREA)
    return np.clip(np.round(cells * 255), 0, 255).astype(np.uint8)


def is_whole_frame(mask: np.ndarray | None) -> bool:
    """True when there is no mask or it is the whole-frame fallback (no product region)."""
    return mask is None or bool((mask >= 128).all())
