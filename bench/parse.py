"""Benchmark: scraper.parse_page on every real page of every marketplace, against a naive parser.

Pages: shared/fixtures/aliexpress (AliExpress generations) and
shared/fixtures/marketplaces (Amazon, eBay, Etsy, Walmart, Shopify, Mercado Libre,
Lazada, Taobao, Temu, Shopee, two more AliExpress pages). Prints parse time per page
(median and worst of N runs) and, in the same run, the time of the naive approach
(BeautifulSoup html.parser full-tree parse, then regexes over every script and the
og:image meta) with the speed ratio. Target: at most 50 ms for the largest page of
each marketplace on one core (the process is pinned to one CPU unless --no-pin).
"n.urls" is how many image URLs the naive parser returns: sizes, slugs and
thumbnails of the same photos, not de-duplicated.

    python3 -m bench.parse [--runs 30] [--quick] [--json]
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
from tests.marketplace_pages import PAGES_DIR, load  # noqa: E402
from tests.marketplace_pages import URLS as MARKET_URLS  # noqa: E402

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


def timed(fn: Callable[[], object], runs: int, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock ms of `runs` calls (after a warm-up); their CPU ms go into `cpu` if given.

    On a shared machine the wall clock also counts the time spent waiting for a core;
    the process CPU time does not, so both are reported.
    """
    for _ in range(3):  # warm-up: imports, regex caches
        fn()
    samples = []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - start_cpu) * 1000)
    return samples


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity here)"


def pages(quick: bool) -> list[tuple[str, str, str, str]]:
    """(marketplace, page name, url, text) of every page; --quick keeps each one's largest."""
    found = [("aliexpress", name, url, (FIXTURES / name).read_text(encoding="utf-8"))
             for name, url in sorted(URLS.items())]
    found += [(name.split("/")[0], name, url, load(name))
              for name, url in sorted(MARKET_URLS.items())]
    if not quick:
        return found
    largest: dict[str, tuple[str, str, str, str]] = {}
    for row in found:
        if row[0] not in largest or len(row[3]) > len(largest[row[0]][3]):
            largest[row[0]] = row
    return sorted(largest.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per page (default 30)")
    parser.add_argument("--quick", action="store_true",
                        help="5 runs, only the largest page of each marketplace")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU")
    args = parser.parse_args()
    if not FIXTURES.is_dir() or not PAGES_DIR.is_dir():
        print(f"fixtures not found at {FIXTURES.parent}; set PICGUARD_SHARED", file=sys.stderr)
        return 2
    runs = 5 if args.quick else args.runs
    core = "not pinned (--no-pin)" if args.no_pin else pin_to_one_core()
    rows = []
    for market, name, url, html in pages(args.quick):
        listing = parse_page(html, url)
        cpu: list[float] = []
        ours = timed(lambda html=html, url=url: parse_page(html, url), runs, cpu)
        naive = timed(lambda html=html: naive_parse(html), max(2 if args.quick else 5, runs // 3))
        rows.append(
            {
                "marketplace": market,
                "page": name.split("/")[-1],
                "kb": round(len(html.encode()) / 1024),
                "status": listing.status,
                "kind": listing.kind,
                "images": len(listing.images) + sum(len(i.images) for i in listing.items),
                "median_ms": statistics.median(ours),
                "cpu_median_ms": statistics.median(cpu),
                "worst_ms": max(ours),
                "naive_median_ms": statistics.median(naive),
                "naive_urls": len(naive_parse(html)),
            }
        )
    per_market = {}
    for market in sorted({r["marketplace"] for r in rows}):
        own = [r for r in rows if r["marketplace"] == market]
        big = max(own, key=lambda r: r["kb"])
        per_market[market] = {
            "largest_page": big["page"], "kb": big["kb"], "median_ms": big["median_ms"],
            "cpu_median_ms": big["cpu_median_ms"],
            "meets_target_cpu": big["cpu_median_ms"] <= TARGET_MS,
            "naive_median_ms": big["naive_median_ms"],
            "speedup_vs_naive": big["naive_median_ms"] / big["median_ms"],
            "meets_target": big["median_ms"] <= TARGET_MS,
        }
    total_ours = sum(r["median_ms"] for r in rows)
    total_naive = sum(r["naive_median_ms"] for r in rows)
    summary = {
        "runs": runs,
        "core": core,
        "median_of_medians_ms": statistics.median(r["median_ms"] for r in rows),
        "worst_ms": max(r["worst_ms"] for r in rows),
        "target_ms": TARGET_MS,
        "meets_target": all(m["meets_target"] for m in per_market.values()),
        "meets_target_cpu": all(m["meets_target_cpu"] for m in per_market.values()),
        "speedup_vs_naive": total_naive / total_ours,
        "largest_per_marketplace": per_market,
    }
    if args.json:
        print(json.dumps({"pages": rows, "summary": summary}, indent=2))
        return 0
    print(f"parse_page over {len(rows)} real pages, {runs} runs each ({core})\n")
    header = ("marketplace", "page", "kB", "status", "kind", "imgs", "median", "cpu", "worst",
              "naive", "x", "n.urls")
    widths = (-12, -58, 4, 11, 7, 4, 8, 8, 8, 8, 5, 6)
    print(
        " ".join(
            f"{h:<{-w}}" if w < 0 else f"{h:>{w}}" for h, w in zip(header, widths, strict=True)
        )
    )
    for r in rows:
        print(
            f"{r['marketplace']:<12} {r['page'][:58]:<58} {r['kb']:>4} {r['status']:>11} "
            f"{r['kind']:>7} {r['images']:>4} {r['median_ms']:>6.1f}ms "
            f"{r['cpu_median_ms']:>6.1f}ms {r['worst_ms']:>6.1f}ms "
            f"{r['naive_median_ms']:>6.1f}ms {r['naive_median_ms'] / r['median_ms']:>5.1f} "
            f"{r['naive_urls']:>6}"
        )
    print(f"\nlargest page of each marketplace (target {TARGET_MS:.0f} ms):")
    for market, m in per_market.items():
        verdict = "meets" if m["meets_target"] else "MISSES"
        verdict_cpu = "meets" if m["meets_target_cpu"] else "MISSES"
        print(f"  {market:<12} {m['kb']:>5} kB  median {m['median_ms']:6.1f} ms ({verdict}), "
              f"cpu {m['cpu_median_ms']:6.1f} ms ({verdict_cpu})  naive "
              f"{m['naive_median_ms']:7.1f} ms  {m['speedup_vs_naive']:5.1f}x")
    print(
        f"\nmedian over pages {summary['median_of_medians_ms']:.1f} ms, worst single run "
        f"{summary['worst_ms']:.1f} ms\n"
        f"naive html.parser + regex: {total_naive:.1f} ms for all pages vs {total_ours:.1f} ms "
        f"-> {summary['speedup_vs_naive']:.1f}x faster; every marketplace "
        f"{'meets' if summary['meets_target'] else 'does NOT meet'} the target in wall time, "
        f"{'meets' if summary['meets_target_cpu'] else 'does NOT meet'} it in CPU time"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
