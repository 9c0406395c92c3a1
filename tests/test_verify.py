"""verify.part_motion: one picture moved as one, or its parts moved apart (a re-shoot)."""

from __future__ import annotations

import numpy as np

from daemon.matching.compare import MAX_PART_MOTION, PART_MOTION_F
from daemon.matching.features import GeoMatch
from daemon.matching.verify import part_motion


def _geo(pa: np.ndarray, pb: np.ndarray) -> GeoMatch:
    return GeoMatch(len(pa), len(pa), np.eye(2, 3), pa.astype(np.float32), pb.astype(np.float32))


def _moved(n: int, seed: int, apart: float) -> tuple[np.ndarray, np.ndarray]:
    """n points on a pair of sandals side by side, scaled 0.8, turned 5 degrees and shifted,
    with 1.2 px of noise; those right of the middle moved `apart` px further (the second
    sandal laid down again)."""
    rng = np.random.default_rng(seed)
    pa = np.concatenate([rng.uniform((0, 200), (300, 440), (n // 2, 2)),
                         rng.uniform((340, 200), (640, 440), (n - n // 2, 2))])
    t = np.deg2rad(5)
    rot = 0.8 * np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    pb = pa @ rot.T + [40, -25] + rng.normal(0, 1.2, (n, 2))
    pb[pa[:, 0] > 320] += [apart * 0.6, apart * 0.8]
    return pa, pb


def test_one_picture_edited_moves_as_one() -> None:
    for seed in range(20):
        for n in (16, 40, 120):
            ratio, f = part_motion(_geo(*_moved(n, seed, 0.0)))
            assert ratio <= MAX_PART_MOTION or f <= PART_MOTION_F, (seed, n, ratio, f)


def test_parts_moved_apart_are_told() -> None:
    for seed in range(5):
        ratio, f = part_motion(_geo(*_moved(45, seed, 8.0)))
        assert ratio > MAX_PART_MOTION and f > PART_MOTION_F, (seed, ratio, f)


def test_too_few_inliers_say_nothing() -> None:
    assert part_motion(_geo(*_moved(8, 0, 6.0))) == (0.0, 0.0)
