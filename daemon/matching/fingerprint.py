"""Global perceptual fingerprints (pHash, dHash, PDQ, plus mirrored) of one image.

They find near-exact copies (recompressed, resized, recoloured, lightly marked) in
microseconds; crops, collages and the like are left to daemon.matching.features.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import imagehash
import numpy as np
import pdqhash
from PIL import Image

from daemon.matching.imageio import Source, load_image, trim_margins

# Bump when anything below changes the bits, so stored fingerprints get recomputed.
# 2: hashed after an integer box reduction to at most HASH_SIDE (was a bilinear resize
# to exactly HASH_SIDE).
FINGERPRINT_VERSION = 2
# Fingerprints are computed on the image reduced to at most this size (a JPEG is
# decoded there directly, by draft).
HASH_SIDE = 512
# Side of the small colour grid kept for the colour check (16x16 RGB = 768 bytes).
GRID = 16

_HEAD = struct.Struct("<BQQQQ32s32sBHH")
# Size of Fingerprint.to_bytes() (fixed).
FINGERPRINT_BYTES = _HEAD.size + GRID * GRID * 3


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """Compact global fingerprint; `*_mirror` are of the horizontally flipped image.

    phash/dhash are 64-bit ints (imagehash bit order), pdq 32 bytes (256 bits),
    grid a GRID x GRID x 3 uint8 colour thumbnail of the trimmed image, width/height
    the trimmed content size at HASH_SIDE scale.
    """

    phash: int
    dhash: int
    pdq: bytes
    pdq_quality: int
    phash_mirror: int
    dhash_mirror: int
    pdq_mirror: bytes
    width: int
    height: int
    grid: bytes

    def to_bytes(self) -> bytes:
        """One blob for storage (about 870 bytes)."""
        head = _HEAD.pack(
            FINGERPRINT_VERSION, self.phash, self.dhash, self.phash_mirror, self.dhash_mirror,
            self.pdq, self.pdq_mirror, self.pdq_quality, self.width, self.height,
        )
        return head + self.grid

    @classmethod
    def from_bytes(cls, blob: bytes) -> Fingerprint:
        """Inverse of to_bytes; ValueError for a blob of another version or size."""
        if len(blob) != FINGERPRINT_BYTES:
            raise ValueError(f"fingerprint blob has {len(blob)} bytes, not a version-"
                             f"{FINGERPRINT_VERSION} fingerprint; recompute it")
        v, ph, dh, phm, dhm, pdq, pdqm, q, w, h = _HEAD.unpack_from(blob)
        if v != FINGERPRINT_VERSION:
            raise ValueError(
                f"fingerprint version {v}, expected {FINGERPRINT_VERSION}; recompute it")
        return cls(ph, dh, pdq, q, phm, dhm, pdqm, w, h, bytes(blob[_HEAD.size:]))

    def grid_array(self, mirror: bool = False) -> np.ndarray:
        """The colour grid as a (GRID, GRID, 3) uint8 array (flipped when mirror)."""
        g = np.frombuffer(self.grid, dtype=np.uint8).reshape(GRID, GRID, 3)
        return g[:, ::-1] if mirror else g


def preload() -> None:
    """Import the DCT imagehash.phash imports on its first call (scipy.fft, about 0.4 s).

    Run in a background thread when a batch starts, it overlaps that import with the
    first photos' decoding and ORB, which release the GIL; called lazily, it stalls every
    worker on the import lock instead (bench/register.py).
    """
    import scipy.fftpack  # noqa: F401


def _bits_to_int(bits: np.ndarray) -> int:
    return int.from_bytes(np.packbits(bits.astype(bool).ravel()).tobytes(), "big")


def _pdq(arr: np.ndarray) -> tuple[bytes, int]:
    h, q = pdqhash.compute(np.ascontiguousarray(arr))
    return np.packbits(h.astype(bool)).tobytes(), int(q)


def fingerprint_image(im: Image.Image) -> Fingerprint:
    """Fingerprint of an already-loaded RGB image (trimmed and shrunk here)."""
    if max(im.size) > HASH_SIDE:
        # An integer box reduction costs a fraction of a resize (0.5 vs 4 ms from the
        # 640 px frame), and the hashes only look at 64x64 (PDQ) or less.
        im = im.reduce(-(-max(im.size) // HASH_SIDE))
    im = trim_margins(im)
    mirror = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    arr = np.asarray(im)
    pdq, quality = _pdq(arr)
    pdq_m, _ = _pdq(arr[:, ::-1])
    grid = np.asarray(im.resize((GRID, GRID), Image.Resampling.BOX), dtype=np.uint8)
    return Fingerprint(
        phash=_bits_to_int(imagehash.phash(im).hash),
        dhash=_bits_to_int(imagehash.dhash(im).hash),
        pdq=pdq,
        pdq_quality=quality,
        phash_mirror=_bits_to_int(imagehash.phash(mirror).hash),
        dhash_mirror=_bits_to_int(imagehash.dhash(mirror).hash),
        pdq_mirror=pdq_m,
        width=im.width,
        height=im.height,
        grid=grid.tobytes(),
    )


def compute_fingerprint(src: Source | Image.Image) -> Fingerprint:
    """Fingerprint of an image file, bytes or PIL image; ImageError if unreadable."""
    im = src if isinstance(src, Image.Image) else load_image(src, max_side=HASH_SIDE, coarse=True)
    return fingerprint_image(im)


def hamming64(a: int, b: int) -> int:
    """Bits that differ between two 64-bit hashes."""
    return (a ^ b).bit_count()


def hamming_bytes(a: bytes, b: bytes) -> int:
    """Bits that differ between two equal-length hashes (PDQ)."""
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


def hash_distances(a: Fingerprint, b: Fingerprint) -> dict[str, int | bool]:
    """pHash/dHash/PDQ distances, straight and mirrored; `mirrored` when the flip is closer."""
    straight = (hamming64(a.phash, b.phash), hamming64(a.dhash, b.dhash),
                hamming_bytes(a.pdq, b.pdq))
    flipped = (hamming64(a.phash_mirror, b.phash), hamming64(a.dhash_mirror, b.dhash),
               hamming_bytes(a.pdq_mirror, b.pdq))
    mirrored = sum(flipped) < sum(straight)
    ph, dh, pdq = flipped if mirrored else straight
    return {"phash": ph, "dhash": dh, "pdq": pdq, "mirrored": mirrored}
