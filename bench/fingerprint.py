"""Fingerprinting speed on real photos and on a 12-megapixel JPEG, against plain imagehash.

    python -m bench.fingerprint            # 200 real photos, 20 rounds on the big JPEGs
    python -m bench.fingerprint --quick    # 40 photos, 5 rounds

Naive = `imagehash.phash(Image.open(p))` (full decode, one hash). Ours =
`compute_fingerprint(p)`: JPEG draft decode to 256-512 px (1/8 for 12 MP), margin trim,
pHash + dHash + PDQ, each also mirrored, plus a colour grid. Also times the whole
`analyse()` (fingerprint and ORB features, straight and mirrored) of a 1600 px JPEG,
and of the 12 MP one. One core (cv2/faiss pinned).
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image

from bench.robustness import appliance_files, clothing_files, log, one_core
from daemon.matching.compare import analyse
from daemon.matching.features import extract_features
from daemon.matching.fingerprint import compute_fingerprint


def per_item(fn: Callable[[Path], object], items: list[Path], rounds: int = 1) -> list[float]:
    """Seconds per call, one entry per call (after one warm-up call)."""
    fn(items[0])
    out = []
    for _ in range(rounds):
        for it in items:
            t = time.perf_counter()
            fn(it)
            out.append(time.perf_counter() - t)
    return out


def naive(p: Path) -> imagehash.ImageHash:
    return imagehash.phash(Image.open(p))


def big_jpeg(folder: Path, side: tuple[int, int], name: str, seed: int = 0) -> Path:
    """A photo-like JPEG of the given size: a real photo upscaled, plus sensor-like noise."""
    src = Image.open(sorted(clothing_files())[seed]).convert("RGB")
    im = src.resize(side, Image.Resampling.BICUBIC)
    rng = np.random.default_rng(seed)
    noise = rng.integers(-6, 7, (side[1], side[0], 1), dtype=np.int16)
    arr = np.asarray(im, dtype=np.int16) + noise
    out = folder / name
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=92)
    return out


def line(label: str, ours: list[float], theirs: list[float] | None = None) -> None:
    m = statistics.median(ours)
    txt = f"  {label:44} {1000 * m:8.2f} ms/image  {1 / m:8.1f} images/s"
    if theirs:
        n = statistics.median(theirs)
        txt += f"   naive {1000 * n:8.2f} ms  ->  {n / m:5.2f}x faster"
    print(txt)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--limit", type=int, default=200, help="real photos timed (default 200)")
    ap.add_argument("--rounds", type=int, default=20, help="rounds on the generated JPEGs")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.limit, args.rounds = 40, 5
    one_core()
    rng = random.Random(0)
    photos = rng.sample(clothing_files(), min(args.limit, 372))
    apps = rng.sample(appliance_files(), min(max(10, args.limit // 4), 124))
    print("Fingerprint speed (one core; median per image)")
    log(f"fingerprint: {len(photos)} clothing photos")
    line(f"clothing JPEGs (~400 px) x{len(photos)}", per_item(compute_fingerprint, photos),
         per_item(naive, photos))
    log(f"fingerprint: {len(apps)} appliance WebPs")
    line(f"appliance WebPs (1024 px) x{len(apps)}", per_item(compute_fingerprint, apps),
         per_item(naive, apps))
    with tempfile.TemporaryDirectory() as tmp:
        big = big_jpeg(Path(tmp), (4000, 3000), "12mp.jpg")
        mid = big_jpeg(Path(tmp), (1600, 1200), "1600.jpg", seed=1)
        log("fingerprint: 12 MP JPEG")
        ours = per_item(compute_fingerprint, [big], args.rounds)
        line(f"12 MP JPEG ({big.stat().st_size // 1024} KB) x{args.rounds}", ours,
             per_item(naive, [big], args.rounds))
        # What the daemon runs on a seller's camera file: one decode for both layers.
        line("  analyse(mirror=False) of the 12 MP JPEG",
             per_item(lambda p: analyse(p, mirror=False), [big], args.rounds))
        log("fingerprint: 1600 px JPEG")
        line(f"1600 px JPEG x{args.rounds}", per_item(compute_fingerprint, [mid], args.rounds),
             per_item(naive, [mid], args.rounds))
        print("\nFingerprint + local features of a 1600x1200 JPEG (target <= 50 ms, one core)")
        line("compute_fingerprint + extract_features",
             per_item(lambda p: (compute_fingerprint(p), extract_features(p)), [mid], args.rounds))
        line("analyse(mirror=False) (one decode)",
             per_item(lambda p: analyse(p, mirror=False), [mid], args.rounds))
        line("analyse() incl. mirrored features (queries)",
             per_item(analyse, [mid], args.rounds))
        buf = io.BytesIO()
        Image.open(mid).save(buf, "JPEG", quality=85)
        line("analyse() of the same image as bytes", per_item(analyse, [buf.getvalue()],
                                                              args.rounds))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
