"""The competitor index on real photos and their edited copies: candidates as a brute-force
vote count gives them, the pairwise rule's findings, persistence and version changes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import daemon.matching.competitor_index as ci
from daemon.matching.compare import Analysis, analyse, compare
from daemon.matching.competitor_verify import verify
from daemon.matching.imageio import make_thumbnail
from tests.edits import EDITS, apply

EDIT_NAMES = ("jpeg_q50", "crop_15_20_offcentre", "flip", "collage_2x2", "banner_quarter")


@pytest.fixture(scope="module")
def world(photos_dir):
    """12 originals (analysed as catalog photos), their edited copies and 12 other photos as
    competitor images: (originals, rows {id, thumb, data, sha256}, analyses by id)."""
    files = sorted((photos_dir / "clothing").rglob("*.jpg"))
    originals, others = files[:8:2], files[1:40:5]
    rows, analyses = [], {}
    edits = [e for e in EDITS if e.name in EDIT_NAMES]
    sources = [(o, e) for o in originals for e in edits] + [(p, None) for p in others]
    for image_id, (path, edit) in enumerate(sources, start=1):
        im = Image.open(path).convert("RGB")
        if edit is None:
            data = path.read_bytes()
        else:
            tiles = [Image.open(p).convert("RGB") for p in others[:3]]
            data = apply(edit, im, seed=image_id, others=tiles)
        a = analyse(data, mirror=False)
        analyses[image_id] = a
        rows.append({"id": image_id, "thumb": make_thumbnail(Image.open(io.BytesIO(data))),
                     "data": a.fingerprint.to_bytes(), "sha256": a.sha256})
    return [analyse(o) for o in originals], rows, analyses


def _fill(index, analyses):
    for image_id, a in analyses.items():
        index.add(image_id, a.fingerprint.phash, a.features.descriptors)


def _words(desc: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(desc).view(np.uint64)  # (n, 4): 256 bits


def _brute_force(query: Analysis, analyses: dict[int, Analysis]) -> dict[int, tuple[int, int]]:
    """Votes by definition, computed over every stored descriptor: an image gets a query
    descriptor's vote when one of its first KEEP descriptors is among that descriptor's
    VOTE_NEIGHBOURS nearest, within VOTE_DISTANCE bits. Ties at the k-th distance may go
    either way, so (fewest, most) votes per image, best orientation."""
    ids = np.concatenate([np.full(len(a.features.descriptors[: ci.KEEP]), i)
                          for i, a in analyses.items()])
    stored = np.concatenate([_words(a.features.descriptors[: ci.KEEP]) for a in analyses.values()])
    best: dict[int, tuple[int, int]] = {}
    for f in (query.features, query.features_mirror):
        q = _words(f.descriptors[: ci.QUERY_DESCRIPTORS])
        dist = np.bitwise_count(q[:, None, :] ^ stored[None, :, :]).sum(axis=2)
        kth = np.sort(dist, axis=1)[:, ci.VOTE_NEIGHBOURS - 1][:, None]
        sure = (dist < kth) & (dist <= ci.VOTE_DISTANCE)
        maybe = (dist <= kth) & (dist <= ci.VOTE_DISTANCE)
        for image_id in analyses:
            cols = ids == image_id
            lo, hi = int(sure[:, cols].any(axis=1).sum()), int(maybe[:, cols].any(axis=1).sum())
            old = best.get(image_id, (0, 0))
            best[image_id] = (max(old[0], lo), max(old[1], hi))
    return best


def test_candidates_are_the_brute_force_vote_count(world) -> None:
    originals, _, analyses = world
    index = ci.CompetitorIndex(None)
    _fill(index, analyses)
    assert not index.approximate  # small: exact search
    for q in originals[:3]:
        votes = _brute_force(q, analyses)
        voted = [c for c in index.candidates(q) if not c.near]
        assert voted, "an original's copies are voted for"
        for c in voted:
            assert votes[c.image_id][0] <= c.votes <= votes[c.image_id][1]
        weakest = min(c.votes for c in voted)
        chosen = {c.image_id for c in index.candidates(q)}
        assert all(i in chosen for i, (lo, _) in votes.items()
                   if lo > weakest and lo >= ci.MIN_VOTES)


def test_index_finds_what_the_pairwise_rule_finds(world) -> None:
    originals, rows, analyses = world
    index = ci.CompetitorIndex(None)
    _fill(index, analyses)
    by_id = {r["id"]: r for r in rows}
    for q in originals:
        pairwise = {r["id"] for r in rows if compare(q, Analysis.from_thumbnail(
            r["thumb"], r["data"], r["sha256"])).kind == "copy"}
        cands = [by_id[c.image_id] for c in index.candidates(q)]
        via_index = {i for i, res in verify(q, cands) if res.kind == "copy"}
        assert pairwise, "every original has copies among the rows"
        assert via_index == pairwise


def test_saved_index_is_reused_after_a_restart(world, tmp_path, monkeypatch) -> None:
    originals, _, analyses = world
    monkeypatch.setattr(ci, "TRAIN_FROM", 3000)  # train the inverted file on this small set
    monkeypatch.setattr(ci, "NLIST", 16)
    monkeypatch.setattr(ci, "SNAPSHOT_MIN", 10)
    first = ci.CompetitorIndex(tmp_path / "idx")
    _fill(first, analyses)
    assert first.approximate
    before = [first.candidates(q) for q in originals]
    first.close()
    assert (tmp_path / "idx" / "ivf.json").exists()
    again = ci.CompetitorIndex(tmp_path / "idx")
    assert len(again) == len(analyses) and again.approximate
    assert [again.candidates(q) for q in originals] == before
    # one more image after the restart: appended, then replayed after the next restart
    extra = analyses[1]
    again.add(10_000, extra.fingerprint.phash, extra.features.descriptors)
    third = ci.CompetitorIndex(tmp_path / "idx")
    assert 10_000 in third and 10_000 in {c.image_id for c in third.candidates(originals[0])}


def test_a_version_change_empties_the_index(world, tmp_path) -> None:
    _, _, analyses = world
    old = ci.CompetitorIndex(tmp_path / "idx", version=1)
    _fill(old, dict(list(analyses.items())[:5]))
    new = ci.CompetitorIndex(tmp_path / "idx", version=2)
    assert len(new) == 0 and new.reset_on_load
    assert new.missing([1, 2, 3]) == [1, 2, 3]
