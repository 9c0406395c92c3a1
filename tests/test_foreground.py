"""Product masks of catalog originals, and the dense product check built on them."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from daemon.matching.compare import Analysis, analyse, best_geometry
from daemon.matching.features import feature_frame
from daemon.matching.foreground import MASK_CELLS, is_whole_frame, product_mask
from daemon.matching.verify import product_check
from tests.edits import apply, by_name


@pytest.fixture(scope="module")
def photos(photos_dir: Path) -> list[Path]:
    files = sorted((photos_dir / "clothing").rglob("*.jpg"))
    return random.Random(21).sample(files, 6)


def test_mask_covers_the_product_not_the_frame_edge(photos: list[Path]) -> None:
    for p in photos:
        frame = np.asarray(feature_frame(Image.open(p).convert("RGB")))
        m = product_mask(frame)
        assert m.shape == (MASK_CELLS, MASK_CELLS) and m.dtype == np.uint8
        if is_whole_frame(m):
            continue  # no segmentation: the rule falls back to the whole frame
        share = float((m >= 128).mean())
        assert 0.04 <= share <= 0.92, (p, share)
        # Catalog photos frame the product: the outer ring is backdrop.
        assert m[0].mean() < 128 and m[-1].mean() < 128, p
        # and the product's centre of mass lies well inside the frame
        ys, xs = np.nonzero(m >= 128)
        assert 5 <= ys.mean() <= 27 and 5 <= xs.mean() <= 27, p
    masks = [product_mask(np.asarray(feature_frame(Image.open(p).convert("RGB"))))
             for p in photos]
    assert sum(not is_whole_frame(m) for m in masks) >= 5  # segmentation works on most


def test_plain_image_has_no_product_region() -> None:
    plain = np.full((480, 640, 3), 200, np.uint8)
    assert is_whole_frame(product_mask(plain))
    assert is_whole_frame(None)


def test_mask_is_stored_once_and_mirrored(photos: list[Path]) -> None:
    a = analyse(photos[0])
    assert a.features.mask is not None and a.features_mirror is not None
    assert np.array_equal(a.features_mirror.mask, a.features.mask[:, ::-1])
    back = Analysis.from_stored(a.fingerprint.to_bytes(), a.features_bytes())
    assert np.array_equal(back.features.mask, a.features.mask)
    assert np.array_equal(back.features_mirror.mask, a.features_mirror.mask)
    # The mask adds 1 KB, stored once (the mirrored side's is the straight one flipped).
    plain = analyse(photos[0], product=False)
    assert plain.features.mask is None
    assert len(a.features_bytes()) - len(plain.features_bytes()) == MASK_CELLS * MASK_CELLS


def test_product_check_sees_callouts_as_occlusion_and_cutouts_as_agreement(
        photos: list[Path]) -> None:
    ims = [Image.open(p).convert("RGB") for p in photos]
    seen = {"cutout_white": [], "infographic_callouts": []}
    for i, im in enumerate(ims[:4]):
        a = analyse(photos[i])
        if is_whole_frame(a.features.mask):
            continue
        for name in seen:
            b = analyse(apply(by_name(name), im, seed=i, others=ims[4:]), product=False)
            _, fa, fb, geo = best_geometry(a, b)
            pc = product_check(fa, fb, geo)
            assert pc is not None
            seen[name].append(pc)
            # the white that replaced the backdrop is not judged; the product agrees
            assert pc.on_product >= 0.15, (name, photos[i], pc)
    assert seen["cutout_white"] and seen["infographic_callouts"]
    assert all(pc.agree >= 0.8 for pc in seen["cutout_white"]), seen["cutout_white"]
    assert all(pc.agree >= 0.6 for pc in seen["infographic_callouts"])
    # Without a mask (a competitor image on the a side) there is no product check.
    b = analyse(photos[0], product=False)
    _, fb, fa, geo = best_geometry(b, analyse(photos[0], product=False))
    assert product_check(fb, fa, geo) is None
