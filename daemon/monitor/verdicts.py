"""Answers about images the seller is looking at: on-page verdicts and the pre-publication check."""

from __future__ import annotations

from collections.abc import Callable

from daemon.config import Settings
from daemon.matching.compare import MATCHER_VERSION, Analysis
from daemon.matching.competitor_index import CompetitorIndex
from daemon.monitor.alerts import other_listings
from daemon.monitor.competitor_sync import query_competitors, sync_competitor_index
from daemon.store import Store
from scraper.urls import image_key, normalize_image_url

# An `unclear` alert (neither side provably first) marks the image only as resembling the
# seller's photo: the page must not claim it is a copy (daemon.monitor.verdict_rules).
VERDICT_OF_ALERT = {"copied": "copy_of_yours", "resembles": "resembles_yours",
                    "unclear": "resembles_yours"}


def image_verdicts(store: Store, settings: Settings, page_url: str, urls: list[str]) -> list:
    """For each image URL on a page: is it a copy of the seller's photo, theirs, or clear?"""
    keyed = []
    for url in urls:
        norm = normalize_image_url(url, base=page_url) if isinstance(url, str) else None
        keyed.append((url, image_key(norm) if norm else None))
    rows = store.images_by_keys(sorted({k for _, k in keyed if k}))
    alerts: dict[int, dict] = {}
    for alert in store.alerts_for_images([r["id"] for r in rows.values()]):
        # "copied" outranks "resembles" when one image matches several photos
        current = alerts.get(alert["image_id"])
        if current is None or (current["kind"] != "copied" and alert["kind"] == "copied"):
            alerts[alert["image_id"]] = alert
    out = []
    for url, key in keyed:
        row = rows.get(key) if key else None
        verdict = {"url": url, "key": key, "verdict": "unknown", "alert_id": None,
                   "photo_id": None}
        if row is not None:
            alert = alerts.get(row["id"])
            if alert:
                verdict.update(verdict=VERDICT_OF_ALERT[alert["kind"]], alert_id=alert["id"],
                               photo_id=alert["photo_id"])
            elif store.image_listings(row["id"]) and not other_listings(store, settings,
                                                                         row["id"]):
                verdict["verdict"] = "yours"
            elif row["status"] == "fetched" and row["matched_version"] >= MATCHER_VERSION:
                # fetched is not enough: until the match ran, a copy would read as clear and
                # the extension would stop asking before its mark could appear
                verdict["verdict"] = "clear"
            elif row["status"] == "failed":
                # given up for good (404/410, or every retry failed): asking again will not
                # bring an answer, and "unknown" would keep the extension asking
                verdict["verdict"] = "unavailable"
        out.append(verdict)
    return out


def check_image(store: Store, settings: Settings, analysis: Analysis,
                index: CompetitorIndex | None = None,
                progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Pre-publication check: every other store showing a photo that resembles this one.

    A query of the competitor index (candidates verified with the pairwise rule), not a
    scan. `index` is the daemon's own; without one (the CLI) the data dir's index is
    opened and brought up to date first (images it misses are indexed from thumbnails).
    """
    if index is None:
        index = CompetitorIndex(settings.data_dir / "competitor-index")
        sync_competitor_index(store, index, progress)
    if progress:
        progress("verify", 0, 1)
    hits = []
    for image_id, result in query_competitors(store, index, analysis):
        if not result.kind:
            continue
        image = store.get_image(image_id)
        for listing in other_listings(store, settings, image_id):
            hits.append({
                "store_id": listing["store_key"], "store_name": listing["store_name"],
                "listing_url": listing["canonical_url"] or listing["url"],
                "title": listing["title"], "image_url": image["url"],
                "image_id": image_id, "first_seen": listing["first_seen"],
                "kind": result.kind, "score": round(result.score, 4),
            })
    if progress:
        progress("verify", 1, 1)
    hits.sort(key=lambda h: (-h["score"], h["first_seen"]))
    return {"resembles": bool(hits), "hits": hits, "images_indexed": len(index)}
