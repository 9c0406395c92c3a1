"""Registration throughput: `catalog add` of twelve-megapixel JPEGs vs. a naive pHash loop.

    python -m bench.register              # 16 photos, 3 rounds
    python -m bench.register --photos 64

The photos are real ones from ../shared/data/photos/clothing-train scaled to 4000x3000
(12 MP, JPEG q92), made once under /tmp/picguard-bench-register. The baseline decodes
each file whole and hashes it with imagehash.phash; PicGuard's registration (hash, EXIF,
fingerprint, features, database, ledger) runs in this process as `catalog add` does,
into a fresh data dir each round, and also as the real CLI in a subprocess. Rounds
alternate so a busy machine affects both sides alike; medians are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from bench.robustness import clothing_files, log

CACHE = Path("/tmp/picguard-bench-register")


def make_photos(n: int) -> Path:
    """n real photos at 4000x3000 as q92 JPEGs (cached)."""
    folder = CACHE / f"12mp-{n}"
    folder.mkdir(parents=True, exist_ok=True)
    for k, src in enumerate(clothing_files("clothing-train")[:n]):
        out = folder / f"photo-{k:03d}.jpg"
        if not out.exists():
            with Image.open(src) as im:
                im.convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC).save(
                    out, "JPEG", quality=92)
    return folder


def naive(folder: Path) -> float:
    """Seconds for the naive loop: full decode + imagehash.phash of every file."""
    import imagehash

    t = time.perf_counter()
    for f in sorted(folder.glob("*.jpg")):
        with Image.open(f) as im:
            imagehash.phash(im.convert("RGB"))
    return time.perf_counter() - t


def picguard_inprocess(folder: Path) -> float:
    """Seconds for register() of the folder into a fresh store (what `catalog add` runs)."""
    from daemon.catalog.registration import register
    from daemon.store import Store

    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        store = Store(Path(d) / "picguard.db")
        report = register(store, [folder])
        took = time.perf_counter() - t
        store.close()
    assert len(report.added) == len(list(folder.glob("*.jpg"))), report.failed
    return took


def picguard_cli(folder: Path) -> float:
    """Seconds for `python -m daemon catalog add FOLDER` in a new process (start-up included)."""
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "daemon", "--data-dir", d, "catalog", "add",
                        str(folder)], check=True, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
        return time.perf_counter() - t


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--photos", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-cli", action="store_true", help="skip the subprocess CLI timing")
    args = ap.parse_args(argv)
    folder = make_photos(args.photos)
    naive(folder)  # warm the page cache and imports for both sides
    times: dict[str, list[float]] = {"naive": [], "register": [], "cli": []}
    for r in range(args.rounds):
        times["naive"].append(naive(folder))
        times["register"].append(picguard_inprocess(folder))
        if not args.no_cli:
            times["cli"].append(picguard_cli(folder))
        log(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items() if v))
    med = {k: statistics.median(v) for k, v in times.items() if v}
    print(f"{args.photos} photos of 12 MP, median of {args.rounds} rounds "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")
    print(f"  naive full decode + imagehash.phash: {med['naive']:.2f} s "
          f"({args.photos / med['naive']:.1f} photos/s)")
    print(f"  register() in process:               {med['register']:.2f} s "
          f"-> {med['naive'] / med['register']:.2f}x the naive throughput")
    if "cli" in med:
        print(f"  picguard catalog add (new process):  {med['cli']:.2f} s "
              f"-> {med['naive'] / med['cli']:.2f}x (interpreter and imports included)")


if __name__ == "__main__":
    main()
