"""Dashboard routes for settings: own stores, notification channels (with a test), the token.

Changes apply to the running daemon at once (the settings object is shared with the
pipeline) and are saved to settings.json like `picguard config` does.
"""

from __future__ import annotations

import re

import apprise
from flask import Blueprint

from daemon import __version__
from daemon.config import Settings, save_settings
from daemon.monitor.notify import send_test
from daemon.web.security import ApiError
from daemon.web.tokens import rotate_token
from daemon.web.validate import body, field

MARKETPLACES = ("aliexpress", "amazon", "ebay", "etsy", "walmart", "shopify", "mercadolibre",
                "lazada", "taobao", "temu", "shopee", "web")
_STORE_RE = re.compile(r"([a-z]+):([A-Za-z0-9._@-]{1,80})")
MAX_ITEMS = 50


def _strings(data: dict, name: str) -> list[str] | None:
    values = field(data, name, list, required=False)
    if values is None:
        return None
    if len(values) > MAX_ITEMS or not all(isinstance(v, str) for v in values):
        raise ApiError(400, "bad_field", f"{name} must be a list of at most {MAX_ITEMS} strings")
    return [v.strip() for v in values if v.strip()]


def check_stores(stores: list[str]) -> list[str]:
    """Own stores as `marketplace:store_id` with a known marketplace id."""
    for value in stores:
        match = _STORE_RE.fullmatch(value)
        if not match or match.group(1) not in MARKETPLACES:
            raise ApiError(400, "bad_store", (
                f"{value!r} is not marketplace:store_id; use one of {', '.join(MARKETPLACES)} "
                "then a colon and the store's id, e.g. aliexpress:1102011"))
    return list(dict.fromkeys(stores))


def check_urls(urls: list[str]) -> list[str]:
    """Notification URLs Apprise understands (mailto://, tgram://, dingtalk://, json://...)."""
    for url in urls:
        if not apprise.Apprise().add(url):
            raise ApiError(400, "bad_notify_url", (
                f"{url!r} is not a notification URL Apprise understands; see "
                "https://github.com/caronc/apprise/wiki for the forms (mailto://, tgram://, ...)"))
    return list(dict.fromkeys(urls))


def settings_view(settings: Settings) -> dict:
    return {"own_stores": settings.own_stores, "notify_urls": settings.notify_urls,
            "data_dir": str(settings.data_dir), "port": settings.port, "version": __version__,
            "marketplaces": list(MARKETPLACES)}


def create_settings_api(settings: Settings) -> Blueprint:
    """The settings blueprint, editing the daemon's live settings object."""
    bp = Blueprint("api_settings", __name__, url_prefix="/api/v1")

    @bp.get("/settings")
    def get_settings():
        return settings_view(settings)

    @bp.post("/settings")
    def set_settings():
        data = body()
        stores, urls = _strings(data, "own_stores"), _strings(data, "notify_urls")
        if stores is None and urls is None:
            raise ApiError(400, "nothing_to_change", "send own_stores and/or notify_urls")
        if stores is not None:
            settings.own_stores = check_stores(stores)
        if urls is not None:
            settings.notify_urls = check_urls(urls)
        save_settings(settings)
        return settings_view(settings)

    @bp.post("/settings/notify-test")
    def notify_test():
        urls = _strings(body(), "urls")
        urls = check_urls(urls) if urls else settings.notify_urls
        if not urls:
            raise ApiError(400, "no_channels", (
                "no notification channel is configured; add an Apprise URL first"))
        error = send_test(urls)
        return {"ok": error is None, "error": error, "channels": len(urls)}

    @bp.post("/token/rotate")
    def token_rotate():
        field(body(), "confirm", bool)
        token = rotate_token(settings.token_path)
        return {"token": token, "note": (
            "the old token no longer works: paste the new one into the extension's options")}

    return bp
