"""Discovery settings: consent, the request budget, keywords; checked, saved, re-read live."""

from __future__ import annotations

import contextlib
import json

from daemon.config import ConfigError, Settings, load_settings, save_settings, set_value

DISCOVERY_KEYS = ("image_search_consent", "min_interval_s", "per_day", "pause_when_idle",
                  "keywords", "pages_per_keyword", "image_sweep_every_days")
# Limits on what the seller may set: a sweep must stay slower than a person clicking.
_RANGES = {"min_interval_s": (1, 86_400), "per_day": (1, 5_000),
           "pages_per_keyword": (1, 10), "image_sweep_every_days": (1, 365)}
MAX_KEYWORDS = 100
MAX_KEYWORD_LEN = 200


class SweepError(ValueError):
    """A sweep request that cannot be served: HTTP-like status, snake_case code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def discovery_settings(settings: Settings) -> dict:
    """The discovery settings as they are now, re-read from settings.json.

    Re-read on every call so a `picguard config set` (e.g. consent turned off) takes effect
    in a running daemon at once, not at its next start.
    """
    path = settings.settings_path
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stored = {}
        for key in DISCOVERY_KEYS:
            if isinstance(stored, dict) and key in stored:
                # a hand-edited bad value: keep the last good one
                with contextlib.suppress(ConfigError):
                    set_value(settings, key, stored[key])
    out = {key: getattr(settings, key) for key in DISCOVERY_KEYS}
    for key, (low, high) in _RANGES.items():
        out[key] = min(max(int(out[key]), low), high)
    out["keywords"] = list(out["keywords"])
    return out


def update_discovery(settings: Settings, changes: object) -> dict:
    """Check and save discovery settings (all or some keys); raises SweepError 400."""
    if not isinstance(changes, dict):
        raise SweepError(400, "bad_json", "send the settings as a JSON object")
    unknown = sorted(set(changes) - set(DISCOVERY_KEYS))
    if unknown:
        raise SweepError(400, "unknown_setting", (
            f"unknown discovery setting(s) {', '.join(unknown)}; known: "
            f"{', '.join(DISCOVERY_KEYS)}"))
    # Write onto what is on disk now, so keys another process changed are not overwritten
    # with this process's older values.
    try:
        on_disk = load_settings(settings.data_dir)
    except ConfigError as exc:
        raise SweepError(409, "bad_settings_file", str(exc)) from exc
    for key, value in changes.items():
        if key in ("image_search_consent", "pause_when_idle") and not isinstance(value, bool):
            raise SweepError(400, "bad_field", f"{key} must be true or false")
        if key in _RANGES:
            low, high = _RANGES[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise SweepError(400, "bad_field",
                                 f"{key} must be a whole number from {low} to {high}")
        if key == "keywords":
            value = clean_keywords(value)
        setattr(on_disk, key, value)
    save_settings(on_disk)
    return discovery_settings(settings)


def clean_keywords(value: object) -> list[str]:
    """Keywords as the seller gave them, spaces folded, duplicates dropped; SweepError 400."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SweepError(400, "bad_field", "keywords must be a list of strings")
    words = list(dict.fromkeys(" ".join(v.split()) for v in value if v.strip()))
    if len(words) > MAX_KEYWORDS or any(len(w) > MAX_KEYWORD_LEN for w in words):
        raise SweepError(400, "bad_field", (
            f"at most {MAX_KEYWORDS} keywords of at most {MAX_KEYWORD_LEN} characters each"))
    return words
