"""The evidence pack: one ZIP with everything a platform, the complainant or a lawyer needs.

Layout: original/ (the disputed photo, byte for byte), shoot/ (the rest of its shoot),
exif.json, competitor/ (their image as served, HTTP facts, pages as received), comparison.jpg,
timeline.json, ledger/ (the entries covering these files, public keys, how to verify),
drafts/, README.txt, verify_pack.py, report.html, and manifest.json with the SHA-256 of
every other file. Facts are checked before a byte is written (daemon.evidence.facts).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from daemon import __version__
from daemon.config import Settings
from daemon.evidence.compare_image import side_by_side
from daemon.evidence.drafts import FILE_NAMES, render_drafts
from daemon.evidence.facts import EvidenceError, Facts, gather
from daemon.evidence.report import render_report
from daemon.evidence.stamps import credentials, pack_timestamps, stamps_how_to, summary
from daemon.files import atomic_write
from daemon.matching.imageio import ImageError
from daemon.provenance.ledger import Ledger, entry_body
from daemon.store import Store
from daemon.timeutil import now_iso

PACK_FORMAT = "picguard-evidence/1"
_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/avif": "avif",
        "image/gif": "gif", "image/heic": "heic"}
_STORED = (".jpg", ".jpeg", ".png", ".webp", ".avif", ".gif", ".heic", ".gz")


@dataclass
class PackResult:
    """What went into a pack: its files and the seller-facing warnings (checks not ok)."""

    alert_id: int
    kind: str
    files: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    gps_included: list[str] = field(default_factory=list)


class _Zip:
    """A ZIP being written, recording each file's SHA-256 and size for the manifest."""

    def __init__(self, out: BinaryIO):
        self.zf = zipfile.ZipFile(out, "w")
        self.files: list[dict] = []

    def add(self, path: str, data: bytes | str, role: str) -> None:
        blob = data.encode("utf-8") if isinstance(data, str) else data
        # images and gzip are already compressed: store them, deflate the text
        kind = zipfile.ZIP_STORED if path.lower().endswith(_STORED) else zipfile.ZIP_DEFLATED
        self.zf.writestr(zipfile.ZipInfo(path, _zip_time()), blob, compress_type=kind)
        self.files.append({"path": path, "sha256": hashlib.sha256(blob).hexdigest(),
                           "bytes": len(blob), "role": role})


def _zip_time() -> tuple[int, int, int, int, int, int]:
    t = now_iso()  # ZIP stores local-less DOS times: UTC, like every time in the pack
    return (int(t[0:4]), int(t[5:7]), int(t[8:10]), int(t[11:13]), int(t[14:16]), int(t[17:19]))


def _json(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n"


def build_pack(store: Store, settings: Settings, alert_id: int, out: BinaryIO,
               lang: str = "zh", include_gps: bool = False) -> PackResult:
    """Write the evidence pack of `alert_id` as a ZIP into `out` (a seekable binary file).

    Raises EvidenceError (GpsConsentNeeded among them) before writing anything when the
    pack cannot be made as asked.
    """
    if lang not in ("zh", "en"):
        raise EvidenceError(f"language {lang!r} is not offered; use zh or en", code="bad_lang")
    f = gather(store, settings, alert_id, include_gps=include_gps)
    head = Ledger(store, settings.data_dir).head(backfill=False)  # gather() backfilled
    z = _Zip(out)
    try:
        _write(z, store, f, lang, head)
    finally:
        z.zf.close()
    return PackResult(alert_id, f.alert["kind"], z.files,
                      [c for c in f.checks if c["status"] != "ok"],
                      [o.photo["file_name"] for o in f.originals if o.photo["has_gps"]])


def _write(z: _Zip, store: Store, f: Facts, lang: str, head: dict | None) -> None:
    """Every file of the pack, in an order where each one's inputs already exist."""
    for o in f.originals:
        z.add(o.arcname, o.data, "original" if o.matched else "shoot")
    z.add("exif.json", _json([{
        "file": o.arcname, "sha256": o.photo["sha256"], "taken_at": o.photo["taken_at"],
        "camera_make": o.photo["camera_make"], "camera_model": o.photo["camera_model"],
        "orientation": o.photo["orientation"], "has_gps": bool(o.photo["has_gps"]),
        "exif": o.exif, "c2pa": credentials(o.photo)} for o in f.originals]), "exif")
    other_bytes = _add_competitor(z, f)
    lines = [f"PicGuard alert #{f.alert['id']}: {f.alert['kind']} ({f.alert['match_kind']}), "
             f"score {f.alert['score']:.3f}",
             _ascii(f"left: your original {f.original.photo['file_name']}  |  right: image "
                    f"seen on store {f.view['other']['store_id'] or '?'}")]
    try:
        jpeg, comparison = side_by_side(f.original.data, other_bytes, lines)
    except ImageError as exc:
        raise EvidenceError(f"the other store's stored image cannot be decoded ({exc}); "
                            "the comparison cannot be drawn", code="bad_capture") from exc
    z.add("comparison.jpg", jpeg, "comparison")
    z.add("timeline.json", _json(f.timeline), "timeline")
    stamps = _add_ledger(z, store, f, head)
    z.add("verify_pack.py", (Path(__file__).parent / "verify_pack.py").read_bytes(), "verify")
    z.add("README.txt", _readme(f), "readme")
    listed = [(x["path"], x["role"]) for x in z.files] + [("report.html", "report")]
    drafts = render_drafts(f, listed, comparison, head)
    for (name, dlang), text in sorted(drafts.items()):
        z.add(f"drafts/{FILE_NAMES[name]}.{dlang}.txt", text, "drafts")
    z.add("report.html", render_report(f, lang, jpeg, comparison, list(z.files), drafts, head,
                                       stamps=stamps),
          "report")
    manifest = {
        "format": PACK_FORMAT, "picguard": __version__, "generated_at": now_iso(),
        "alert": {"id": f.alert["id"], "kind": f.alert["kind"],
                  "match_kind": f.alert["match_kind"], "score": f.alert["score"]},
        "ledger_head": head, "comparison": comparison, "files": z.files,
    }
    z.zf.writestr(zipfile.ZipInfo("manifest.json", _zip_time()), _json(manifest),
                  compress_type=zipfile.ZIP_DEFLATED)


def write_pack(store: Store, settings: Settings, alert_id: int, path: Path,
               lang: str = "zh", include_gps: bool = False) -> PackResult:
    """build_pack into a file, atomically: a temp file beside it, renamed when complete."""
    path = Path(path)
    try:
        with atomic_write(path, "w+b") as out:
            return build_pack(store, settings, alert_id, out, lang=lang, include_gps=include_gps)
    except OSError as exc:
        raise EvidenceError(f"cannot write {path} ({exc.strerror or exc}); choose another "
                            "folder with --out", code="bad_out") from exc


def _ascii(text: str) -> str:
    # the comparison image's font has Latin glyphs only; the report carries the full names
    return text.encode("ascii", "replace").decode("ascii")


def _add_competitor(z: _Zip, f: Facts) -> bytes:
    """Their image (as served, else the stored thumbnail), HTTP facts and pages; returns the
    image bytes for the comparison."""
    img, cap = f.image, f.capture
    if cap:
        name = f"competitor/image.{_EXT.get((cap['content_type'] or '').split(';')[0], 'bin')}"
        z.add(name, cap["content"], "competitor_image")
        data = cap["content"]
    elif img["thumb"]:
        name = "competitor/thumbnail.jpg"
        z.add(name, img["thumb"], "competitor_thumb")
        data = img["thumb"]
    else:
        raise EvidenceError("PicGuard kept neither the other store's image nor its thumbnail; "
                            "open their listing so the extension pushes it again, then retry",
                            code="no_capture", status=409)
    pages = []
    for n, page in enumerate(f.pages, start=1):
        stamp = page["received_at"].replace(":", "").replace("-", "")[:15]
        page_name = f"competitor/pages/{n:02d}-{stamp}.html.gz"
        z.add(page_name, page["html_gz"], "page")
        pages.append({"file": page_name, "url": page["url"], "source": page["source"],
                      "received_at": page["received_at"], "html_sha256": page["sha256"]})
    z.add("competitor/http.json", _json({
        "file": name, "as_served": cap is not None, "url": cap["url"] if cap else img["url"],
        "sha256": cap["sha256"] if cap else img["sha256"],
        "content_type": (cap or img)["content_type"], "http_date": (cap or img)["http_date"],
        "last_modified": (cap or img)["last_modified"], "etag": (cap or img)["etag"],
        "captured_at": cap["captured_at"] if cap else None, "fetched_at": img["fetched_at"],
        "first_seen": img["first_seen"], "listing_first_seen": f.alert["other_first_seen"],
        "listing": f.view["other"], "pages": pages,
    }), "competitor_http")
    return data


def _add_ledger(z: _Zip, store: Store, f: Facts, head: dict | None) -> list[dict]:
    """The entries from the first one covering these files up to the head (so the chain from
    them to a witnessed head can be checked), their bodies, public keys, RFC 3161 tokens and
    instructions. Returns which registrations a trusted timestamp covers (for the report)."""
    files_by_sha = {o.photo["sha256"]: o.arcname for o in f.originals}
    if f.capture:
        files_by_sha.setdefault(f.capture["sha256"], next(
            x["path"] for x in z.files if x["role"] == "competitor_image"))
    covered = {e["seq"] for e in f.ledger_entries}
    lines, key_ids, examples = [], set(), []
    first = f.ledger_first_seq or (head["seq"] if head else 1)
    for row in store.ledger_entries(first, head["seq"] if head else None):
        try:
            body = entry_body(row).decode("utf-8")
        except ValueError:
            body = row["ref"]  # a damaged entry is exported as it is; verification will say so
        key_ids.add(row["key_id"])
        file = files_by_sha.get(row["sha256"]) if row["seq"] in covered else None
        lines.append(json.dumps({"seq": row["seq"], "prev_hash": row["prev_hash"], "body": body,
                                 "entry_hash": row["entry_hash"], "key_id": row["key_id"],
                                 "signature": row["signature"], "file": file},
                                ensure_ascii=False))
        if row["seq"] in covered:
            z.add(f"ledger/entries/{row['seq']}.body.json", body, "ledger")
            examples.append((row, file))
    z.add("ledger/entries.jsonl", "\n".join(lines) + "\n", "ledger")
    keys = store.ledger_keys()
    for kid in sorted(key_ids):
        if kid in keys:
            z.add(f"ledger/public-key-{kid}.pem", keys[kid], "ledger")
    z.add("ledger/witness.json", _json(f.witnesses), "ledger")
    stamp_files, records = pack_timestamps(store, store.path.parent, first,
                                           head["seq"] if head else None)
    for name, blob in stamp_files:
        z.add(name, blob, "ledger")
    z.add("ledger/timestamps.json", _json(records), "ledger")
    z.add("ledger/HOW-TO-VERIFY.txt", _how_to_verify(examples) + stamps_how_to(records),
          "ledger")
    return summary([{"seq": e["seq"], "file": files_by_sha.get(e["sha256"])}
                    for e in f.ledger_entries if e["kind"] == "catalog.register"], records)


def _how_to_verify(examples: list[tuple[dict, str | None]]) -> str:
    out = [
        "如何核验本证据包 / How to verify this evidence pack",
        "",
        "一次全部核验 / All at once:  python3 verify_pack.py",
        "",
        "1. 文件 / Files: manifest.json lists the SHA-256 of every file.",
        "   sha256sum FILE        (Windows: certutil -hashfile FILE SHA256)",
        "",
        "2. 证据链记录 / Ledger entries (ledger/entries.jsonl, one JSON object a line):",
        "   entry_hash = sha256(prev_hash + body)   (prev_hash as 64 hex characters, then the",
        "   body's exact UTF-8 bytes); signature = Ed25519 over entry_hash (its 64 hex",
        "   characters as ASCII), base64; the public key is ledger/public-key-<key_id>.pem.",
        "   Each entry's prev_hash is the entry_hash of the line before it: the chain.",
        "   The body's sha256 is the SHA-256 of the file it records.",
        "",
    ]
    for row, file in examples:
        seq = row["seq"]
        out += [
            f"   Entry {seq} ({row['kind']}{', ' + file if file else ''}):",
            f"     {{ printf '%s' {row['prev_hash']}; cat ledger/entries/{seq}.body.json; }}"
            " | sha256sum",
            f"       -> {row['entry_hash']}",
            f"     printf '%s' {row['entry_hash']} > msg.txt",
            f"     printf '%s' '{row['signature']}' | base64 -d > sig.bin",
            f"     openssl pkeyutl -verify -pubin -inkey ledger/public-key-{row['key_id']}.pem"
            " -rawin -in msg.txt -sigfile sig.bin",
            "       -> Signature Verified Successfully",
            "",
        ]
    out += [
        "3. 外部见证 / External witness: ledger/witness.json lists when the chain's head was",
        "   sent to the seller's mail or chat. Those messages (with the server's date) carry",
        "   the head's seq and hash: any entry up to that seq existed, unchanged, by then.",
    ]
    return "\n".join(out) + "\n"


def _readme(f: Facts) -> str:
    gps = [o.arcname for o in f.originals if o.photo["has_gps"]]
    lines = [
        f"PicGuard 证据包 / evidence pack — alert #{f.alert['id']} ({f.alert['kind']})",
        "",
        "先打开 report.html（中英文，可打印）。 Open report.html first (bilingual, printable).",
        "",
        "original/   被投诉图片的原始文件，与登记时逐字节相同 / the disputed original, byte-exact",
        "shoot/      同一次拍摄的其他原图（套图/花絮图） / the rest of the same shoot",
        "competitor/ 对方图片（原样字节）、HTTP 信息、页面",
        "            their image as served, HTTP facts, pages",
        "comparison.jpg  并排对比 / side by side with matched points",
        "drafts/     申诉、给对方的消息、律师简介（中/英） / counter-notice, message, lawyer brief",
        "ledger/     防篡改证据链与核验方法 / tamper-evident ledger and how to verify it",
        "manifest.json   每个文件的 SHA-256 / SHA-256 of every file",
        "",
        "提交给平台时，上传 original/ 和 shoot/ 中的原始文件本身（不要另存或压缩），",
        "并附上 report.html。",
        "When you answer the platform, upload the files in original/ and shoot/ themselves (never",
        "re-saved or compressed) and attach report.html.",
    ]
    if gps:
        lines += ["", "注意：以下原图含 GPS 位置信息，收件人可以看到拍摄地点。",
                  "Note: these originals carry GPS coordinates (where they were shot):",
                  ", ".join(gps)]
    return "\n".join(lines) + "\n"
