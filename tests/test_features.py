"""Local features: compact storage, and geometric matching on real photos and their crops."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from daemon.matching.features import Features, extract_features, feature_frame, match_features
from daemon.matching.imageio import load_image
from tests.edits import apply, by_name


@pytest.fixture(scope="module")
def photo(photos_dir: Path) -> Image.Image:
    return Image.open(sorted((photos_dir / "clothing" / "shoes").glob("*.jpg"))[3]).convert("RGB")


def _jpeg(im: Image.Image, q: int = 85) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", quality=q)
    return out.getvalue()


def test_round_trip_is_compact(photo: Image.Image) -> None:
    f = extract_features(photo)
    assert 300 <= len(f) <= 1000
    blob = f.to_bytes()
    assert len(blob) < 40 * len(f) + 4000  # ~36 bytes a keypoint + the colour thumbnail
    g = Features.from_bytes(blob)
    assert (g.width, g.height) == (f.width, f.height)
    assert np.array_equal(g.descriptors, f.descriptors)
    assert np.abs(g.points - f.points).max() <= 1 / 16
    with pytest.raises(ValueError):
        Features.from_bytes(blob[:-5])


def test_keypoints_are_spread_over_the_frame(photo: Image.Image) -> None:
    # A text watermark must not take all the keypoints: compared with plain ORB's
    # strongest 1000, ours leave more on the photo and fewer on the text band.
    marked = apply(by_name("watermark"), photo, seed=0)
    f = extract_features(marked)
    frame = np.asarray(feature_frame(load_image(marked, max_side=640)).convert("L"))
    plain = cv2.ORB_create(nfeatures=1000).detect(frame, None)

    def cells(points) -> int:
        return len({(int(x * 8 / f.width), int(y * 8 / f.height)) for x, y in points})

    assert cells(f.points) > cells([k.pt for k in plain])


def test_crop_matches_with_a_consistent_transform(photo: Image.Image) -> None:
    w, h = photo.size
    crop = photo.crop((int(w * 0.15), int(h * 0.1), int(w * 0.95), int(h * 0.8)))
    fa, fb = extract_features(photo), extract_features(_jpeg(crop, 60))
    geo = match_features(fa, fb)
    assert geo.inliers >= 60
    # b's frame is the crop scaled to 640 px: the transform's scale must say so.
    expected = fb.width / crop.width * (photo.width / fa.width)
    scale = float(np.sqrt(abs(np.linalg.det(geo.transform[:, :2]))))
    assert abs(scale / expected - 1) < 0.05


def test_different_photos_do_not_match(photos_dir: Path, photo: Image.Image) -> None:
    fa = extract_features(photo)
    others = sorted((photos_dir / "clothing" / "pants").glob("*.jpg"))[:6]
    for p in others:
        assert match_features(fa, extract_features(p)).inliers < 15
