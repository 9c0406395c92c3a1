"""Fingerprints of real photos: stable under re-encoding and resizing, far apart otherwise."""

from __future__ import annotations

import io
import random
from pathlib import Path

import imagehash
import pytest
from PIL import Image

from daemon.matching.fingerprint import (
    FINGERPRINT_VERSION,
    Fingerprint,
    compute_fingerprint,
    hamming64,
    hamming_bytes,
)
from daemon.matching.imageio import load_image


def _jpeg(im: Image.Image, q: int = 90) -> bytes:
    out = io.BytesIO()
    im.convert("RGB").save(out, "JPEG", quality=q)
    return out.getvalue()


@pytest.fixture(scope="module")
def photos(photos_dir: Path) -> list[Path]:
    files = sorted((photos_dir / "clothing").rglob("*.jpg"))
    return random.Random(4).sample(files, 24)


def test_blob_round_trip_and_compact(photos: list[Path]) -> None:
    fp = compute_fingerprint(photos[0])
    assert isinstance(fp.phash, int) and isinstance(fp.pdq, bytes) and len(fp.pdq) == 32
    blob = fp.to_bytes()
    assert len(blob) < 1000
    assert Fingerprint.from_bytes(blob) == fp
    assert blob[0] == FINGERPRINT_VERSION
    with pytest.raises(ValueError):
        Fingerprint.from_bytes(blob[:-1])


def test_path_and_bytes_give_the_same_fingerprint(photos: list[Path]) -> None:
    assert compute_fingerprint(photos[1]) == compute_fingerprint(photos[1].read_bytes())


def test_phash_agrees_with_imagehash_on_the_plain_image(photos: list[Path]) -> None:
    # Our pHash is imagehash's pHash, computed on the normalised (<=512 px) image.
    im = load_image(photos[2], trim=True)
    assert compute_fingerprint(im).phash == int(str(imagehash.phash(im)), 16)


def test_reencoded_and_half_size_copies_stay_close(photos: list[Path]) -> None:
    for p in photos:
        fp = compute_fingerprint(p)
        im = Image.open(p).convert("RGB")
        for copy in (_jpeg(im, 50), _jpeg(im.resize((im.width // 2, im.height // 2)))):
            c = compute_fingerprint(copy)
            assert hamming64(fp.phash, c.phash) <= 6, p
            assert hamming64(fp.dhash, c.dhash) <= 8, p
            assert hamming_bytes(fp.pdq, c.pdq) <= 50, p


def test_mirrored_hashes_match_a_flipped_copy(photos: list[Path]) -> None:
    for p in photos[:8]:
        fp = compute_fingerprint(p)
        mirror = Image.open(p).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        flipped = compute_fingerprint(_jpeg(mirror))
        assert hamming64(fp.phash_mirror, flipped.phash) <= 6
        assert hamming_bytes(fp.pdq_mirror, flipped.pdq) <= 50


def test_margins_are_trimmed_before_hashing(photos: list[Path]) -> None:
    for p in photos[:8]:
        im = Image.open(p).convert("RGB")
        padded = Image.new("RGB", (max(im.size) + 80,) * 2, (255, 255, 255))
        padded.paste(im, ((padded.width - im.width) // 2, (padded.height - im.height) // 2))
        padded_fp = compute_fingerprint(_jpeg(padded))
        assert hamming64(compute_fingerprint(im).phash, padded_fp.phash) <= 8


def test_different_photos_are_far_apart(photos: list[Path]) -> None:
    fps = [compute_fingerprint(p) for p in photos]
    for i in range(len(fps)):
        for j in range(i + 1, len(fps)):
            assert hamming64(fps[i].phash, fps[j].phash) > 10
            assert hamming_bytes(fps[i].pdq, fps[j].pdq) > 70


def test_pdq_quality_is_reported(photos: list[Path]) -> None:
    assert compute_fingerprint(photos[3]).pdq_quality > 50
    flat = compute_fingerprint(Image.new("RGB", (200, 200), (120, 120, 120)))
    assert flat.pdq_quality < 50
