"""Third-party proof in the evidence pack: RFC 3161 tokens of ledger heads, C2PA credentials.

`ledger/timestamps/` carries every token over a head from the pack's first ledger entry to
its head (the TSA's DER reply; only its certificate set put in DER order);
`ledger/timestamps.json` says which entry each one imprints, and `ledger/tsa-roots/` holds
the roots the seller added by hand (labelled as such: the reader decides whether to trust
them; Mozilla's roots need no copy). verify_pack.py checks them offline. `summary` tells
the report which registrations a trusted token covers and which are not covered yet.
"""

from __future__ import annotations

import json
from pathlib import Path

from daemon.provenance.tsa import TSA_ROOTS_DIR, check_token, load_roots
from daemon.store import Store


def pack_timestamps(store: Store, data_dir: Path, first_seq: int,
                    head_seq: int | None) -> tuple[list[tuple[str, bytes]], list[dict]]:
    """(files to add, one record per token) for heads first_seq..head_seq."""
    if head_seq is None:
        return [], []
    roots = load_roots(data_dir)
    files: list[tuple[str, bytes]] = []
    records = []
    for n, stamp in enumerate(store.ledger_stamps(first_seq, head_seq), start=1):
        name = f"ledger/timestamps/{stamp['seq']}-{n}.tsr"
        check = check_token(stamp["token"], stamp["head_hash"], roots)
        files.append((name, stamp["token"]))
        records.append({"file": name, "seq": stamp["seq"], "entry_hash": stamp["head_hash"],
                        "tsa_url": stamp["tsa_url"], "gen_time": check.gen_time or
                        stamp["gen_time"], "serial": stamp["serial"], "tsa_name": check.tsa_name,
                        "status_when_packed": check.status, "message": check.message})
    extra = sorted((Path(data_dir) / TSA_ROOTS_DIR).glob("*.pem"))
    for pem in extra:
        files.append((f"ledger/tsa-roots/{pem.name}", pem.read_bytes()))
    return files, records


def summary(registrations: list[dict], records: list[dict]) -> list[dict]:
    """For each registration entry ({seq, file}): the earliest trusted token covering it."""
    good = sorted((r for r in records if r["status_when_packed"] == "ok"),
                  key=lambda r: r["seq"])
    out = []
    for reg in registrations:
        first = next((r for r in good if r["seq"] >= reg["seq"]), None)
        out.append({**reg, "covered": first is not None,
                    "tsa": (first["tsa_name"] or first["tsa_url"]) if first else None,
                    "gen_time": first["gen_time"] if first else None,
                    "stamped_seq": first["seq"] if first else None})
    return out


def credentials(photo: dict) -> dict | None:
    """The C2PA credentials recorded for a catalog photo row (None when it had none)."""
    text = photo.get("c2pa_json")
    return json.loads(text) if text else None


def stamps_how_to(records: list[dict]) -> str:
    """The HOW-TO-VERIFY section on the RFC 3161 tokens, with an openssl command for each."""
    out = [
        "",
        "4. 第三方时间戳 / Third-party timestamps (RFC 3161): ledger/timestamps/*.tsr are the",
        "   Time-Stamp Authorities' signed answers (DER). Each one's message imprint is the",
        "   entry_hash of the ledger entry named in ledger/timestamps.json: the TSA saw that",
        "   entry, and through the chain every entry before it, at its gen_time.",
        "   python3 verify_pack.py checks them (pip install rfc3161-client cryptography), or:",
    ]
    for r in records:
        out += [f"     openssl ts -verify -in {r['file']} -digest {r['entry_hash']} "
                "-CAfile ROOT.pem",
                "       -> Verification: OK   (ROOT.pem: the TSA's root certificate; "
                "ledger/tsa-roots/ holds roots the seller added)"]
    if not records:
        out.append("   (no timestamp covers these entries yet)")
    return "\n".join(out) + "\n"
