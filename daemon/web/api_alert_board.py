"""Dashboard routes for alerts: filtered pages, filter values, bulk actions, side-by-side PNG.

The per-alert routes of the extension (GET/POST /alerts/<id>, evidence) stay in api.py;
these are what the seller's dashboard needs beyond them (docs/API.md "Dashboard").
"""

from __future__ import annotations

import base64
import binascii
import io
import threading
from collections import OrderedDict
from pathlib import Path

from flask import Blueprint, Response, request
from PIL import Image

from daemon.config import Settings
from daemon.evidence.compare_image import side_by_side
from daemon.matching.imageio import ImageError
from daemon.monitor.alerts import alert_view, reclassify_alerts
from daemon.monitor.verdict_rules import KINDS
from daemon.store import ALERT_ACTIONS, ALERT_STATES, Store
from daemon.web.security import ApiError
from daemon.web.validate import body, field, int_arg, int_list

MAX_BULK = 1000
STATES = (*ALERT_STATES, "all")
PICTURE_CACHE = 32  # side-by-side pictures kept in memory (each ~0.3 MB)


def png(jpeg: bytes) -> bytes:
    """The side-by-side JPEG as PNG (lossless from here on, for the browser and screenshots)."""
    out = io.BytesIO()
    with Image.open(io.BytesIO(jpeg)) as im:
        im.save(out, "PNG", optimize=False, compress_level=3)
    return out.getvalue()


def alert_picture(store: Store, alert_id: int) -> bytes:
    """The evidence pack's side-by-side picture for one alert (original left, theirs right)."""
    row = store.get_alert(alert_id)
    if row is None:
        raise ApiError(404, "no_alert", f"there is no alert {alert_id}; list them first")
    try:
        own = Path(row["path"]).read_bytes()
    except OSError as exc:
        raise ApiError(409, "original_missing", (
            f"the original {row['path']} cannot be read ({exc.strerror}); put the file back "
            "where it was registered")) from exc
    capture = store.get_capture(row["image_id"])
    image = store.get_image(row["image_id"])
    other = capture["content"] if capture else (image or {}).get("thumb")
    if not other:
        raise ApiError(409, "no_capture", (
            "PicGuard kept neither the other store's image nor its thumbnail; open their "
            "listing so the extension pushes it again"))
    lines = [f"PicGuard alert #{alert_id}: {row['kind']} ({row['match_kind']}), "
             f"score {row['score']:.3f}", "left: your original  |  right: the other store's image"]
    try:
        jpeg, _ = side_by_side(own, other, lines)
    except ImageError as exc:
        raise ApiError(422, "bad_image", f"the images cannot be compared: {exc}") from exc
    return png(jpeg)


def check_picture(store: Store, photo: bytes, image_id: int) -> bytes:
    """Side by side for the pre-publication check: the dropped photo and a stored image."""
    capture, image = store.get_capture(image_id), store.get_image(image_id)
    other = capture["content"] if capture else (image or {}).get("thumb")
    if not other:
        raise ApiError(404, "no_image", f"PicGuard holds no picture of image {image_id}")
    try:
        jpeg, _ = side_by_side(photo, other, [
            "PicGuard check before publishing",
            "left: the photo you checked  |  right: the other store's image"])
    except ImageError as exc:
        raise ApiError(422, "bad_image", f"the images cannot be compared: {exc}") from exc
    return png(jpeg)


def create_alert_board_api(store: Store, settings: Settings) -> Blueprint:
    """The blueprint; re-classifies existing alerts once when the verdict rules changed."""
    bp = Blueprint("api_alert_board", __name__, url_prefix="/api/v1")
    reclassify_alerts(store, settings)
    pictures: OrderedDict[int, bytes] = OrderedDict()
    lock = threading.Lock()

    @bp.get("/alerts/search")
    def search():
        filters = {name: request.args.get(name) or None
                   for name in ("state", "kind", "store", "marketplace", "channel")}
        if filters["state"] and filters["state"] not in STATES:
            raise ApiError(400, "bad_state", f"state must be one of {', '.join(STATES)}")
        if filters["kind"] and filters["kind"] not in KINDS:
            raise ApiError(400, "bad_kind", "kind must be copied, resembles or unclear")
        offset = int_arg("offset", 0, 0, 10**9)
        limit = int_arg("limit", 50, 1, 200)
        rows, total = store.search_alerts(filters, offset=offset, limit=limit)
        # thumbs=1: the other store's stored thumbnail inline; the seller's own photo comes
        # from GET /catalog/<id>/thumb, which the browser caches (decoding 25 originals per
        # page would blow the 200 ms budget: bench/dashboard.py)
        thumbs = request.args.get("thumbs", "0") == "1"
        others = store.image_thumbs([r["image_id"] for r in rows]) if thumbs else {}
        views = [alert_view(row, other_thumb=others.get(row["image_id"])) for row in rows]
        return {"alerts": views, "total": total, "offset": offset, "limit": limit,
                "counts": store.alert_counts()}

    @bp.get("/alerts/facets")
    def facets():
        return store.alert_facets()

    @bp.post("/alerts/bulk")
    def bulk():
        data = body()
        action = field(data, "action", str)
        if action not in ALERT_ACTIONS:
            raise ApiError(400, "bad_action", "action must be confirm, dismiss or not_mine")
        ids = int_list(data, "ids", MAX_BULK)
        changed, refused = store.bulk_set_alert_state(ids, action)
        return {"action": action, "changed": changed, "refused": refused,
                "missing": sorted(set(ids) - set(changed) - set(refused)),
                "counts": store.alert_counts()}

    @bp.get("/alerts/<int:alert_id>/compare.png")
    def compare(alert_id: int):
        with lock:
            cached = pictures.get(alert_id)
        if cached is None:
            cached = alert_picture(store, alert_id)
            with lock:
                pictures[alert_id] = cached
                while len(pictures) > PICTURE_CACHE:
                    pictures.popitem(last=False)
        return Response(cached, mimetype="image/png",
                        headers={"Cache-Control": "private, max-age=300"})

    @bp.post("/check/compare.png")
    def check_compare():
        data = body()
        image_id = field(data, "image_id", int)
        try:
            photo = base64.b64decode(field(data, "image", str), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ApiError(400, "bad_image", "image must be base64-encoded bytes") from exc
        return Response(check_picture(store, photo, image_id), mimetype="image/png")

    return bp
