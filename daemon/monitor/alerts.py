"""From a match to an alert: whose photo came first, own stores, suppressions; and alert views."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

from daemon.config import Settings
from daemon.matching.compare import MatchResult
from daemon.monitor.verdict_rules import (
    KIND_WORDS,
    RULES_VERSION,
    Verdict,
    decide,
    other_facts,
    own_facts,
)
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


def verdict_for(store: Store, settings: Settings, photo: dict, image: dict,
                listings: list[dict] | None = None,
                capture_last_modified: str | None = None) -> Verdict:
    """Weigh every time known for both sides (daemon.monitor.verdict_rules)."""
    if listings is None:
        listings = other_listings(store, settings, image["id"])
    if capture_last_modified is None:
        capture = store.get_capture(image["id"])
        capture_last_modified = capture["last_modified"] if capture else None
    own = own_facts(photo, store.shoot_capture_times(photo["id"]))
    other = other_facts([row["first_seen"] for row in listings],
                        [image.get("last_modified"), capture_last_modified])
    return decide(own, other)


def raise_alert(store: Store, settings: Settings, *, photo: dict, image: dict, kind: str,
                score: float, details: dict) -> int | None:
    """Record a match and, when it warrants one, an alert; returns the new alert's id.

    The alert's kind says only what the times prove (verdict_rules): `copied`, `resembles`
    or `unclear`. A `similar` match (the same product or backdrop, not the same photo) does
    not alert when the seller's photo is provably earlier: a later look-alike is not a copy.
    Own-store listings and "not my photo" pairs never alert.
    """
    match_id = store.record_match(photo["id"], image["id"], kind, score, details)
    listings = other_listings(store, settings, image["id"])
    if not listings or store.is_suppressed(photo["id"], image["image_key"]):
        return None
    verdict = verdict_for(store, settings, photo, image, listings)
    if kind != "copy" and verdict.kind == "copied":
        return None
    first_seen = min((row["first_seen"] for row in listings), key=parse_iso)
    alert_id, created = store.create_alert(
        match_id=match_id, photo_id=photo["id"], image_id=image["id"],
        listing_id=listings[0]["id"], kind=verdict.kind,
        own_time=verdict.own_time or own_time(photo), other_first_seen=first_seen,
        notify=bool(settings.notify_urls),
    )
    if created:
        store.set_alert_verdict(alert_id, verdict.kind, verdict.own_time,
                                json.dumps(verdict.to_dict()))
        # which channel found the listing (browsing, image_search, ...): issue 13 coverage
        store.set_alert_channel(alert_id, store.listing_channel(listings[0]["id"]))
    return alert_id if created else None


# Why an alert was withdrawn (alerts.withdrawn_reason), as the seller reads it.
WITHDRAWN_REASONS = {
    "no_match": ("更新后的比对规则重新比对了你的照片和当时截存的图片，判定不是同一张照片"
                 "（相似之处在背景或类似的商品上）。",
                 "PicGuard's updated matcher compared your photo with the captured image again "
                 "and finds it is not the same photo (what they share is the backdrop or a "
                 "similar product)."),
    "similar_only": ("更新后的比对规则判定两张图片只是相似，不是同一张照片；"
                     "你先有的照片被人拍得相似，不等于被复制。",
                     "PicGuard's updated matcher finds the images only similar, not the same "
                     "photo; a later look-alike of a photo you provably had first is not a copy."),
}


def review_alerts(store: Store, image_id: int,
                  recheck: Callable[[int], MatchResult | None]) -> int:
    """Withdraw the open alerts on `image_id` that the current matcher no longer supports;
    returns how many. Run when an image is re-matched after a matcher upgrade.

    `recheck(photo_id)` compares the photo with the captured image (the bytes the evidence
    pack holds), None when there is no capture or photo: then nothing decides and the
    alert stands. An alert stands while the pair is a copy, or similar and the alert does
    not say `copied` (raise_alert's rule); otherwise it is withdrawn with the reason.
    """
    withdrawn = 0
    for alert in store.alerts_for_images([image_id]):
        result = recheck(alert["photo_id"])
        if result is None or result.kind == "copy":
            continue
        match = (result.kind, result.score, result.details) if result.kind else None
        if result.kind == "similar" and alert["kind"] != "copied":
            store.set_match_result(alert["photo_id"], image_id, *match)  # no longer a copy
            continue
        reason = "similar_only" if result.kind == "similar" else "no_match"
        withdrawn += store.withdraw_alert(alert["id"], reason, match)
    return withdrawn


def reclassify_alerts(store: Store, settings: Settings, force: bool = False) -> int:
    """Re-decide every alert's kind with the current rules (after migration 4 or a rule
    change); returns how many changed. Runs once per RULES_VERSION unless forced."""
    if not force and store.get_meta("verdict_rules_version") == str(RULES_VERSION):
        return 0
    changed, after = 0, 0
    while rows := store.verdict_rows(after_id=after):
        updates = []
        for row in rows:
            after = row["id"]
            image = {"id": row["image_id"], "last_modified": row["last_modified"]}
            photo = {"id": row["photo_id"], "taken_at": row["taken_at"],
                     "registered_at": row["registered_at"]}
            verdict = verdict_for(store, settings, photo, image,
                                  capture_last_modified=row["capture_last_modified"] or "")
            changed += verdict.kind != row["kind"]
            updates.append((verdict.kind, verdict.own_time, json.dumps(verdict.to_dict()),
                            row["id"]))
        store.set_alert_verdicts(updates)  # one transaction per batch of 500
    store.set_meta("verdict_rules_version", str(RULES_VERSION))
    return changed


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
        "verdict": json.loads(row["verdict"]) if row.get("verdict") else None,
        "channel": row.get("channel"),
        "withdrawn": _withdrawn_view(row.get("withdrawn_reason")),
    }


def _withdrawn_view(code: str | None) -> dict | None:
    if not code:
        return None
    zh, en = WITHDRAWN_REASONS.get(code, ("", code))
    return {"reason": code, "zh": zh, "en": en}


def alert_text(view: dict) -> tuple[str, str]:
    """A bilingual notification title and body for one alert."""
    other, own = view["other"], view["own"]
    store = other["store_name"] or other["store_id"] or "?"
    words = KIND_WORDS.get(view["kind"], KIND_WORDS["unclear"])
    title = f"PicGuard: {words['zh'][0]} / {words['en'][0]} ({store})"
    lead = f"{words['zh'][1]} {words['en'][1]}"
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
