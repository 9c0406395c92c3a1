"""Benchmark: scraper.parse_page on every real AliExpress page, against a naive parser.

Prints parse time per page (median and worst of N runs) and, in the same run,
the time of the naive approach (BeautifulSoup html.parser full-tree parse, then
regexes over every script and the og:image meta) with the speed ratio.
Target: at most 50 ms for the largest page on one core (the process is pinned
to one CPU unless --no-pin). "n.urls" is how many image URLs the naive parser
returns: sizes, slugs and thumbnails of the same photos, not de-duplicated.

    python3 bench/parse.py [--runs 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bs4 import BeautifulSoup

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scraper import parse_page  # noqa: E402 - after the path tweak, to run from a checkout

FIXTURES = (
    Path(os.environ.get("PICGUARD_SHARED", REPO.parent / "shared")) / "fixtures" / "aliexpress"
)
TARGET_MS = 50.0
# The URL each page was saved from (the parser dispatches on it).
URLS = {
    "item_2022-09_dida-init-data_ultron-hierarchy_3256803246120444.json": "https://www.aliexpress.us/item/3256803246120444.html",
    "item_2022-12_runParams-modules_aliexpress-us_3256803382674519.html": "https://www.aliexpress.us/item/3256803382674519.html",
    "item_2023-12_runParams-components-is23_he_32995535623.html": "https://he.aliexpress.com/item/32995535623.html",
    "item_2025_csr-d_c_-DCData_de_1005008204179129.html": "https://de.aliexpress.com/item/1005008204179129.html",
    "punish_captcha_item-url_2025_1005008204179129.html": "https://www.aliexpress.com/item/1005008204179129.html",
    "store_2024-02_shell_4682001.html": "https://yufanmodel.aliexpress.com/store/4682001",
}
_NAIVE_LIST_RE = re.compile(r'"(?:imagePathList|skuPropertyImagePath)"\s*:\s*(\[[^\]]*\]|"[^"]*")')
_NAIVE_URL_RE = re.compile(r'(?:https?:)?//[^"\s]+?\.(?:jpe?g|png|webp)')


def naive_parse(html: str) -> list[str]:
    """What a first attempt looks like: full html.parser tree, regex over all scripts."""
    soup = BeautifulSoup(html, "html.parser")
    urls: list[str] = []
    scripts = [script.get_text() for script in soup.find_all("script")] or [html]
    for text in scripts:  # a data object saved on its own has no <script>: use the text
        for match in _NAIVE_LIST_RE.finditer(text):
            urls.extend(_NAIVE_URL_RE.findall(match.group(1)))
    meta = soup.find("meta", attrs={"property": "og:image"})
    if meta and meta.get("content"):
        urls.append(str(meta["content"]))
    for img in soup.find_all("img"):
        src = img.get("data-src") or img.get("src")
        if isinstance(src, str) and "/kf/" in src:
            urls.append(src)
    return urls


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    for _ in range(3):  # warm-up: imports, regex caches
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity here)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per page (default 30)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU")
    args = parser.parse_args()
    if not FIXTURES.is_dir():
        print(f"fixtures not found at {FIXTURES}; set PICGUARD_SHARED", file=sys.stderr)
        return 2
    core = "not pinned (--no-pin)" if args.no_pin else pin_to_one_core()
    rows = []
    for name in sorted(URLS):
        html = (FIXTURES / name).read_text(encoding="utf-8")
        url = URLS[name]
        listing = parse_page(html, url)
        ours = timed(lambda html=html, url=url: parse_page(html, url), args.runs)
        naive = timed(lambda html=html: naive_parse(html), max(5, args.runs // 3))
        rows.append(
            {
                "page": name,
                "kb": round(len(html.encode()) / 1024),
                "status": listing.status,
                "images": len(listing.images),
                "median_ms": statistics.median(ours),
                "worst_ms": max(ours),
                "naive_median_ms": statistics.median(naive),
                "naive_urls": len(naive_parse(html)),
            }
        )
    largest = max(rows, key=lambda r: r["kb"])
    total_ours = sum(r["median_ms"] for r in rows)
    total_naive = sum(r["naive_median_ms"] for r in rows)
    summary = {
        "runs": args.runs,
        "core": core,
        "median_of_medians_ms": statistics.median(r["median_ms"] for r in rows),
        "worst_ms": max(r["worst_ms"] for r in rows),
        "largest_page": largest["page"],
        "largest_median_ms": largest["median_ms"],
        "target_ms": TARGET_MS,
        "meets_target": largest["median_ms"] <= TARGET_MS,
        "speedup_vs_naive": total_naive / total_ours,
    }
    if args.json:
        print(json.dumps({"pages": rows, "summary": summary}, indent=2))
        return 0
    print(f"parse_page over {len(rows)} real pages, {args.runs} runs each ({core})\n")
    header = ("page", "kB", "status", "imgs", "median", "worst", "naive", "x", "n.urls")
    widths = (-70, 4, 7, 4, 8, 8, 8, 5, 6)
    print(
        " ".join(
            f"{h:<{-w}}" if w < 0 else f"{h:>{w}}" for h, w in zip(header, widths, strict=True)
        )
    )
    for r in rows:
        print(
            f"{r['page']:<70} {r['kb']:>4} {r['status']:>7} {r['images']:>4} "
            f"{r['median_ms']:>6.1f}ms {r['worst_ms']:>6.1f}ms {r['naive_median_ms']:>6.1f}ms "
            f"{r['naive_median_ms'] / r['median_ms']:>5.1f} {r['naive_urls']:>6}"
        )
    verdict = "meets" if summary["meets_target"] else "MISSES"
    print(
        f"\nmedian over pages {summary['median_of_medians_ms']:.1f} ms, worst single run "
        f"{summary['worst_ms']:.1f} ms\nlargest page ({largest['kb']} kB): median "
        f"{largest['median_ms']:.1f} ms, {verdict} the {TARGET_MS:.0f} ms target\n"
        f"naive html.parser + regex: {total_naive:.1f} ms for all pages vs {total_ours:.1f} ms "
        f"-> {summary['speedup_vs_naive']:.1f}x faster"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
