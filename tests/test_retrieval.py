"""Catalog retrieval (matching.retrieval) past the exact-search size: the trained IVF index."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from PIL import Image

from daemon.matching.compare import Analysis, analyse, compare
from daemon.matching.retrieval import IVF_FROM, CatalogMatcher, DescriptorIndex
from tests.edits import apply, by_name

# Enough real photos that their descriptors pass IVF_FROM (about 1,000 a photo).
CATALOG = 34


@pytest.fixture(scope="module")
def photos(photos_dir: Path) -> list[Path]:
    files = sorted((photos_dir / "clothing-train").rglob("*.jpg"))
    return random.Random(5).sample(files, CATALOG + 2)


@pytest.fixture(scope="module")
def catalog(photos: list[Path]) -> list[Analysis]:
    return [analyse(p, mirror=False) for p in photos[:CATALOG]]


def test_descriptor_index_switches_to_ivf_and_keeps_votes_right(catalog: list[Analysis]) -> None:
    index = DescriptorIndex()
    for pid, a in enumerate(catalog, start=1):
        index.add(pid, a.features.descriptors)
    assert index.count > IVF_FROM and not index.approximate
    # The photo's own descriptors vote for it, through the IVF trained on first use.
    votes = index.votes(catalog[3].features.descriptors)
    assert index.approximate
    assert max(votes, key=votes.get) == 4 and votes[4] > 0.5 * len(catalog[3].features)
    index.remove(4)
    assert 4 not in index.votes(catalog[3].features.descriptors)
    index.add(4, catalog[3].features.descriptors)  # added straight into the trained lists
    votes = index.votes(catalog[3].features.descriptors)
    assert max(votes, key=votes.get) == 4


def test_large_catalog_finds_hard_copies_and_not_outsiders(
        photos: list[Path], catalog: list[Analysis]) -> None:
    cat = CatalogMatcher()
    for pid, a in enumerate(catalog, start=1):
        cat.add(pid, a)
    outsiders = [Image.open(p).convert("RGB") for p in photos[CATALOG:]]
    for i, edit in enumerate(["crop_15_20_centred", "flip_crop_watermark_jpeg40",
                              "listing_screenshot", "jpeg_q30"]):
        original = Image.open(photos[i]).convert("RGB")
        copy = analyse(apply(by_name(edit), original, seed=4, others=outsiders))
        hits = cat.query(copy)
        assert hits and hits[0][0] == i + 1 and hits[0][1].kind == "copy", (edit, hits)
    for p in photos[CATALOG:]:
        assert cat.query(analyse(p)) == []


def test_compare_in_one_orientation(photos: list[Path], catalog: list[Analysis]) -> None:
    original = Image.open(photos[0]).convert("RGB")
    flipped = analyse(apply(by_name("flip_crop_watermark_jpeg40"), original, seed=2))
    both = compare(catalog[0], flipped)
    assert both.kind == "copy" and both.details["features_mirrored"] is True
    assert compare(catalog[0], flipped, mirrored=True).kind == "copy"
    straight = compare(catalog[0], flipped, mirrored=False)
    assert straight.details["features_mirrored"] is False
    assert straight.details["inliers"] < both.details["inliers"]


def test_trained_index_is_saved_and_reused_after_a_restart(
        catalog: list[Analysis], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "catalog-index.npz"
    first = DescriptorIndex(cache)
    for pid, a in enumerate(catalog, start=1):
        first.add(pid, a.features.descriptors)
    first.votes(catalog[0].features.descriptors)
    assert first.approximate and cache.exists()

    # A restart with one photo gone, one added and one changed since the save.
    def no_training(self: DescriptorIndex) -> None:
        raise AssertionError("the saved index should have been reused")

    monkeypatch.setattr(DescriptorIndex, "_rebuild", no_training)
    second = DescriptorIndex(cache)
    last = len(catalog)
    for pid, a in enumerate(catalog, start=1):
        if pid in (2, last):
            continue  # removed
        # Photo 3 now holds what the last photo held (its file was replaced).
        second.add(pid, catalog[-1].features.descriptors if pid == 3 else a.features.descriptors)
    second.add(99, catalog[1].features.descriptors)  # photo 2's content under a new id
    votes = second.votes(catalog[1].features.descriptors)
    assert second.approximate
    assert max(votes, key=votes.get) == 99 and 2 not in votes
    votes = second.votes(catalog[-1].features.descriptors)
    assert max(votes, key=votes.get) == 3 and last not in votes
    votes = second.votes(catalog[2].features.descriptors)
    assert votes.get(3, 0) < 0.1 * len(catalog[2].features)


def test_damaged_saved_index_is_retrained(catalog: list[Analysis], tmp_path: Path) -> None:
    cache = tmp_path / "catalog-index.npz"
    cache.write_bytes(b"not an index")
    index = DescriptorIndex(cache)
    for pid, a in enumerate(catalog, start=1):
        index.add(pid, a.features.descriptors)
    votes = index.votes(catalog[5].features.descriptors)
    assert index.approximate and max(votes, key=votes.get) == 6
    assert cache.stat().st_size > 1000  # replaced by the freshly trained one
