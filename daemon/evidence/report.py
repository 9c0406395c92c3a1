"""report.html: the pack's self-contained, printable, bilingual evidence report.

One file a platform reviewer or a lawyer can open anywhere: images are data URIs, CSS is
inline, nothing is fetched. `lang` decides which language leads; the other follows each
heading and sentence, so one printout serves both readers.
"""

from __future__ import annotations

import base64
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from daemon import __version__
from daemon.evidence.drafts import DRAFTS, FILE_NAMES, ROLE_TEXT
from daemon.evidence.facts import Facts, fmt_time
from daemon.evidence.stamps import credentials
from daemon.matching.imageio import ImageError, make_thumbnail
from daemon.monitor.verdict_rules import KIND_WORDS
from daemon.timeutil import now_iso

# Every heading and label, (Chinese, English).
LABELS = {
    "title": ("图片原创证据报告", "Evidence report: original photo"),
    # the headlines are the verdicts' one wording (notification, dashboard, popup)
    **{f"verdict_{kind}": (words["zh"][0], words["en"][0]) for kind, words in KIND_WORDS.items()},
    "verdict_unclear_text": (
        "你的最早记录 {own} 与 PicGuard 首次在对方店铺看到该图片的时间 {other} 太接近或无法比较，"
        "不能证明哪一方更早。本报告不声称你更早；能证明你拍摄的只有原图与同组照片。",
        "Your earliest record, {own}, and PicGuard's first sighting on the other store, {other}, "
        "are too close (or cannot be compared) to show which side was first. This report does "
        "not claim you were first; only your originals and the same shoot can show you took it."),
    "verdict_copied_text": (
        "你的最早时间 {own} 早于 PicGuard 首次在对方店铺看到该图片的时间 {other}。",
        "Your earliest time, {own}, is before PicGuard first saw the image on the other store, "
        "{other}."),
    "verdict_resembles_text": (
        "PicGuard 在 {other} 已在对方店铺看到该图片，早于你的最早记录 {own}。本报告不声称你更早；"
        "能证明你拍摄的只有原图与同组照片。",
        "PicGuard saw the image on the other store at {other}, before your earliest record, {own}. "
        "This report does not claim you were first; only your originals and the same shoot can "
        "show you took it."),
    "summary": ("概要", "Summary"), "alert": ("提醒", "Alert"),
    "other_store": ("对方店铺", "Other store"), "listing": ("对方商品", "Their listing"),
    "image_url": ("对方图片地址", "Their image URL"), "match": ("匹配", "Match"),
    "checks": ("发送前核对", "Before you send"), "timeline": ("时间线", "Timeline"),
    "time": ("时间", "Time"), "event": ("事件", "Event"), "source": ("来源", "Source"),
    "comparison": ("并排对比", "Side by side"),
    "comparison_note": ("左：你的原图；右：对方的图片。连线连接两张图片中相同的特征点"
                        "（经 RANSAC 几何校验）。",
                        "Left: your original; right: their image. Lines join the same points in "
                        "both (verified with RANSAC)."),
    "points": ("相同特征点", "matching points"),
    "mirrored": ("对方图片为水平翻转", "their image is mirrored"),
    "originals": ("你的原始文件", "Your original files"), "file": ("文件", "File"),
    "role": ("作用", "Role"), "taken": ("拍摄时间", "Taken"), "camera": ("设备", "Camera"),
    "registered": ("登记时间", "Registered"), "size": ("大小", "Size"), "gps": ("GPS", "GPS"),
    "left_out": ("未放入的同组照片", "Shoot photos left out"),
    "competitor": ("对方的图片与页面", "Their image and page"),
    "http": ("HTTP 信息", "HTTP facts"), "captured": ("抓取时间", "Captured"),
    "no_capture": ("没有原样抓取，以下为 PicGuard 保存的缩略图。",
                   "No as-served capture; PicGuard's thumbnail below."),
    "pages": ("保存的页面", "Saved pages"), "received": ("收到时间", "Received"),
    "ledger": ("证据链（防篡改记录）", "Provenance ledger (tamper-evident)"),
    "ledger_ok": ("证据链核验通过：共 {n} 条记录，每条的哈希、链接和签名都正确。",
                  "The ledger verifies: {n} entries, every hash, link and signature correct."),
    "ledger_bad": ("证据链核验失败：", "The ledger does not verify: "),
    "head": ("当前链头", "Current head"),
    "witnesses": ("外部见证（发送到你的通知渠道）", "External witness (sent to your channels)"),
    "no_witness": ("尚未发送过链头摘要：运行 picguard ledger witness。",
                   "No head digest sent yet: run picguard ledger witness."),
    "how_verify": ("如何核验", "How to verify"),
    "how_verify_text": (
        "每条记录：entry_hash = sha256(prev_hash + body)，signature 是用 ledger/ 中公钥对 "
        "entry_hash（64 位十六进制文本）做的 Ed25519 签名。"
        "ledger/HOW-TO-VERIFY.txt 给出 openssl 命令；"
        "python3 verify_pack.py 一次核验全部文件和记录。",
        "Each entry: entry_hash = sha256(prev_hash + body); signature is Ed25519 over entry_hash "
        "(64 hex characters) with the public key in ledger/. ledger/HOW-TO-VERIFY.txt has the "
        "openssl commands; python3 verify_pack.py checks every file and entry at once."),
    "drafts": ("回复草稿", "Reply drafts"),
    "counter_notice": ("给平台的申诉（反通知）", "Counter-notice to the platform"),
    "complainant": ("给投诉方的消息", "Message to the complainant"),
    "lawyer": ("给知识产权律师的案情简介", "Brief for an IP lawyer"),
    "files": ("证据包文件与 SHA-256", "Files in this pack and their SHA-256"),
    "files_note": ("report.html 自身的 SHA-256 在 manifest.json 中；"
                   "manifest.json 无法包含自己的哈希。",
                   "report.html's own SHA-256 is in manifest.json, which cannot hold its own."),
    "stamps": ("第三方时间戳（RFC 3161）", "Third-party timestamps (RFC 3161)"),
    "stamps_text": (
        "独立的时间戳机构（TSA）对证据链链头签发的时间戳：它证明该条及之前的所有登记在所示时间"
        "之前已经存在。ledger/timestamps/ 中为原始令牌，verify_pack.py 可离线核验。",
        "A Time-Stamp Authority independent of the seller signed the ledger's head: every "
        "registration up to it existed by the time shown. The tokens are in ledger/timestamps/; "
        "verify_pack.py checks them offline."),
    "stamps_status": ("第三方时间戳", "Third-party timestamp"),
    "stamp_covered": ("已由 {tsa} 时间戳覆盖（链头第 {seq} 条）",
                      "Covered by a timestamp from {tsa} (head entry {seq})"),
    "stamp_not_yet": ("尚未被第三方时间戳覆盖：运行 picguard ledger stamp",
                      "Not covered by a third-party timestamp yet: run picguard ledger stamp"),
    "c2pa": ("内容凭证（C2PA）", "Content credentials (C2PA)"),
    "c2pa_state": ("凭证状态", "Credentials"), "c2pa_signer": ("签名者", "Signed by"),
    "c2pa_valid": ("签名与内容校验通过", "signature and content verify"),
    "c2pa_invalid": ("凭证无效", "credentials do not verify"),
    "c2pa_untrusted": ("签名者不在 C2PA 信任列表中", "signer not on a C2PA trust list"),
    "c2pa_note": (
        "相机或应用在拍摄时写入并签名的 C2PA 清单；"
        "校验通过时，其中的拍摄时间是最有力的拍摄时间证据。",
        "A C2PA manifest the camera or app signed into the file; when it verifies, its capture "
        "time is the strongest capture-time evidence."),
    "generated": ("生成时间", "Generated"), "yes": ("有", "yes"), "no": ("无", "no"),
    "matched": ("被投诉的图片", "the disputed photo"), "same_shoot": ("同组照片", "same shoot"),
}


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                       autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined)


def data_uri(blob: bytes | None, mime: str = "image/jpeg") -> str | None:
    return f"data:{mime};base64,{base64.b64encode(blob).decode('ascii')}" if blob else None


def thumb_uri(data: bytes | None, side: int = 260) -> str | None:
    """A small JPEG data URI of an image for the report (None when it cannot be decoded)."""
    if not data:
        return None
    try:
        return data_uri(make_thumbnail(data, max_side=side, quality=82))
    except ImageError:
        return None


def render_report(f: Facts, lang: str, comparison_jpeg: bytes, comparison: dict,
                  files: list[dict], drafts: dict[tuple[str, str], str],
                  head: dict | None, stamps: list[dict] | None = None) -> str:
    """The report's HTML, `lang` ('zh' or 'en') first and the other language second."""
    first, second = (0, 1) if lang == "zh" else (1, 0)
    lang_attr = ("zh-CN", "en")

    # Markup.format escapes every argument: seller and store texts can never inject HTML.
    two = Markup('<span lang="{}">{}</span> <span class="second" lang="{}">{}</span>')

    def pair(zh: str, en: str) -> Markup:
        texts = (zh, en)
        return two.format(lang_attr[first], texts[first], lang_attr[second], texts[second])

    def label(key: str, **fmt: object) -> Markup:
        zh, en = LABELS[key]
        return pair(zh.format(**fmt), en.format(**fmt))

    def when(value: str | None) -> Markup:
        if not value:
            return Markup("—")
        return Markup("{}<br><small>{}</small>").format(fmt_time(value, lang),
                                                        fmt_time(value, ("zh", "en")[second]))

    kind = f.alert["kind"] if f.alert["kind"] in KIND_WORDS else "unclear"
    verdict_key = f"verdict_{kind}"
    zh, en = LABELS[verdict_key + "_text"]
    times = {lg: {"own": fmt_time(f.alert["own_time"], lg),
                  "other": fmt_time(f.alert["other_first_seen"], lg)} for lg in ("zh", "en")}
    verdict_text = pair(zh.format(**times["zh"]), en.format(**times["en"]))
    other_bytes = f.capture["content"] if f.capture else f.image["thumb"]
    return _env().get_template("report.html.j2").render(
        lang=lang, html_lang=lang_attr[first], L=label, pair=pair, when=when,
        f=f, view=f.view, checks=f.checks, timeline=f.timeline,
        verdict_key=verdict_key, verdict_text=verdict_text,
        comparison_uri=data_uri(comparison_jpeg), comparison=comparison,
        originals=[{"o": o, "thumb": thumb_uri(o.data), "c2pa": credentials(o.photo)}
                   for o in f.originals],
        stamps=stamps or [],
        other_thumb=thumb_uri(other_bytes), http=f.capture or f.image,
        ledger=f.ledger_report, head=head, witnesses=f.witnesses,
        files=files, role_text=ROLE_TEXT, role_index=first,
        drafts=[(name, FILE_NAMES[name], drafts[(name, lang)],
                 drafts[(name, "en" if lang == "zh" else "zh")]) for name in DRAFTS],
        generated=now_iso(), version=__version__,
    )
