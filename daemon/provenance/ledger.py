"""The provenance ledger: a hash-chained, Ed25519-signed log of registrations and sightings.

Every catalog registration and every first sighting of a competitor image is appended as
an entry. An entry's body is canonical JSON (sorted keys, no spaces, UTF-8) of
`{v, time, kind, subject, sha256, fingerprint, ref, key}`;
`entry_hash = sha256(prev_hash_hex + body)` (the genesis prev_hash is 64 zeros) and
`signature = Ed25519(entry_hash_hex as ASCII)`, base64. The position (`seq`) is storage
only: the order is what the prev_hash links prove. The private key stays in the data dir
(PEM, 0600); its public key goes into every evidence pack so anyone can check entries with
openssl. Because whoever holds the machine holds the key, the chain's head is also sent
out daily (`witness`): the mail or chat server's timestamp then vouches for it.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from daemon.provenance.chain import (
    GENESIS_HASH,
    KIND_FIRST_SEEN,
    KIND_KEY,
    KIND_REGISTER,
    LEDGER_VERSION,
    LedgerError,
    Signer,
    canonical,
    chain_hash,
    digest,
    entry_body,
    load_or_create_key,
    verify_signature,
)
from daemon.store import Store
from daemon.timeutil import now_iso, parse_iso, utcnow

log = logging.getLogger(__name__)

# The daily witness is skipped while the last successful one is younger than this.
WITNESS_EVERY = timedelta(hours=24)


# ---- verification ---------------------------------------------------------------------------

@dataclass
class Problem:
    """One break in the chain: where, what kind, and what it means in plain words."""

    seq: int
    kind: str  # edited | missing | reordered | bad_signature | unknown_key | witness
    message: str


@dataclass
class VerifyReport:
    """What `verify` found: entries walked, the head, problems by seq (the first is the break)."""

    entries: int = 0
    head: dict | None = None
    problems: list[Problem] = field(default_factory=list)
    witnesses_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        first = self.problems[0] if self.problems else None
        return {
            "ok": self.ok, "entries": self.entries,
            "head": {"seq": self.head["seq"], "entry_hash": self.head["entry_hash"]} if self.head
            else None,
            "first_broken_seq": first.seq if first else None,
            "problems": [vars(p) for p in self.problems],
            "witnesses_checked": self.witnesses_checked,
        }


# ---- the ledger -----------------------------------------------------------------------------

class Ledger:
    """Appending, backfilling, verifying and witnessing the chain of one installation."""

    def __init__(self, store: Store, data_dir: Path):
        self.store = store
        self.data_dir = Path(data_dir)
        self._signer: Signer | None = None

    @classmethod
    def for_store(cls, store: Store) -> Ledger:
        """The ledger whose key lives beside the store's database (the data dir)."""
        return cls(store, store.path.parent)

    def signer(self) -> Signer:
        """The key, registered in `ledger_keys`; a key new to a non-empty ledger is announced
        by a `ledger.key` entry, so a lost-and-replaced key is visible, never silent."""
        if self._signer is None:
            signer = load_or_create_key(self.data_dir)
            known = self.store.ledger_keys()
            self._signer = signer
            if signer.key_id not in known:
                self.store.add_ledger_key(signer.key_id, signer.public_pem)
                if known:
                    self.append(KIND_KEY, f"key:{signer.key_id}", None, None,
                                {"previous_keys": sorted(known), "reason": "the signing key "
                                 "file was missing or replaced; a new key signs from here"})
        return self._signer

    def append(self, kind: str, subject: str, sha256: str | None, fp_digest: str | None,
               ref: dict, once: bool = False) -> dict | None:
        """Append one signed entry; with `once`, only if `subject` has no `kind` entry yet."""
        signer = self.signer()
        ref_text = canonical(ref).decode("utf-8")

        def build(head: dict | None) -> dict:
            row = {"seq": head["seq"] + 1 if head else 1, "version": LEDGER_VERSION,
                   "time": now_iso(), "kind": kind, "subject": subject, "sha256": sha256,
                   "fp_digest": fp_digest, "ref": ref_text, "key_id": signer.key_id,
                   "prev_hash": head["entry_hash"] if head else GENESIS_HASH}
            row["entry_hash"] = chain_hash(row["prev_hash"], entry_body(row))
            row["signature"] = signer.sign(row["entry_hash"])
            return row

        return self.store.ledger_append(build, once=(kind, subject) if once else None)

    # ---- what gets recorded -----------------------------------------------------------------

    def record_registration(self, photo_id: int, backfilled: bool = False) -> dict | None:
        """The `catalog.register` entry for a catalog photo (once per photo)."""
        photo = self.store.get_photo(photo_id)
        if photo is None:
            raise LedgerError(f"there is no catalog photo {photo_id}")
        ref = {"photo_id": photo_id, "file_name": photo["file_name"],
               "size_bytes": photo["size_bytes"], "taken_at": photo["taken_at"],
               "registered_at": photo["registered_at"], "shoot": photo["shoot"]}
        if backfilled:  # honest: this entry was written later than the registration
            ref["backfilled"] = True
        return self.append(KIND_REGISTER, f"photo:{photo_id}", photo["sha256"],
                           digest(self.store.photo_fingerprint_blob(photo_id)), ref, once=True)

    def record_first_seen(self, image_id: int, backfilled: bool = False) -> dict | None:
        """The `image.first_seen` entry for a fetched competitor image (once per image)."""
        image = self.store.get_image(image_id)
        if image is None or not image["sha256"]:
            raise LedgerError(f"competitor image {image_id} has not been fetched yet")
        ref = {"image_id": image_id, "url": image["url"], "image_key": image["image_key"],
               "first_seen": image["first_seen"], "fetched_at": image["fetched_at"],
               "http_date": image["http_date"], "last_modified": image["last_modified"],
               "etag": image["etag"], "size_bytes": image["size_bytes"]}
        listings = self.store.image_listings(image_id)
        if listings:
            first = listings[0]
            ref["listing"] = {"url": first["canonical_url"] or first["url"],
                              "store_id": first["store_key"], "first_seen": first["first_seen"]}
        if backfilled:
            ref["backfilled"] = True
        return self.append(KIND_FIRST_SEEN, f"image:{image_id}", image["sha256"],
                           digest(self.store.image_fingerprint_blob(image_id)), ref, once=True)

    def backfill(self) -> dict:
        """Entries for photos and fetched images the ledger does not cover yet (a database
        from before the ledger, or an append that failed). Marked `backfilled`: their ledger
        time is when they were added here, not the registration or sighting itself."""
        counts = {"photos": 0, "images": 0}
        while rows := self.store.photos_missing_from_ledger():
            for row in rows:
                counts["photos"] += bool(self.record_registration(row["id"], backfilled=True))
        while rows := self.store.images_missing_from_ledger():
            for row in rows:
                counts["images"] += bool(self.record_first_seen(row["id"], backfilled=True))
        return counts

    # ---- verify -------------------------------------------------------------------------------

    def verify(self, expect: list[tuple[int, str]] | None = None) -> VerifyReport:
        """Walk the chain: every body against its hash, every link, every signature, the
        recorded head and every witnessed head (plus `expect`: heads from received mails)."""
        report = VerifyReport()
        keys: dict[str, Ed25519PublicKey | None] = {}
        for kid, pem in self.store.ledger_keys().items():
            try:
                key = serialization.load_pem_public_key(pem.encode("ascii"))
            except ValueError:
                key = None
            keys[kid] = key if isinstance(key, Ed25519PublicKey) else None
        hashes = self.store.ledger_hash_index()
        want_seq, want_prev = 1, GENESIS_HASH
        for row in self.store.ledger_entries():
            seq = row["seq"]
            report.entries += 1
            report.head = row
            add = report.problems.append
            gap = seq != want_seq
            if gap:
                add(Problem(want_seq, "missing", (
                    f"entry {want_seq} is missing" if seq == want_seq + 1 else
                    f"entries {want_seq} to {seq - 1} are missing") + " (deleted from the ledger)"))
            try:
                body_ok = chain_hash(row["prev_hash"], entry_body(row)) == row["entry_hash"]
            except (ValueError, TypeError):
                body_ok = False
            if not body_ok:
                add(Problem(seq, "edited", f"entry {seq} was changed after it was written: its "
                                           "content no longer matches its hash"))
            elif row["prev_hash"] != want_prev:
                before = hashes.get(row["prev_hash"])
                if before is not None or row["prev_hash"] == GENESIS_HASH:
                    where = (f"right after the entry now at {before}" if before is not None
                             else "as the very first entry")
                    add(Problem(seq, "reordered", f"entry {seq} was written {where}: entries "
                                                  "were reordered"))
                elif not gap:
                    add(Problem(seq, "missing", f"the entry written just before entry {seq} is "
                                                "gone: it was deleted or replaced"))
            key = keys.get(row["key_id"])
            if row["key_id"] not in keys:
                add(Problem(seq, "unknown_key", f"entry {seq} names a signing key "
                                                f"({row['key_id']}) this ledger never had"))
            elif key is None or not verify_signature(key, row["entry_hash"], row["signature"]):
                add(Problem(seq, "bad_signature", f"entry {seq} has a wrong signature: it was "
                                                  "not signed by this installation's key"))
            want_seq, want_prev = seq + 1, row["entry_hash"]
        recorded = self.store.get_meta("ledger.head")
        heads = [(w["seq"], w["head_hash"], f"sent to your channels at {w['sent_at']}")
                 for w in self.store.ledger_witnesses()]
        heads += [(s, h.lower(), "given to verify") for s, h in expect or []]
        if recorded:
            seq_text, _, head_hash = recorded.partition(":")
            last = report.head["seq"] if report.head else 0
            if int(seq_text) > last:  # the tail was cut off
                span = (f"entry {seq_text} is" if int(seq_text) == last + 1
                        else f"entries {last + 1} to {seq_text} are")
                report.problems.append(Problem(last + 1, "missing", (
                    f"{span} missing: the last append wrote entry {seq_text}, the ledger now "
                    f"ends at {last}")))
            else:
                heads.append((int(seq_text), head_hash, "recorded at the last append"))
        for seq, head_hash, source in heads:
            report.witnesses_checked += source != "recorded at the last append"
            if hashes.get(head_hash) != seq:
                report.problems.append(Problem(seq, "witness", (
                    f"the head {source} (entry {seq}, hash {head_hash[:16]}...) is not in the "
                    "ledger any more: entries up to it were deleted or changed")))
        report.problems.sort(key=lambda p: p.seq)
        return report

    # ---- the head and its external witness ----------------------------------------------------

    def head(self, backfill: bool = True) -> dict | None:
        """The chain's head (after a backfill): {seq, entry_hash, time, key_id, signature}."""
        if backfill:
            self.backfill()
        row = self.store.ledger_head()
        if row is None:
            return None
        return {"seq": row["seq"], "entry_hash": row["entry_hash"], "time": row["time"],
                "key_id": row["key_id"], "signature": row["signature"]}

    def witness(self, urls: list[str], send, force: bool = True) -> dict:
        """Send the head digest through the seller's channels (`send(urls, title, body)` as
        daemon.monitor.notify.send) and record it. Without `force`, skipped when the last successful
        witness is under a day old or the head has not moved since."""
        head = self.head()
        if head is None:
            return {"sent": False, "reason": "the ledger is empty: register photos first"}
        last = self.store.last_ledger_witness()
        if not force and last and (last["head_hash"] == head["entry_hash"] or
                                   utcnow() - parse_iso(last["sent_at"]) < WITNESS_EVERY):
            return {"sent": False, "reason": "witnessed recently", "head": head}
        title, body = digest_message(head)
        error = send(urls, title, body)
        self.store.ledger_witnessed(head["seq"], head["entry_hash"], len(urls), error)
        return {"sent": error is None, "reason": error, "head": head}


def digest_message(head: dict) -> tuple[str, str]:
    """The bilingual witness message: title and body carrying the head's seq and hash."""
    title = f"PicGuard 证据链摘要 / ledger digest: #{head['seq']} {head['entry_hash'][:12]}"
    body = "\n".join([
        "请保留这条消息：它的发送时间证明，在这个时间之前，你在 PicGuard 中的所有登记和发现记录"
        f"（第 1 至第 {head['seq']} 条）已经存在且未被改动。",
        "Keep this message: its date proves that every PicGuard record up to entry "
        f"{head['seq']} existed, unchanged, by the time it was sent.",
        "",
        f"seq: {head['seq']}",
        f"head: {head['entry_hash']}",
        f"time: {head['time']}",
        f"key: {head['key_id']}",
        f"signature: {head['signature']}",
        "",
        f"核对 / check: picguard ledger verify --expect {head['seq']}:{head['entry_hash']}",
    ])
    return title, body


# ---- hooks for the catalog and the pipeline: never let the ledger stop the real work --------

def note_registration(store: Store, photo_id: int) -> None:
    """Append the registration of a new catalog photo; a failure is logged and backfilled."""
    try:
        Ledger.for_store(store).record_registration(photo_id)
    except (LedgerError, OSError, sqlite3.Error) as exc:
        log.warning("ledger: photo %s not recorded yet (%s); `picguard ledger head` will add it",
                    photo_id, exc)


def note_first_seen(store: Store, image_id: int) -> None:
    """Append the first sighting of a fetched competitor image (only the first time)."""
    try:
        Ledger.for_store(store).record_first_seen(image_id)
    except (LedgerError, OSError, sqlite3.Error) as exc:
        log.warning("ledger: image %s not recorded yet (%s); `picguard ledger head` will add it",
                    image_id, exc)
