"""Turning a pushed or fetched page into a stored Listing with queued images."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from urllib.parse import urlsplit

import scraper
from daemon.config import Settings
from daemon.monitor.results import ingest_results
from daemon.store import Store
from scraper.fetch import is_public_address


class PageError(ValueError):
    """A page that cannot be taken at all (not HTML, no URL); the message says what to send."""


class RefusedImagesError(PageError):
    """Every image of a page points at an address PicGuard must never fetch."""


def admissible_images(refs: list[dict], settings: Settings) -> tuple[list[dict], int, int]:
    """The image refs PicGuard will queue: (kept, refused, dropped).

    The one policy for every source of image URLs (pushed pages, descriptions, results):
    first refuse private/local addresses (unless the switch allows them), then keep at
    most `max_images_per_page` of what is left, so refused URLs never use up the cap.
    """
    refused = 0
    if not settings.allow_private_hosts:
        kept = [ref for ref in refs if not refused_address(ref["url"])]
        refused, refs = len(refs) - len(kept), kept
    cap = settings.max_images_per_page
    return refs[:cap], refused, max(0, len(refs) - cap)


def refused_address(url: str) -> bool:
    """True for an image URL whose host is a literal private/loopback address or localhost.

    Checked at push time without DNS, so a hostile page gets nothing stored; names are
    resolved and checked again by the fetcher on every request and redirect.
    """
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return True  # an unreadable host (e.g. "[::1") is never fetched
    if host == "localhost" or host.endswith(".localhost"):
        return True
    if not host[:1].isdigit() and ":" not in host:
        return False  # a name (ip_address accepts no literal like it): the cheap common case
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return not is_public_address(host)


def _scheme(url: str) -> str:
    """The URL's scheme, or "" when urlsplit cannot read it (e.g. 'https://[::1/x')."""
    try:
        return urlsplit(url).scheme
    except ValueError:
        return ""


def listing_key(listing: scraper.Listing, url: str) -> str:
    """The identity of a listing: marketplace + item or store id, else the canonical URL.

    AliExpress shows one product under a global id and a US-site id; the scraper keys on the
    id inside the page data, so every region's URL of one item gives one listing.
    """
    if listing.kind == "store" and listing.store_id:
        return f"{listing.marketplace}:store:{listing.store_id}"
    if listing.product_id and listing.marketplace == "web":  # a shop's own SKU: per shop
        return f"web:item:{listing.store_id or ''}/{listing.product_id}"
    if listing.product_id:
        return f"{listing.marketplace}:item:{listing.product_id}"
    parts = urlsplit(listing.canonical_url or url)
    return f"{listing.marketplace}:url:{parts.netloc.lower()}{parts.path}"


def ingest_page(store: Store, settings: Settings, url: str, html: str,
                mtop: dict | None = None, source: str = "extension",
                channel: str | None = None, task_id: int | None = None,
                parse: Callable[..., scraper.Listing] | None = None) -> dict:
    """Parse a page and store it; returns the API's answer for `POST /api/v1/pages`.

    Blocked (captcha) pages are recorded as blocked on the listing when it is known, never
    as a listing without images. Refs past `max_images_per_page` are dropped and counted.
    `channel` says how the page was found (store.sweeps.CHANNELS; server-side rescans are
    `watch`, everything else `browsing` unless said); `task_id` ties it to a sweep task.
    Results pages (search, category, store lists) go to monitor.results, one listing a card.
    """
    channel = channel or ("watch" if source == "rescan" else "browsing")
    if not isinstance(url, str) or _scheme(url) not in {"http", "https"}:
        raise PageError("the page URL must be an http(s) URL; send the address of the page")
    if not isinstance(html, str) or not html.strip():
        raise PageError("the page HTML is empty; send the page's HTML as a string")
    try:
        # `parse`: the daemon's ParsePool (monitor.parsepool), parsing in worker processes
        listing = (parse or scraper.parse_page)(html, url, mtop=mtop)
    except scraper.ParseError as exc:
        raise PageError(f"the page could not be read: {exc}") from exc
    if listing.status == "ok" and listing.marketplace == "aliexpress" and channel in (
            "browsing", "results"):
        store.clear_sweep_pauses()  # the seller got through: sweeps paused by a block resume
    if listing.kind == scraper.KIND_RESULTS:
        answer = ingest_results(store, settings, listing, url, html, channel=channel,
                                source=source, task_id=task_id, admit=admissible_images)
        if answer.pop("refused_all", False):
            raise RefusedImagesError(
                f"all {answer['images']['refused']} image URL(s) on this results page point "
                "at private or local network addresses, which PicGuard never fetches; "
                "nothing was stored")
        return answer
    answer = {
        "listing_id": None, "status": {"ok": "parsed"}.get(listing.status, listing.status),
        "marketplace": listing.marketplace, "store_id": listing.store_id,
        "product_id": listing.product_id, "title": listing.title, "kind": listing.kind,
        "images": {"total": 0, "new": 0, "dropped": 0},
    }
    if listing.status == "unsupported":
        answer["reason"] = listing.reason
        return answer
    record = listing.to_dict()
    images, refused, dropped = admissible_images(record.get("images") or [], settings)
    if refused and not images:
        raise RefusedImagesError(
            f"all {refused} image URL(s) on this page point at private or local network "
            "addresses, which PicGuard never fetches; nothing was stored")
    answer["images"]["refused"] = refused
    answer["images"]["dropped"] = dropped
    record["images"] = images
    key = listing_key(listing, url)
    if listing.status == "blocked" and not (listing.product_id or listing.store_id):
        # Nothing identifies the listing; remember the block against the URL itself.
        key = f"{listing.marketplace}:url:{url}"
    saved = store.save_listing(record, listing_key=key, url=url, source=source, html=html)
    if listing.status == "ok":
        store.note_channel(saved["listing_id"], channel, is_new=saved["is_new"])
    answer["listing_id"] = saved["listing_id"]
    answer["images"].update(total=saved["images_total"], new=saved["images_new"])
    if listing.status == "blocked":
        answer["reason"] = listing.reason or (
            "the marketplace showed a captcha instead of the product; open the page in the "
            "browser, solve the captcha, and PicGuard will read it again")
    return answer
