"""From a match to an alert: whose photo came first, own stores, suppressions; and alert views."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from daemon.config import Settings
from daemon.store import Store
from daemon.timeutil import parse_iso


def own_time(photo: dict) -> str | None:
    """The seller's earliest provable time for a photo: EXIF capture or registration."""
    times = [t for t in (photo.get("taken_at"), photo.get("registered_at")) if t]
    return min(times, key=lambda t: parse_iso(t)) if times else None


def other_listings(store: Store, settings: Settings, image_id: int) -> list[dict]:
    """Listings showing an image that are not the seller's own stores, earliest first."""
    return [
        row for row in store.image_listings(image_id)
        if not settings.is_own_store(row["marketplace"], row["store_key"])
    ]


def raise_alert(store: Store, settings: Settings, *, photo: dict, image: dict, kind: str,
                score: float, details: dict) -> int | None:
    """Record a match and, when it warrants one, an alert; returns the new alert's id.

    `copy` matches always alert: `copied` when the seller's time is earlier than the other
    store's first sighting, else `resembles`. A `similar` match (the same product or backdrop,
    not the same photo) alerts only as `resembles`, when the other store showed it first:
    that is the complaint risk; a later look-alike of the seller's photo is not a copy.
    Own-store listings and "not my photo" pairs never alert.
    """
    match_id = store.record_match(photo["id"], image["id"], kind, score, details)
    listings = other_listings(store, settings, image["id"])
    if not listings or store.is_suppressed(photo["id"], image["image_key"]):
        return None
    first_seen = min((row["first_seen"] for row in listings), key=parse_iso)
    mine = own_time(photo)
    earlier = mine is not None and parse_iso(mine) < parse_iso(first_seen)
    if kind != "copy" and earlier:
        return None
    alert_id, created = store.create_alert(
        match_id=match_id, photo_id=photo["id"], image_id=image["id"],
        listing_id=listings[0]["id"], kind="copied" if earlier else "resembles",
        own_time=mine, other_first_seen=first_seen, notify=bool(settings.notify_urls),
    )
    return alert_id if created else None


def _data_url(blob: bytes | None) -> str | None:
    return "data:image/jpeg;base64," + base64.b64encode(blob).decode() if blob else None


def alert_view(row: dict, own_thumb: bytes | None = None,
               other_thumb: bytes | None = None) -> dict:
    """The API/CLI shape of an alert (docs/API.md); thumbnails as data URLs when given."""
    return {
        "id": row["id"], "kind": row["kind"], "state": row["state"],
        "created_at": row["created_at"], "score": round(row["score"], 4),
        "match_kind": row["match_kind"],
        "details": json.loads(row["details"]) if row.get("details") else {},
        "notify": {"state": row["notify_state"], "sent_at": row["notified_at"],
                   "error": row["notify_error"]},
        "own": {"photo_id": row["photo_id"], "file_name": row["file_name"],
                "path": row["path"], "sha256": row["photo_sha256"], "shoot": row["shoot"],
                "taken_at": row["taken_at"], "registered_at": row["registered_at"],
                "own_time": row["own_time"], "thumb": _data_url(own_thumb)},
        "other": {"image_id": row["image_id"], "url": row["image_url"],
                  "first_seen": row["other_first_seen"], "listing_id": row["listing_id"],
                  "listing_url": row["canonical_url"] or row["listing_url"],
                  "store_id": row["store_key"], "store_name": row["store_name"],
                  "title": row["title"], "marketplace": row["marketplace"],
                  "thumb": _data_url(other_thumb)},
    }


def alert_text(view: dict) -> tuple[str, str]:
    """A bilingual notification title and body for one alert."""
    other, own = view["other"], view["own"]
    store = other["store_name"] or other["store_id"] or "?"
    if view["kind"] == "copied":
        title = f"PicGuard: 你的照片出现在其他店铺 / Your photo is on another store ({store})"
        lead = ("你的照片比对方更早，可导出证据包。 Your photo is the earlier one: you can "
                "export an evidence pack.")
    else:
        title = (f"PicGuard: 你的照片与其他店铺的照片相似 / Your photo resembles another "
                 f"store's ({store})")
        lead = ("对方更早展示了相似的照片，请先核实再发布或申诉。 The other store showed a "
                "resembling photo first: check before you publish or dispute.")
    body = "\n".join([
        lead,
        f"你的照片 / Your photo: {own['file_name']} ({own['own_time']})",
        f"对方 / Other listing: {other['title'] or ''} {other['listing_url'] or ''}",
        f"对方图片 / Their image: {other['url']} (first seen {other['first_seen']})",
        f"匹配 / Match: {view['match_kind']} score {view['score']}",
        f"Alert #{view['id']}: picguard evidence {view['id']}",
    ])
    return title, body


def photo_thumb(path: str, max_side: int = 160) -> bytes | None:
    """A small JPEG of a catalog original for alert views; None when the file is gone."""
    from daemon.matching.imageio import ImageError, make_thumbnail

    try:
        return make_thumbnail(Path(path), max_side=max_side)
    except ImageError:
        return None
