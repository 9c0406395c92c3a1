"""Input checks shared by the dashboard's API blueprints: JSON bodies, fields, query numbers."""

from __future__ import annotations

from flask import request

from daemon.web.security import ApiError


def body() -> dict:
    """The request's JSON object, or a 400 saying what to send."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object; check the request")
    return data


def field(data: dict, name: str, kind: type, required: bool = True):
    """One field of a JSON body, of the given type (None when optional and absent)."""
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ApiError(400, "bad_field", (
            f"field {name!r} is {'missing' if value is None else 'of the wrong type'}; "
            f"send it as a JSON {kind.__name__}"))
    return value


def int_list(data: dict, name: str, most: int) -> list[int]:
    """A non-empty list of at most `most` integer ids."""
    ids = field(data, name, list)
    if not ids or len(ids) > most or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ApiError(400, "bad_ids", f"{name} must be 1 to {most} ids (integers)")
    return ids


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter, clamped to [low, high]."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return min(max(int(raw), low), high)
    except ValueError as exc:
        raise ApiError(400, "bad_number", f"{name} must be a whole number") from exc
