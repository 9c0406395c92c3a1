#!/usr/bin/env python3
"""Check a PicGuard evidence pack on any machine: file hashes, ledger chain, signatures.

Run it inside the unzipped pack: `python3 verify_pack.py`. It needs only Python 3; the
Ed25519 signatures are checked when the `cryptography` package is installed
(`pip install cryptography`), and the Time-Stamp Authorities' RFC 3161 tokens when
`rfc3161-client` is too (`pip install cryptography rfc3161-client`); else it says what was
not checked. Exit 0 when all is well. This file is copied into every pack unchanged, so it
must stay standalone.
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
    _verify_timestamps(root, entries, problems)
    return problems


def _roots(root: Path) -> list:
    """(certificate, where it came from): Mozilla's roots (certifi) and the pack's own."""
    from cryptography import x509

    found = []
    try:
        import warnings

        import certifi

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found += [(c, "Mozilla root store (certifi)") for c in
                      x509.load_pem_x509_certificates(Path(certifi.where()).read_bytes())]
    except (ImportError, OSError, ValueError):
        pass
    for pem in sorted((root / "ledger" / "tsa-roots").glob("*.pem")):
        found += [(c, f"supplied in the pack ({pem.name}): compare its fingerprint with the "
                   "one the TSA publishes") for c in x509.load_pem_x509_certificates(
                       pem.read_bytes())]
    return found


def _check_token(der: bytes, entry_hash: str, roots: list) -> tuple[str | None, str]:
    """(where the anchoring root came from, gen_time) or (None, why it failed)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from rfc3161_client import VerifierBuilder, decode_timestamp_response

    try:
        resp = decode_timestamp_response(der)
    except Exception as exc:  # noqa: BLE001
        return None, f"not a readable RFC 3161 token ({exc})"
    if resp.tst_info.message_imprint.message != bytes.fromhex(entry_hash):
        return None, "the token imprints another hash than its ledger entry's"
    issuers = {x509.load_der_x509_certificate(c).issuer for c in resp.signed_data.certificates}
    failure = "no root known here issued the TSA's certificate"
    for cert, source in roots:
        if cert.subject not in issuers:
            continue
        try:
            VerifierBuilder(roots=[cert]).build().verify(resp, bytes.fromhex(entry_hash))
        except Exception as exc:  # noqa: BLE001 - VerificationError or a malformed chain
            failure = f"the TSA's signature does not verify ({str(exc)[:120]})"
            continue  # noqa: S112 - another root of the same name may still anchor it
        digest = cert.fingerprint(hashes.SHA256()).hex()
        when = resp.tst_info.gen_time.strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{cert.subject.rfc4514_string()} [{source}; SHA-256 {digest[:32]}...]", when
    return None, (f"{failure}; add the TSA's root certificate to ledger/tsa-roots/ if you "
                  "trust it")


def _verify_timestamps(root: Path, entries: list[dict], problems: list[str]) -> None:
    """The RFC 3161 tokens: signature, imprint against their entry, what they cover."""
    index = root / "ledger" / "timestamps.json"
    records = json.loads(index.read_text("utf-8")) if index.is_file() else []
    by_seq = {e["seq"]: e for e in entries}
    try:
        import rfc3161_client  # noqa: F401
        roots = _roots(root)
    except ImportError:
        print(f"timestamps: {len(records)} RFC 3161 token(s) NOT checked (pip install "
              "cryptography rfc3161-client)")
        return
    good: list[int] = []
    for r in records:
        entry = by_seq.get(r["seq"])
        if entry is None or entry["entry_hash"] != r["entry_hash"]:
            problems.append(f"{r['file']}: stamps entry {r['seq']}, which is not in the "
                            "pack's ledger with that hash")
            continue
        anchor, detail = _check_token((root / r["file"]).read_bytes(), entry["entry_hash"],
                                      roots)
        if anchor is None:
            problems.append(f"{r['file']}: {detail}")
            continue
        good.append(r["seq"])
        print(f"timestamp OK: entry {r['seq']} existed by {detail}, signed by "
              f"{r.get('tsa_name') or r['tsa_url']}; root {anchor}")
    for e in entries:
        if not (e.get("file") or "").startswith(("original/", "shoot/")):
            continue
        cover = min((s for s in good if s >= e["seq"]), default=None)
        if cover is None:
            print(f"NOT YET COVERED by a third-party timestamp: entry {e['seq']} ({e['file']})")
        else:
            print(f"covered by a third-party timestamp: entry {e['seq']} ({e['file']}) via the "
                  f"token over entry {cover}")


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    problems = verify(root)
    for problem in problems:
        print("PROBLEM:", problem)
    print("OK: the pack is intact." if not problems else f"{len(problems)} problem(s) found.")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
