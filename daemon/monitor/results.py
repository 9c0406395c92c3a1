"""Storing a results page: one listing per card (first seen, store), its images queued.

Called by ingest_page for a page the scraper read as `results`. The whole page is one
transaction (store.results), and pushing the same page again changes nothing but the
last-seen times.
"""

from __future__ import annotations

from collections.abc import Callable

import scraper
from daemon.config import Settings
from daemon.monitor.sweeps import record_block
from daemon.store import Store
from scraper.urls import canonical_store_url

Admit = Callable[[list[dict], Settings], tuple[list[dict], int, int]]


def _card(item: scraper.ResultItem) -> dict:
    """What store.save_result_cards takes for one card."""
    store_url = None
    if item.store_id and item.store_id.isdigit():
        store_url = canonical_store_url(item.store_id)
    return {"product_id": item.product_id, "url": item.url, "title": item.title,
            "store_id": item.store_id, "store_name": item.store_name, "store_url": store_url,
            "images": [ref.to_dict() for ref in item.images]}


def ingest_results(store: Store, settings: Settings, listing: scraper.Listing, url: str,
                   html: str, *, channel: str, source: str, task_id: int | None,
                   admit: Admit) -> dict:
    """Store every card of a results page; the API's answer for a pushed results page.

    `admit` is ingest's image policy (private addresses refused, the per-page cap), applied
    to the page's images as a whole so a results page cannot queue more than an item page.
    """
    status = {"ok": "parsed"}.get(listing.status, listing.status)
    answer: dict = {
        "kind": "results", "status": status, "marketplace": listing.marketplace,
        "listing_id": None, "store_id": listing.store_id, "channel": channel,
        "listings": {"total": 0, "new": 0},
        "images": {"total": 0, "new": 0, "dropped": 0, "refused": 0},
        "page_info": listing.page_info, "source": listing.source,
    }
    if listing.status != "ok":
        answer["reason"] = listing.reason
        if listing.status == "blocked" and task_id is not None:
            task = store.get_task(task_id)
            if task is not None:
                record_block(store, settings, task["kind"], listing.reason)
        return answer
    cards = [_card(item) for item in listing.items]
    every_ref = [ref for card in cards for ref in card["images"]]
    kept, refused, dropped = admit(every_ref, settings)
    allowed = {ref["key"] for ref in kept}
    answer["images"].update(refused=refused, dropped=dropped)
    if every_ref and not kept and refused:
        # ingest_page turns this into RefusedImagesError: nothing of the page is stored
        answer["refused_all"] = True
        return answer
    for card in cards:
        card["images"] = [ref for ref in card["images"] if ref["key"] in allowed]
    saved = store.save_result_cards(
        cards, marketplace=listing.marketplace, channel=channel, page_url=url, source=source,
        html=html, task_id=task_id if task_id is not None and store.get_task(task_id) else None)
    answer["listings"].update(total=saved["listings_total"], new=saved["listings_new"])
    answer["images"].update(total=saved["images_total"], new=saved["images_new"])
    return answer
