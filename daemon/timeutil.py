"""UTC timestamps as ISO 8601 strings: the one time format stored and shown."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    """Now, timezone-aware UTC, truncated to whole milliseconds."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def iso(dt: datetime | None) -> str | None:
    """Render a datetime as `2026-11-28T13:00:00.123Z` (UTC); naive values are taken as UTC."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    """The current UTC time as stored in the database."""
    return iso(utcnow())  # type: ignore[return-value]


def parse_iso(text: str | None) -> datetime | None:
    """Parse what `iso` wrote (or any ISO 8601 string); None for empty input."""
    if not text:
        return None
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def in_seconds(seconds: float) -> str:
    """The UTC time `seconds` from now, for next-attempt columns."""
    return iso(utcnow() + timedelta(seconds=seconds))  # type: ignore[return-value]


def backoff_seconds(attempts: int, base: float = 60, cap: float = 6 * 3600) -> float:
    """Exponential backoff with +-20% jitter: base after the 1st failure, doubling, capped.

    The one retry policy for fetches, watch visits and notifications, so retries of many
    items spread out instead of arriving together.
    """
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.8, 1.2)
