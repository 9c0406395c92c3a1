"""The competitor image set for bench/competitor_index.py: real photos, edited copies, distractors.

Item k of the plan is deterministic (seeded by k), so the 10^4 set is the first 10^4
items of the 10^5 set and their analyses are computed once: chunks of CHUNK items are
cached under --cache-dir (default /tmp/picguard-bench-competitors) and a killed build
resumes where it stopped.

    python -m bench.competitor_set --size 100000        # build (resumable) and exit

The descriptors the competitor index keeps are made from each image's thumbnail, as the
daemon makes them (index_chunks, cached beside the chunks under index_key(): a change of
the index's choice of descriptors recomputes them from the cached thumbnails only).

Plan: 1,000 clothing photos are kept out as unrelated queries (nothing of them is in the
set); ORIGINALS other photos get the 36 tier A-D edits of tests/edits.py; every other
photo is in the set as published; the rest are distractors made of real content:
random crops (25-70% of the area), 2x2 collages of four other photos, and random A-D
edits of other photos.
"""

from __future__ import annotations

import argparse
import pickle
import random
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bench.robustness import appliance_files, clothing_files, log, one_core, run_pool
from tests.edits import EDITS, apply, encode

CACHE_DIR = Path("/tmp/picguard-bench-competitors")
CHUNK = 1000
ORIGINALS = 60
UNRELATED = 1000
KEEP_DESCRIPTORS = 256  # the most any index variant measured keeps per image
EDITS_AD = [e for e in EDITS if e.tier in "ABCD"]


@dataclass(frozen=True)
class Plan:
    originals: list[str]
    unrelated: list[str]
    items: list[tuple]  # (kind, ...) per competitor image, in id order (id = index + 1)


def make_plan(size: int, seed: int = 11) -> Plan:
    """The first `size` items of the (fixed) plan."""
    rng = random.Random(seed)
    cloth = [str(p) for p in clothing_files("clothing-train") + clothing_files("clothing")]
    rng.shuffle(cloth)
    unrelated, rest = cloth[:UNRELATED], cloth[UNRELATED:]
    pool = rest + [str(p) for p in appliance_files()]
    rng.shuffle(pool)
    originals, pool = pool[:ORIGINALS], pool[ORIGINALS:]
    items: list[tuple] = []
    for o in originals:
        for e in EDITS_AD:
            items.append(("copy", o, e.name, tuple(rng.sample(pool, 5))))
    items += [("photo", p) for p in pool]
    head = list(items)
    rng.shuffle(head)
    items = head
    k = 0
    while len(items) < size:
        r = random.Random(f"distractor:{k}")
        kind = ("crop", "collage", "edit")[k % 3]
        if kind == "crop":
            items.append(("crop", r.choice(pool), k))
        elif kind == "collage":
            items.append(("collage", tuple(r.sample(pool, 4)), k))
        else:
            items.append(("edit", r.choice(pool), r.choice(EDITS_AD).name,
                          tuple(r.sample(pool, 5)), k))
        k += 1
    return Plan(originals, unrelated, items[:size])


def _rgb(path: str) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")


def render(item: tuple, k: int) -> bytes:
    """The encoded bytes of one planned competitor image."""
    kind = item[0]
    if kind == "photo":
        return Path(item[1]).read_bytes()
    if kind == "copy":
        _, path, edit, others = item
        e = next(x for x in EDITS if x.name == edit)
        return apply(e, _rgb(path), seed=k, others=[_rgb(o) for o in others])
    if kind == "edit":
        _, path, edit, others, seed = item
        e = next(x for x in EDITS if x.name == edit)
        return apply(e, _rgb(path), seed=100_000 + seed, others=[_rgb(o) for o in others])
    if kind == "crop":
        _, path, seed = item
        r = random.Random(f"crop:{seed}")
        im = _rgb(path)
        area = r.uniform(0.25, 0.7)
        aspect = r.uniform(0.7, 1.4)
        w = min(im.width, round(im.width * (area * aspect) ** 0.5))
        h = min(im.height, round(im.height * (area / aspect) ** 0.5))
        x, y = r.randrange(im.width - w + 1), r.randrange(im.height - h + 1)
        out = im.crop((x, y, x + w, y + h))
        f = r.uniform(0.6, 1.0)
        out = out.resize((max(8, round(w * f)), max(8, round(h * f))))
        return encode(out, "JPEG", 80)
    if kind == "collage":
        _, paths, seed = item
        tiles = [_rgb(p) for p in paths]
        w, h = tiles[0].width // 2, tiles[0].height // 2
        out = Image.new("RGB", (2 * w, 2 * h), (255, 255, 255))
        for j, t in enumerate(tiles):
            t = t.resize((w - 4, h - 4))
            out.paste(t, ((j % 2) * w + 2, (j // 2) * h + 2))
        return encode(out, "JPEG", 85)
    raise ValueError(kind)


def analyse_item(job: tuple[int, tuple]) -> tuple[int, int, bytes | None, bytes, bytes, str]:
    """(id, pHash, fingerprint blob, first KEEP_DESCRIPTORS straight descriptors, thumbnail,
    sha256) of one planned image.

    Copies of the query originals get their full fingerprint (as the pipeline stores it);
    distractors only their pHash (what the index keeps): when one becomes a candidate its
    fingerprint is computed from the thumbnail, as for an image stored by an older
    version. That halves the build time of the 10^5 set.
    """
    import hashlib

    import imagehash

    from daemon.matching.features import FEATURE_SIDE, feature_frame, features_of_frame
    from daemon.matching.fingerprint import HASH_SIDE, _bits_to_int, fingerprint_image
    from daemon.matching.imageio import decode, make_thumbnail, trim_margins

    k, item = job
    data = render(item, k)
    dec = decode(data, max_side=FEATURE_SIDE)
    im = dec.image
    if item[0] == "copy":
        fp = fingerprint_image(im)
        phash, blob = fp.phash, fp.to_bytes()
    else:
        small = im.reduce(-(-max(im.size) // HASH_SIDE)) if max(im.size) > HASH_SIDE else im
        phash, blob = _bits_to_int(imagehash.phash(trim_margins(small)).hash), None
    feats = features_of_frame(feature_frame(im))
    return (k + 1, phash, blob, feats.descriptors[:KEEP_DESCRIPTORS].tobytes(),
            make_thumbnail(im), hashlib.sha256(data).hexdigest())


def cache_key() -> str:
    """Cached items depend on the fingerprint (pHash, blob) and the ORB descriptors only; a
    FEATURES_VERSION bump for other fields (e.g. the product mask of v4) keeps them valid."""
    from daemon.matching.fingerprint import FINGERPRINT_VERSION

    return f"fp{FINGERPRINT_VERSION}-orb1000x3-640"


def chunk_path(cache_dir: Path, c: int) -> Path:
    return cache_dir / cache_key() / f"chunk-{c:04d}.pkl"


def build(size: int, cache_dir: Path = CACHE_DIR, workers: int = 2) -> Plan:
    """Analyse every missing chunk of the first `size` items (resumable)."""
    plan = make_plan(size)
    (cache_dir / cache_key()).mkdir(parents=True, exist_ok=True)
    for c in range((size + CHUNK - 1) // CHUNK):
        path = chunk_path(cache_dir, c)
        if path.exists():
            continue
        lo, hi = c * CHUNK, min(size, (c + 1) * CHUNK)
        if hi - lo < CHUNK and size % CHUNK:
            log(f"competitor set: size not a multiple of {CHUNK}; building a full last chunk")
            plan = make_plan((c + 1) * CHUNK)
            hi = (c + 1) * CHUNK
        t = time.perf_counter()
        rows = sorted(run_pool(analyse_item, [(k, plan.items[k]) for k in range(lo, hi)],
                               hi - lo, f"chunk {c}", workers))
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(rows))
        tmp.replace(path)
        log(f"competitor set: chunk {c} ({hi - lo} images) in {time.perf_counter() - t:.0f} s")
    return make_plan(size)


def index_key() -> str:
    """Index descriptors depend on the features' ORB and the index's choice of them."""
    from daemon.matching import competitor_verify as cv
    from daemon.matching.competitor_index import FORMAT, KEEP
    from daemon.matching.features import QUERY_DETECT_FACTOR

    return (f"index-f{FORMAT}-k{KEEP}-c{round(cv.COARSE_SHARE * 1000)}"
            f"-o{cv.COARSE_OCTAVE}-d{QUERY_DETECT_FACTOR}")


def _index_job(job: tuple[int, bytes]) -> tuple[int, tuple[bytes, bytes]]:
    from daemon.matching.competitor_verify import thumbnail_descriptors

    image_id, thumb = job
    desc, points = thumbnail_descriptors(thumb)
    return image_id, (desc.tobytes(), points.astype("<f4").tobytes())


def index_chunks(size: int, cache_dir: Path = CACHE_DIR, workers: int = 1):
    """Yield, chunk by chunk, {id: (index descriptors, positions)} of the first `size`
    images, made from their thumbnails as the daemon makes them
    (competitor_verify.thumbnail_descriptors); cached beside the chunks under index_key()."""
    folder = cache_dir / cache_key() / index_key()
    folder.mkdir(parents=True, exist_ok=True)
    left, c = size, 0
    while left > 0:
        path = folder / f"chunk-{c:04d}.pkl"
        if path.exists():
            desc = pickle.loads(path.read_bytes())  # noqa: S301 (ours)
        else:
            rows = pickle.loads(chunk_path(cache_dir, c).read_bytes())  # noqa: S301 (ours)
            jobs = [(r[0], r[4]) for r in rows]
            del rows
            t = time.perf_counter()
            desc = dict(run_pool(_index_job, jobs, len(jobs), f"index descriptors {c}", workers))
            log(f"competitor set: index descriptors of chunk {c} in "
                f"{time.perf_counter() - t:.0f} s")
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps(desc))
            tmp.replace(path)
        yield {i: d for i, d in desc.items() if i <= size}
        left -= len(desc)
        c += 1


def load_chunks(size: int, cache_dir: Path = CACHE_DIR):
    """Yield the analysed items of the first `size` ids, chunk by chunk (lists of rows)."""
    left = size
    c = 0
    while left > 0:
        rows = pickle.loads(chunk_path(cache_dir, c).read_bytes())  # noqa: S301 (ours)
        yield rows[:left]
        left -= len(rows)
        c += 1


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    args = ap.parse_args(argv)
    one_core()
    t = time.perf_counter()
    build(args.size, args.cache_dir, args.workers)
    log(f"competitor set of {args.size:,} ready in {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
