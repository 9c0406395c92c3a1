"""Trusted timestamps of the ledger's head: queued, requested with backoff, verified offline.

The seller's own key signs the ledger, so on its own it cannot prove *when* an entry was
written. An RFC 3161 token from a public Time-Stamp Authority can: it imprints the head's
entry_hash (daemon.provenance.tsa), and through the hash chain it covers every entry up to
that head, so a registration is "covered" once some stamped head is at or after it.

Stamping never blocks the work: a head waits in the store's queue per TSA, each attempt
has a short timeout, and a TSA that cannot be reached is tried again later (doubling the
wait up to six hours). The scheduler calls `run_scheduled`; `picguard ledger stamp` calls
`stamp_now`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from daemon.config import Settings
from daemon.provenance.chain import entry_body
from daemon.provenance.ledger import Ledger
from daemon.provenance.tsa import (
    Token,
    TokenCheck,
    TsaError,
    check_token,
    entry_message,
    load_roots,
    request_token,
)
from daemon.store import Store
from daemon.timeutil import in_seconds, now_iso, parse_iso, utcnow

RETRY_FIRST_S = 60
RETRY_MAX_S = 6 * 3600

Requester = Callable[[str, bytes], Token]


@dataclass
class StampReport:
    """The offline check of every stored token, and what the ledger's tokens cover."""

    checks: list[dict] = field(default_factory=list)
    covered_seq: int = 0  # the newest head with a token that verifies to a trusted root

    @property
    def bad(self) -> list[dict]:
        return [c for c in self.checks if c["status"] == "bad"]

    def to_dict(self) -> dict:
        count = {s: sum(c["status"] == s for c in self.checks) for s in ("ok", "untrusted", "bad")}
        return {"checked": len(self.checks), **count, "covered_through_seq": self.covered_seq,
                "tokens": self.checks}


class Stamper:
    """Stamps one installation's ledger head through the TSAs in its settings."""

    def __init__(self, store: Store, settings: Settings, request: Requester | None = None):
        self.store = store
        self.settings = settings
        self.request = request or (lambda url, message: request_token(url, message, timeout=15))

    def _head_entry(self) -> dict | None:
        Ledger(self.store, self.settings.data_dir).head()  # backfills what is not recorded yet
        return self.store.ledger_head()

    def queue_head(self, force: bool = False) -> dict | None:
        """Queue the current head for every configured TSA, unless (without `force`) it is
        already stamped or the last token is younger than `stamp_interval_s`."""
        head = self._head_entry()
        if head is None or not self.settings.tsa_urls:
            return None
        self.store.drop_stamp_queue_except(self.settings.tsa_urls)
        last = self.store.last_ledger_stamp()
        if not force and last is not None:
            if last["head_hash"] == head["entry_hash"]:
                return None
            age = utcnow() - parse_iso(last["created_at"])
            if age < timedelta(seconds=self.settings.stamp_interval_s):
                return None
        self.store.queue_ledger_stamp(head["seq"], head["entry_hash"], self.settings.tsa_urls)
        return head

    def run_due(self, everything: bool = False) -> dict:
        """Try each queued (head, TSA) pair that is due (all of them with `everything`)."""
        counts = {"stamped": 0, "failed": 0, "errors": []}
        due = (self.store.ledger_stamp_queue() if everything
               else self.store.due_ledger_stamps(now_iso()))
        for row in due:
            entries = list(self.store.ledger_entries(row["seq"], row["seq"]))
            if not entries or entries[0]["entry_hash"] != row["head_hash"]:
                # the queued head is not in the chain any more: stamping it would prove nothing
                self.store.forget_queued_stamp(row["head_hash"])
                continue
            entry = entries[0]
            try:
                token = self.request(row["tsa_url"],
                                     entry_message(entry["prev_hash"], entry_body(entry)))
            except TsaError as exc:
                wait = min(RETRY_FIRST_S * 2 ** row["attempts"], RETRY_MAX_S)
                self.store.ledger_stamp_failed(row["head_hash"], row["tsa_url"], str(exc),
                                               in_seconds(wait))
                counts["failed"] += 1
                counts["errors"].append(str(exc))
                continue
            self.store.add_ledger_stamp(entry["seq"], entry["entry_hash"], row["tsa_url"],
                                        token.der, token.gen_time, token.serial)
            counts["stamped"] += 1
        return counts

    def run_scheduled(self) -> dict:
        """The scheduler's job: queue the head when it is due a stamp, then try what is due."""
        queued = self.queue_head(force=False)
        result = self.run_due()
        result["queued_seq"] = queued["seq"] if queued else None
        result["waiting"] = len(self.store.ledger_stamp_queue())
        result.pop("errors")
        return result

    def stamp_now(self) -> dict:
        """`picguard ledger stamp`: queue the head and ask every TSA now, once."""
        head = self.queue_head(force=True)
        if head is None:
            return {"head": None, "stamped": 0, "failed": 0, "errors": [], "waiting": 0}
        result = self.run_due(everything=True)
        result["head"] = {"seq": head["seq"], "entry_hash": head["entry_hash"]}
        result["waiting"] = len(self.store.ledger_stamp_queue())
        result["tokens"] = [{k: v for k, v in s.items() if k != "token"}
                            for s in self.store.ledger_stamps(head["seq"], head["seq"])]
        return result

    def status(self) -> dict:
        """For status displays: the newest token and what is still waiting."""
        last = self.store.last_ledger_stamp()
        return {"tokens": self.store.count_ledger_stamps(),
                "last": {"seq": last["seq"], "tsa": last["tsa_url"], "gen_time": last["gen_time"]}
                if last else None,
                "waiting": [{"seq": r["seq"], "tsa": r["tsa_url"], "attempts": r["attempts"],
                             "next_attempt_at": r["next_attempt_at"], "error": r["last_error"]}
                            for r in self.store.ledger_stamp_queue()]}


def verify_stamps(store: Store, data_dir: Path | None) -> StampReport:
    """Check every stored token offline: its head must be in the chain with that hash, and its
    signature must verify; `covered_seq` is the newest head with a trusted token."""
    report = StampReport()
    roots = load_roots(data_dir)
    hashes = store.ledger_hash_index()
    for stamp in store.ledger_stamps():
        if hashes.get(stamp["head_hash"]) != stamp["seq"]:
            check = TokenCheck("bad", f"the stamped head (entry {stamp['seq']}) is not in the "
                               "ledger any more: entries up to it were changed or deleted")
        else:
            check = check_token(stamp["token"], stamp["head_hash"], roots)
        report.checks.append({"seq": stamp["seq"], "head_hash": stamp["head_hash"],
                              "tsa": stamp["tsa_url"], "status": check.status,
                              "message": check.message, "gen_time": check.gen_time,
                              "tsa_name": check.tsa_name, "root": check.root})
        if check.status == "ok":
            report.covered_seq = max(report.covered_seq, stamp["seq"])
    return report


def coverage(store: Store, report: StampReport) -> list[dict]:
    """Every registration entry and whether a trusted token covers it (and the first stamped
    head at or after it: the earliest "existed by" time)."""
    covered_seq, stamps = report.covered_seq, report.checks
    good = sorted((s for s in stamps if s["status"] == "ok"), key=lambda s: s["seq"])
    out = []
    for entry in store.ledger_entries():
        if entry["kind"] != "catalog.register":
            continue
        first = next((s for s in good if s["seq"] >= entry["seq"]), None)
        out.append({"seq": entry["seq"], "subject": entry["subject"], "sha256": entry["sha256"],
                    "covered": entry["seq"] <= covered_seq,
                    "stamp": {"seq": first["seq"], "tsa": first["tsa"],
                              "gen_time": first["gen_time"]} if first else None})
    return out
