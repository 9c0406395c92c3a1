"""Whose photo came first, said only as far as the times prove it: copied, resembles, unclear.

The seller's side has two kinds of time: the EXIF capture time of the original (stronger
when other photos of the same shoot were taken around it: a series is hard to fake) and
the registration time (PicGuard's own clock, signed into the ledger). The other side has
PicGuard's first sighting of the image on their listing, the image's HTTP Last-Modified
and any date the page itself carried. PicGuard only knows when it looked: the other store
may have shown the photo long before, so a verdict needs a margin.

Rules (docs/API.md "Verdicts"):
* `copied`    the seller's earliest provable time is earlier than *every* time known for
              the other side by at least the margin of that time's kind;
* `resembles` some time of the other side is earlier than the seller's earliest time by at
              least MARGIN (the other store provably showed it first);
* `unclear`   otherwise: e.g. a photo known only from its registration minutes before
              PicGuard first saw the other listing.

Margins: 24 hours for a registration time or an EXIF time backed by the same shoot (EXIF
times carry no time zone unless OffsetTimeOriginal is set: up to +-14 h; and a listing
first seen now may have gone up since PicGuard last looked). A lone EXIF time (no series
behind it) is easy to edit, so it needs 72 hours.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from daemon.timeutil import iso, parse_iso

RULES_VERSION = 1
MARGIN = timedelta(hours=24)
MARGIN_LONE_EXIF = timedelta(hours=72)
# Same-shoot photos taken within this span of the original back its EXIF time.
SHOOT_SPAN = timedelta(days=2)
KINDS = ("copied", "resembles", "unclear")
# The one wording of each verdict: (headline, what it means) per language. The notification,
# the evidence report and the dashboard's catalogs (daemon/web/static/i18n) say the same.
KIND_WORDS = {
    "copied": {
        "zh": ("你的照片在先：对方店铺使用了你的照片",
               "你能证明的时间早于对方所有已知的时间，可导出证据包。"),
        "en": ("Your photo came first: another store uses it",
               "Your provable time is earlier than every time known for the other store: you "
               "can export an evidence pack."),
    },
    "resembles": {
        "zh": ("对方店铺更早展示了这张图片",
               "对方的时间早于你最早的记录：请先核实再发布或申诉，不要声称你更早。"),
        "en": ("The other store showed this image first",
               "Their time is earlier than your earliest record: check before you publish or "
               "dispute, and do not claim you were first."),
    },
    "unclear": {
        "zh": ("无法确定谁先展示了这张图片",
               "现有时间不能证明哪一方更早：不要声称你更早；请登记原图的同组照片（带拍摄时间）。"),
        "en": ("It is unclear who showed this image first",
               "The times PicGuard has do not prove which side was first: do not claim you were "
               "first; register the original's shoot series (with capture times)."),
    },
}


@dataclass
class TimeFact:
    """One dated fact behind a verdict: which side, what it is, when, and how strong."""

    side: str      # "own" | "other"
    source: str    # capture | capture_shoot | registration | first_seen | last_modified | page_date
    time: str      # ISO UTC
    margin_h: int = 24


@dataclass
class Verdict:
    """The kind plus the facts and the reason, shown by the dashboard and the report."""

    kind: str
    own_time: str | None
    other_time: str | None
    reason: str
    facts: list[TimeFact] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "own_time": self.own_time, "other_time": self.other_time,
                "reason": self.reason, "margin_hours": int(MARGIN.total_seconds() // 3600),
                "rules_version": RULES_VERSION, "facts": [asdict(f) for f in self.facts]}


def http_time(value: str | None) -> str | None:
    """An HTTP date (`Last-Modified`) as ISO UTC; None when missing or unreadable."""
    if not value:
        return None
    try:
        return iso(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        return None


def _dt(text: str | None) -> datetime | None:
    try:
        return parse_iso(text)
    except ValueError:
        return None


def own_facts(photo: dict, shoot_times: list[str] | None = None) -> list[TimeFact]:
    """The seller's dated facts for a photo: EXIF capture (backed or lone) and registration."""
    facts = []
    taken = _dt(photo.get("taken_at"))
    if taken is not None:
        backed = any(abs(t - taken) <= SHOOT_SPAN for t in map(_dt, shoot_times or []) if t)
        margin = MARGIN if backed else MARGIN_LONE_EXIF
        facts.append(TimeFact("own", "capture_shoot" if backed else "capture",
                              iso(taken), int(margin.total_seconds() // 3600)))
    registered = _dt(photo.get("registered_at"))
    if registered is not None:
        facts.append(TimeFact("own", "registration", iso(registered),
                              int(MARGIN.total_seconds() // 3600)))
    return facts


def other_facts(first_seen: list[str], last_modified: list[str | None] = (),
                page_dates: list[str] = ()) -> list[TimeFact]:
    """The other side's dated facts: first sightings, Last-Modified headers, page dates."""
    facts = [TimeFact("other", "first_seen", iso(t)) for t in map(_dt, first_seen) if t]
    for value in last_modified:
        when = http_time(value) if value and not value[:4].isdigit() else value
        if _dt(when):
            facts.append(TimeFact("other", "last_modified", iso(_dt(when))))
    facts += [TimeFact("other", "page_date", iso(t)) for t in map(_dt, page_dates) if t]
    return facts


def decide(own: list[TimeFact], other: list[TimeFact]) -> Verdict:
    """Apply the rules above to the two sides' facts."""
    facts = sorted(own + other, key=lambda f: (_dt(f.time), f.side))
    if not own or not other:
        return Verdict("unclear", None, None, "no_times", facts)
    other_first = min(other, key=lambda f: _dt(f.time))
    other_dt = _dt(other_first.time)
    # copied: any own fact earlier than every other-side time by its own margin
    for fact in sorted(own, key=lambda f: _dt(f.time)):
        if _dt(fact.time) + timedelta(hours=fact.margin_h) <= other_dt:
            return Verdict("copied", fact.time, other_first.time, f"own_{fact.source}_earlier",
                           facts)
    own_first = min(own, key=lambda f: _dt(f.time))
    if other_dt + MARGIN <= _dt(own_first.time):
        return Verdict("resembles", own_first.time, other_first.time,
                       f"other_{other_first.source}_earlier", facts)
    return Verdict("unclear", own_first.time, other_first.time, "within_margin", facts)
