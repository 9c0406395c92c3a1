#!/usr/bin/env python3
"""Check a PicGuard evidence pack on any machine: file hashes, ledger chain, signatures.

Run it inside the unzipped pack: `python3 verify_pack.py`. It needs only Python 3; the
Ed25519 signatures are checked when the `cryptography` package is installed
(`pip install cryptography`), else it says they were not checked. Exit 0 when all is well.
This file is copied into every pack unchanged, so it must stay standalone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _public_keys(folder: Path) -> dict | None:
    try:
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
    except ImportError:
        return None
    keys = {}
    for pem in sorted(folder.glob("public-key-*.pem")):
        keys[pem.stem.removeprefix("public-key-")] = load_pem_public_key(pem.read_bytes())
    return keys


def verify(root: Path) -> list[str]:
    """Every problem found in the pack at `root`, in plain words (empty when all is well)."""
    problems: list[str] = []
    manifest = json.loads((root / "manifest.json").read_text("utf-8"))
    for item in manifest["files"]:
        path = root / item["path"]
        if not path.is_file():
            problems.append(f"{item['path']}: missing from the pack")
        elif _sha256(path) != item["sha256"]:
            problems.append(f"{item['path']}: changed (its SHA-256 differs from manifest.json)")
    print(f"files: {len(manifest['files'])} listed in manifest.json, checked")
    ledger = root / "ledger"
    lines = (ledger / "entries.jsonl").read_text("utf-8").splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    keys = _public_keys(ledger)
    prev = None
    for e in entries:
        seq = e["seq"]
        if hashlib.sha256((e["prev_hash"] + e["body"]).encode("utf-8")).hexdigest() != \
                e["entry_hash"]:
            problems.append(f"ledger entry {seq}: its body does not match its hash (edited)")
        if prev is not None and e["prev_hash"] != prev:
            problems.append(f"ledger entry {seq}: does not follow the entry before it")
        if keys is not None:
            key = keys.get(e["key_id"])
            try:
                if key is None:
                    raise ValueError("unknown key")
                key.verify(base64.b64decode(e["signature"]), e["entry_hash"].encode("ascii"))
            except Exception:  # noqa: BLE001 - InvalidSignature or a bad key/encoding
                problems.append(f"ledger entry {seq}: wrong signature")
        if e.get("file"):
            body = json.loads(e["body"])
            if (root / e["file"]).is_file() and _sha256(root / e["file"]) != body["sha256"]:
                problems.append(f"ledger entry {seq}: {e['file']} is not the file it records")
        prev = e["entry_hash"]
    signed = "and signatures " if keys is not None else ""
    print(f"ledger: {len(entries)} entries, hashes {signed}checked"
          + ("" if keys is not None else " (install `cryptography` to check signatures)"))
    if entries:
        last = entries[-1]
        print(f"ledger head: entry {last['seq']} {last['entry_hash']}")
        print("Compare it with the PicGuard digest messages in the seller's mail or chat.")
    return problems


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    problems = verify(root)
    for problem in problems:
        print("PROBLEM:", problem)
    print("OK: the pack is intact." if not problems else f"{len(problems)} problem(s) found.")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
