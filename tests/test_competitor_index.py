"""The competitor index on real photos and their edited copies: the descriptors an image is
indexed with, candidates as a brute-force vote count gives them, the pairwise rule's
findings, persistence (descriptors on disk once, crash and loss recovery) and version
changes."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest
from PIL import Image

import daemon.matching.competitor_index as ci
from daemon.matching import competitor_files
from daemon.matching.compare import Analysis, analyse, compare
from daemon.matching.competitor_shortlist import (
    GEO_MIN_INLIERS,
    STRONG_INLIERS,
    WEAK_BUDGET,
    Votes,
    geometric_inliers,
    pack_points,
    shortlist,
    unpack_points,
)
from daemon.matching.competitor_verify import (
    COARSE_OCTAVE,
    COARSE_SHARE,
    index_descriptors,
    index_entry,
    verify,
)
from daemon.matching.features import QUERY_DETECT_FACTOR, feature_frame, features_of_frame
from daemon.matching.imageio import load_image, make_thumbnail
from tests.edits import EDITS, apply

EDIT_NAMES = ("jpeg_q50", "crop_15_20_offcentre", "flip", "collage_2x2", "banner_quarter")


@pytest.fixture(scope="module")
def world(photos_dir):
    """4 originals (analysed as catalog photos), 5 edited copies of each and 8 other photos as
    competitor images: (originals, rows {id, thumb, data, sha256}, index entries by id:
    (pHash, descriptors, positions) made from the thumbnail, as the daemon indexes them)."""
    files = sorted((photos_dir / "clothing").rglob("*.jpg"))
    originals, others = files[:8:2], files[1:40:5]
    rows, entries = [], {}
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
        row = {"id": image_id, "thumb": make_thumbnail(Image.open(io.BytesIO(data))),
               "data": a.fingerprint.to_bytes(), "sha256": a.sha256}
        rows.append(row)
        entries[image_id] = index_entry(row)
    return [analyse(o) for o in originals], rows, entries


def _fill(index, entries):
    for image_id, entry in entries.items():
        index.add(image_id, *entry)


def _words(desc: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(desc).view(np.uint64)  # (n, 4): 256 bits


def _brute_force(query: Analysis, entries: dict[int, tuple]) -> dict[tuple[int, bool], tuple]:
    """Votes by definition, computed over every stored descriptor: an image gets a query
    descriptor's vote when one of its first KEEP descriptors is among that descriptor's
    VOTE_NEIGHBOURS nearest, within VOTE_DISTANCE bits. Ties at the k-th distance may go
    either way, so (fewest, most) votes per (image, mirrored)."""
    ids = np.concatenate([np.full(len(d[: ci.KEEP]), i) for i, (_, d, _) in entries.items()])
    stored = np.concatenate([_words(d[: ci.KEEP]) for _, d, _ in entries.values()])
    best: dict[tuple[int, bool], tuple[int, int]] = {}
    for f, mirrored in ((query.features, False), (query.features_mirror, True)):
        q = _words(f.descriptors[: ci.MIRROR_QUERY_DESCRIPTORS if mirrored
                                 else ci.QUERY_DESCRIPTORS])
        dist = np.bitwise_count(q[:, None, :] ^ stored[None, :, :]).sum(axis=2)
        kth = np.sort(dist, axis=1)[:, ci.VOTE_NEIGHBOURS - 1][:, None]
        sure = (dist < kth) & (dist <= ci.VOTE_DISTANCE)
        maybe = (dist <= kth) & (dist <= ci.VOTE_DISTANCE)
        for image_id in entries:
            cols = ids == image_id
            lo, hi = int(sure[:, cols].any(axis=1).sum()), int(maybe[:, cols].any(axis=1).sum())
            best[image_id, mirrored] = (lo, hi)
    return best


def test_candidates_are_the_brute_force_vote_count(world) -> None:
    originals, _, entries = world
    index = ci.CompetitorIndex(None)
    _fill(index, entries)
    assert not index.approximate  # small: exact search
    for q in originals[:3]:
        votes = _brute_force(q, entries)
        voted = [c for c in index.candidates(q) if not c.near]
        assert voted, "an original's copies are voted for"
        for c in voted:
            assert votes[c.image_id, c.mirrored][0] <= c.votes <= votes[c.image_id, c.mirrored][1]
            assert c.inliers >= GEO_MIN_INLIERS  # only images whose votes agree on a geometry
        # most agreeing first
        assert [c.inliers for c in voted] == sorted((c.inliers for c in voted), reverse=True)


def test_geometry_of_the_votes_separates_a_copy_from_chance() -> None:
    rng = np.random.default_rng(3)
    image = rng.uniform(0, 640, (60, 2)).astype(np.float32)
    # a crop enlarged 1.4x, shifted and turned 4 degrees, with 20 votes gone astray
    a = np.deg2rad(4)
    rot = 1.4 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    query = image @ rot.T + np.array([-120.0, -80.0])
    query[40:] = rng.uniform(0, 640, (20, 2))
    slots = np.arange(60)
    packed = unpack_points(pack_points(image))  # as the index stores positions
    assert geometric_inliers(query, packed, slots) >= 38
    # the same number of votes with no common geometry
    assert geometric_inliers(rng.uniform(0, 640, (60, 2)), packed, slots) < GEO_MIN_INLIERS
    # one stored corner voted for by many query corners (a repeated texture) counts once
    assert geometric_inliers(query[:30], packed[np.zeros(30, int)], np.zeros(30, int)) <= 1


def test_every_strong_candidate_and_only_the_best_weak_ones_are_verified() -> None:
    """A photo drawing many chance agreements (6-11 keypoints) verifies WEAK_BUDGET of
    them, best first, and never drops one that agrees strongly."""
    rng = np.random.default_rng(5)
    query = rng.uniform(20, 620, (400, 2)).astype(np.float32)
    agreeing = {1: 30, 2: STRONG_INLIERS, **{10 + k: 6 + k % 5 for k in range(20)}}
    q, img, slot, points = [], [], [], {}
    for image_id, n in agreeing.items():
        pick = rng.choice(len(query), 40, replace=False)
        stored = rng.uniform(0, 640, (40, 2)).astype(np.float32)
        stored[:n] = query[pick[:n]] * 0.8 + 30  # n votes agree on one similarity
        q += pick.tolist()
        img += [image_id] * 40
        slot += list(range(40))
        points[image_id] = pack_points(stored)
    votes = Votes(np.array(q), np.array(img), np.array(slot))
    got = shortlist(set(), [(votes, query, False)], points)
    ids = [c.image_id for c in got]
    assert ids[:2] == [1, 2]
    weak = got[2:]
    assert len(weak) == WEAK_BUDGET
    assert all(c.inliers < STRONG_INLIERS for c in weak)
    # the best of the weak ones: none left out agrees more than one taken
    left = [n for i, n in agreeing.items() if n < STRONG_INLIERS and i not in ids]
    assert min(c.inliers for c in weak) >= max(left) - 1  # RANSAC may find one more or less


def test_an_unrelated_photo_leaves_few_candidates_to_verify(world, photos_dir) -> None:
    _, rows, entries = world
    index = ci.CompetitorIndex(None)
    _fill(index, entries)
    by_id = {r["id"]: r for r in rows}
    for path in sorted((photos_dir / "clothing").rglob("*.jpg"))[60:66]:
        q = analyse(path)
        cands = index.candidates(q)
        found = {i for i, r in verify(q, [by_id[c.image_id] for c in cands]) if r.match}
        # what is not verified is not found pairwise either (nothing is lost by the check)
        pairwise = {r["id"] for r in rows if compare(q, Analysis.from_thumbnail(
            r["thumb"], r["data"], r["sha256"])).match}
        assert found == pairwise
        # in this small world every image draws votes; most lack a common geometry
        voted = {i for side in (q.features, q.features_mirror)
                 for i in index._votes_of([side.descriptors])[0].counts(ci.MIN_VOTES)}
        assert len(cands) < 0.75 * len(voted)


def test_index_finds_what_the_pairwise_rule_finds(world) -> None:
    originals, rows, entries = world
    index = ci.CompetitorIndex(None)
    _fill(index, entries)
    by_id = {r["id"]: r for r in rows}
    for q in originals:
        pairwise = {r["id"] for r in rows if compare(q, Analysis.from_thumbnail(
            r["thumb"], r["data"], r["sha256"])).kind == "copy"}
        cands = [by_id[c.image_id] for c in index.candidates(q)]
        via_index = {i for i, res in verify(q, cands) if res.kind == "copy"}
        assert pairwise, "every original has copies among the rows"
        assert via_index == pairwise


def test_saved_index_is_reused_after_a_restart(world, tmp_path, monkeypatch) -> None:
    originals, _, entries = world
    monkeypatch.setattr(ci, "TRAIN_FROM", 3000)  # train the inverted file on this small set
    monkeypatch.setattr(ci, "NLIST", 16)
    monkeypatch.setattr(ci, "SNAPSHOT_MIN", 10)
    first = ci.CompetitorIndex(tmp_path / "idx")
    _fill(first, entries)
    assert first.approximate
    before = [first.candidates(q) for q in originals]
    first.close()
    assert (tmp_path / "idx" / "ivf.json").exists()
    again = ci.CompetitorIndex(tmp_path / "idx")
    assert len(again) == len(entries) and again.approximate
    assert [again.candidates(q) for q in originals] == before
    # one more image after the restart: appended, then replayed after the next restart
    again.add(10_000, *entries[1])
    third = ci.CompetitorIndex(tmp_path / "idx")
    assert 10_000 in third and 10_000 in {c.image_id for c in third.candidates(originals[0])}


def test_a_version_change_empties_the_index(world, tmp_path) -> None:
    _, _, entries = world
    old = ci.CompetitorIndex(tmp_path / "idx", version=1)
    _fill(old, dict(list(entries.items())[:5]))
    new = ci.CompetitorIndex(tmp_path / "idx", version=2)
    assert len(new) == 0 and new.reset_on_load
    assert new.missing([1, 2, 3]) == [1, 2, 3]


def test_index_descriptors_put_coarse_keypoints_first_then_the_spread_order(photos_dir) -> None:
    path = sorted((photos_dir / "clothing").rglob("*.jpg"))[0]
    im = load_image(path)
    desc, points = index_descriptors(im)
    assert desc.shape == (ci.KEEP, 32) and desc.dtype == np.uint8
    assert points.shape == (ci.KEEP, 2) and points.max() <= 640 and points.min() >= 0
    # the same ORB as a competitor image's analysis: every indexed descriptor is one of its
    # 1,000 features (the spread order), and the first of them all is kept
    feats = features_of_frame(feature_frame(im), detect=QUERY_DETECT_FACTOR).descriptors
    kept = {bytes(d) for d in desc}
    assert kept <= {bytes(d) for d in feats} and bytes(feats[0]) in kept
    # not simply the first KEEP of the spread order: a share comes from coarse levels
    coarse = int(ci.KEEP * COARSE_SHARE)
    assert len(kept - {bytes(d) for d in feats[: ci.KEEP]}) > 0
    assert len(kept & {bytes(d) for d in feats[: ci.KEEP]}) >= ci.KEEP - coarse
    assert COARSE_OCTAVE >= 1
    blank = Image.new("RGB", (300, 200), (240, 240, 240))
    assert [a.shape for a in index_descriptors(blank)] == [(0, 32), (0, 2)]  # no error


@pytest.fixture()
def small_ivf(monkeypatch):
    """Train the inverted file on the small test set and snapshot it early."""
    monkeypatch.setattr(ci, "TRAIN_FROM", 3000)
    monkeypatch.setattr(ci, "NLIST", 16)
    monkeypatch.setattr(ci, "SNAPSHOT_MIN", 10)


def test_queries_and_adds_go_on_while_the_inverted_file_trains(world, small_ivf,
                                                              monkeypatch) -> None:
    originals, _, entries = world
    started, release = threading.Event(), threading.Event()
    real = ci.new_ivf

    def slow_training(*args, **kwargs):
        started.set()
        assert release.wait(30)
        return real(*args, **kwargs)

    items = list(entries.items())
    need = next(k for k in range(len(items))
                if sum(len(d) for _, (_, d, _) in items[: k + 1]) >= ci.TRAIN_FROM)
    with monkeypatch.context() as m:  # what the exact index answers for those images
        m.setattr(ci, "TRAIN_FROM", 10**9)
        exact = ci.CompetitorIndex(None)
        _fill(exact, dict(items[: need + 1]))
        expected = [exact.candidates(q) for q in originals]
    monkeypatch.setattr(ci, "new_ivf", slow_training)
    index = ci.CompetitorIndex(None)
    _fill(index, dict(items[:need]))
    trainer = threading.Thread(target=index.add, args=(items[need][0], *items[need][1]))
    trainer.start()
    assert started.wait(30)
    # the lock is free while k-means runs: the exact index answers and takes new images
    assert not index.approximate
    assert [index.candidates(q) for q in originals] == expected
    _fill(index, dict(items[need + 1:]))
    release.set()
    trainer.join(30)
    assert index.approximate and len(index) == len(entries)
    assert index._ivf.ntotal == sum(len(d) for _, d, _ in entries.values())
    assert not index._training


def test_a_snapshot_with_another_number_of_lists_keeps_its_search_cost(world, tmp_path,
                                                                       small_ivf,
                                                                       monkeypatch) -> None:
    originals, _, entries = world
    first = ci.CompetitorIndex(tmp_path / "idx")
    _fill(first, entries)
    first.close()
    half = max(1, round(ci.NPROBE / 2))
    first._ivf.nprobe = half
    before = [first.candidates(q) for q in originals]
    monkeypatch.setattr(ci, "NLIST", 32)  # a newer PicGuard with twice the lists
    again = ci.CompetitorIndex(tmp_path / "idx")
    assert again.approximate and again._ivf.nlist == 16
    assert again._ivf.nprobe == half  # the same share of the entries scanned
    assert [again.candidates(q) for q in originals] == before
    # the next image added retrains it with the new number of lists (outside the lock)
    again.add(10_000, *entries[1])
    assert again._ivf.nlist == 32 and again._ivf.nprobe == ci.NPROBE
    assert again._ivf.ntotal == sum(len(d) for _, d, _ in entries.values()) + len(entries[1][1])


def test_the_lists_are_trained_again_once_enough_descriptors_exist(world, tmp_path,
                                                                   small_ivf,
                                                                   monkeypatch) -> None:
    originals, _, entries = world
    total = sum(len(d) for _, d, _ in entries.values())
    assert total > 4800
    monkeypatch.setattr(ci, "RETRAIN_PER_LIST", 300)  # 16 lists x 300 = 4,800 descriptors
    index = ci.CompetitorIndex(tmp_path / "idx")
    items = list(entries.items())
    seen, first = 0, None
    for image_id, entry in items:
        index.add(image_id, *entry)
        seen += len(entry[1])
        if first is None and index.approximate:
            first = index._ivf
            assert index._trained_on == seen < 4800  # trained on what there was
        assert (index._ivf is first) == (seen < 4800)  # retrained once, at 4,800
    assert index._trained_on == 4800 and index._ivf.ntotal == total
    index.close()
    again = ci.CompetitorIndex(tmp_path / "idx")
    assert again.approximate and again._trained_on == 4800
    loaded = again._ivf
    again.add(10_000, *entries[1])
    assert again._ivf is loaded  # not trained a third time after the restart
    fresh = ci.CompetitorIndex(None)
    _fill(fresh, entries)
    for q in originals:  # the same adds give the same lists
        assert {c.image_id for c in index.candidates(q)} == {
            c.image_id for c in fresh.candidates(q)}


def test_descriptors_are_on_disk_once_after_a_snapshot(world, tmp_path, small_ivf) -> None:
    _, _, entries = world
    index = ci.CompetitorIndex(tmp_path / "idx")
    _fill(index, entries)
    index.close()
    files = {p.name: p.stat().st_size for p in (tmp_path / "idx").iterdir()}
    assert files["pending.bin"] == competitor_files.HEADER  # the snapshot holds every descriptor
    # a record holds the positions: 24 bytes + 2 a descriptor
    assert files["records.bin"] == competitor_files.HEADER + (24 + 2 * ci.KEEP) * len(entries)
    per_image = sum(files.values()) / len(entries)
    assert per_image < 16 * 1024


def test_a_crash_after_the_snapshot_replays_nothing_twice(world, tmp_path, small_ivf) -> None:
    originals, _, entries = world
    directory = tmp_path / "idx"
    index = ci.CompetitorIndex(directory)
    _fill(index, entries)
    pending = (directory / "pending.bin").read_bytes()
    index.close()
    before = [index.candidates(q) for q in originals]
    # the snapshot was written but pending.bin not emptied yet (a crash in between)
    (directory / "pending.bin").write_bytes(pending)
    again = ci.CompetitorIndex(directory)
    assert [again.candidates(q) for q in originals] == before
    assert again._ivf.ntotal == sum(len(d) for _, d, _ in entries.values())


def test_a_torn_record_and_a_lost_snapshot_are_recovered(world, tmp_path, small_ivf) -> None:
    originals, _, entries = world
    directory = tmp_path / "idx"
    index = ci.CompetitorIndex(directory)
    _fill(index, entries)
    index.close()
    with open(directory / "records.bin", "ab") as f:
        f.write(b"\x01" * 10)  # a record cut short by a crash
    assert len(ci.CompetitorIndex(directory)) == len(entries)
    assert (directory / "records.bin").stat().st_size == (
        competitor_files.HEADER + (24 + 2 * ci.KEEP) * len(entries))
    for p in directory.glob("ivf*"):
        p.unlink()
    # the descriptors were only in the snapshot: every image is missing again, and
    # re-adding them (the owner's catch-up from thumbnails) gives the same candidates
    lost = ci.CompetitorIndex(directory)
    assert lost.missing(list(entries)) == list(entries)
    _fill(lost, entries)
    fresh = ci.CompetitorIndex(None)
    _fill(fresh, entries)
    for q in originals:
        assert {c.image_id for c in lost.candidates(q)} == {c.image_id for c in fresh.candidates(q)}


def test_an_index_of_the_previous_format_is_rebuilt(tmp_path) -> None:
    directory = tmp_path / "idx"
    directory.mkdir()
    old = competitor_files.MAGIC + np.array([1, ci.ANALYSIS_VERSION, 128], "<u4").tobytes()
    (directory / "records.bin").write_bytes(old + bytes(4120))
    index = ci.CompetitorIndex(directory)
    assert len(index) == 0 and index.reset_on_load
    with pytest.raises(ValueError, match="keep"):
        ci.CompetitorIndex(directory, keep=300)


def test_verified_analyses_are_reused_until_the_image_changes(world) -> None:
    originals, rows, entries = world
    index = ci.CompetitorIndex(None)
    _fill(index, entries)
    by_id = {r["id"]: r for r in rows}
    cands = [by_id[c.image_id] for c in index.candidates(originals[0])]
    first = list(verify(originals[0], cands, index.analyses))
    assert index.analyses.misses == len(cands) and index.analyses.hits == 0
    assert list(verify(originals[0], cands, index.analyses)) == first  # same findings
    assert index.analyses.hits == len(cands)
    # new content under the same id: its cached analysis is forgotten
    image_id = cands[0]["id"]
    index.add(image_id, *entries[image_id])
    assert index.analyses.get(image_id, (cands[0]["sha256"], False)) is None


def test_a_close_phash_alone_is_verified_only_when_the_hash_layer_could_decide(world) -> None:
    """hash_only candidates (no geometry agreed) are ruled out by their stored fingerprint unless
    the hash layer could call them a copy (pHash and PDQ all but equal): no thumbnail is
    analysed for the others."""
    originals, rows, _ = world
    query = originals[0]
    copy_row, other_row = rows[0], rows[-1]  # an edit of originals[0]; another photo
    both = [copy_row, other_row]
    cache = ci.AnalysisCache()
    found = dict(verify(query, both, cache, hash_only={copy_row["id"], other_row["id"]}))
    assert cache.misses == 1 and copy_row["id"] in found  # a re-encoded copy: hash-exact
    cache = ci.AnalysisCache()
    list(verify(query, both, cache))  # shortlisted by votes: both are analysed
    assert cache.misses == 2
    # an old fingerprint (none of this version) cannot rule anything out
    cache = ci.AnalysisCache()
    list(verify(query, [{**other_row, "data": b"old"}], cache, hash_only={other_row["id"]}))
    assert cache.misses == 1
