"""Reply drafts filled with an alert's facts: counter-notice, complainant message, lawyer brief.

Each comes in Chinese and English. The texts (templates/drafts/) are ours and honest by
construction: a `resembles` alert never gets a draft that claims the seller was first, and
every draft opens with what the seller must check before sending it.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from daemon.evidence.facts import Facts, fmt_time
from daemon.timeutil import now_iso

DRAFTS = ("counter_notice", "complainant", "lawyer")
LANGS = ("zh", "en")
FILE_NAMES = {"counter_notice": "counter-notice", "complainant": "message-to-complainant",
              "lawyer": "lawyer-brief"}

# What each file in a pack is, for lists in drafts and the report (role -> zh, en).
ROLE_TEXT = {
    "original": ("被投诉图片的原始文件（未改动）", "the original of the disputed image, unchanged"),
    "shoot": ("同一次拍摄的其他原始照片（套图/花絮图）",
              "another original from the same shoot (series / behind the scenes)"),
    "exif": ("所有原图的 EXIF 摘要", "EXIF summary of every original"),
    "competitor_image": ("对方图片，PicGuard 抓取时的原样字节",
                         "their image, bytes as served to PicGuard"),
    "competitor_thumb": ("对方图片的缩略图（未抓到原样字节）",
                         "thumbnail of their image (no as-served capture)"),
    "competitor_http": ("对方图片的地址与 HTTP 信息（Date、Last-Modified、ETag）",
                        "their image's URL and HTTP facts (Date, Last-Modified, ETag)"),
    "page": ("对方商品页面（gzip 压缩，按收到时原样保存）",
             "their listing page as received (gzip)"),
    "comparison": ("并排对比图，标出相同的特征点和得分",
                   "side-by-side comparison with matched points and scores"),
    "timeline": ("时间线（机器可读）", "timeline (machine-readable)"),
    "ledger": ("证据链记录、公钥与核验方法", "ledger entries, public key and how to verify"),
    "report": ("中英文证据报告（可打印）", "bilingual evidence report (printable)"),
    "drafts": ("回复草稿", "reply drafts"),
    "readme": ("证据包说明", "what is in this pack"),
    "verify": ("核验脚本（Python）", "verification script (Python)"),
}
# Only these go into the attachment lists of the drafts (one line each for the folders).
_ATTACHED = ("original", "shoot", "exif", "competitor_image", "competitor_thumb",
             "competitor_http", "page", "comparison", "ledger", "report")


def _env() -> Environment:
    # Plain text files, never HTML: escaping would put &amp; into a letter. The report
    # escapes the drafts itself. StrictUndefined: a missing fact fails loudly in tests.
    return Environment(loader=FileSystemLoader(Path(__file__).parent / "templates" / "drafts"),
                       undefined=StrictUndefined, keep_trailing_newline=True,
                       autoescape=False)  # noqa: S701


def attachment_lines(files: list[tuple[str, str]], lang: str) -> list[tuple[str, str]]:
    """(name, description) for the drafts: each original by name, folders once."""
    idx = LANGS.index(lang)
    out: list[tuple[str, str]] = []
    seen_folders: set[str] = set()
    for name, role in files:
        if role not in _ATTACHED:
            continue
        if role not in ("page", "ledger"):
            out.append((name, ROLE_TEXT[role][idx]))
        else:  # many files: their folder once
            folder = name.rsplit("/", 1)[0] + "/" if "/" in name else name
            if role == "ledger":
                folder = "ledger/"
            if folder not in seen_folders:
                seen_folders.add(folder)
                out.append((folder, ROLE_TEXT[role][idx]))
    return out


def context(f: Facts, lang: str, files: list[tuple[str, str]], comparison: dict,
            head: dict | None) -> dict:
    """The facts a draft may use, formatted for one language."""
    p, other, a = f.original.photo, f.view["other"], f.alert
    t = lambda value: fmt_time(value, lang) if value else None  # noqa: E731
    reg = next((e for e in f.ledger_entries if e["subject"] == f"photo:{p['id']}"
                and e["kind"] == "catalog.register"), None)
    witness = next((w for w in f.witnesses if reg and w["seq"] >= reg["seq"]), None)
    camera = " ".join(x for x in (p["camera_make"], p["camera_model"]) if x) or None
    status_word = ({"ok": "OK", "warn": "WEAK", "bad": "AGAINST US"} if lang == "en"
                   else {"ok": "可靠", "warn": "薄弱", "bad": "不利"})
    report = f.ledger_report
    if report.ok:
        ledger_status = (f"all {report.entries} entries verify" if lang == "en"
                         else f"全部 {report.entries} 条记录核验通过")
    else:
        first = report.problems[0]
        ledger_status = (f"BROKEN at entry {first.seq}: {first.message}" if lang == "en"
                         else f"第 {first.seq} 条核验失败：{first.message}")
    return {
        "copied": f.copied, "unclear": f.unclear, "similar": a["match_kind"] == "similar",
        "store": other["store_name"] or other["store_id"] or ("对方店铺" if lang == "zh"
                                                              else "the other store"),
        "store_id": other["store_id"], "listing_url": other["listing_url"] or "",
        "title": other["title"], "image_url": f.image["url"],
        "file_name": p["file_name"], "sha256": p["sha256"], "taken_at": t(p["taken_at"]),
        "camera": camera, "registered_at": t(p["registered_at"]), "own_time": t(a["own_time"]),
        "other_first_seen": t(a["other_first_seen"]),
        "shoot_count": len(f.shoot), "match_kind": a["match_kind"],
        "score": round(a["score"], 3), "inliers": comparison.get("inliers", 0),
        "reg_seq": reg["seq"] if reg else None,
        "witness_time": t(witness["sent_at"]) if witness else None,
        "attachments": attachment_lines(files, lang),
        "timeline": [(t(e["time"]), e[lang], e[f"source_{lang}"]) for e in f.timeline],
        "findings": [(status_word[c["status"]], c[lang]) for c in f.checks],
        "head_seq": head["seq"] if head else "—", "head_hash": head["entry_hash"] if head else "—",
        "ledger_status": ledger_status,
        "today": fmt_time(now_iso(), lang)[:10],
    }


def render_drafts(f: Facts, files: list[tuple[str, str]], comparison: dict,
                  head: dict | None) -> dict[tuple[str, str], str]:
    """Every draft in both languages: {(draft, lang): text}."""
    env = _env()
    out = {}
    for lang in LANGS:
        ctx = context(f, lang, files, comparison, head)
        for name in DRAFTS:
            out[(name, lang)] = env.get_template(f"{name}.{lang}.txt.j2").render(ctx)
    return out
