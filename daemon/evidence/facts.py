"""What an evidence pack states, gathered from the store and checked before anything is written.

Every fact carries where it comes from (the camera's EXIF, PicGuard's own observation, the
other store's server), because a reviewer weighs them differently. The honest reading of
the alert (who showed the photo first, what is weak in the seller's case) is made here once,
and the report and the drafts only render it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

from daemon.config import Settings
from daemon.monitor.alerts import alert_view
from daemon.provenance.ledger import (
    KIND_FIRST_SEEN,
    KIND_REGISTER,
    Ledger,
    LedgerError,
    VerifyReport,
)
from daemon.store import Store
from daemon.timeutil import iso, parse_iso

BEIJING = timezone(timedelta(hours=8), "UTC+8")
# EXIF Software values that mean the file went through an editor, not straight from the camera.
EDITORS = ("photoshop", "lightroom", "gimp", "snapseed", "picsart", "canva", "meitu", "美图",
           "醒图", "pixelmator", "affinity", "vsco", "facetune", "remini")
MIN_SHOOT_PHOTOS = 3  # other frames of the same shoot a platform reviewer expects to see


class EvidenceError(ValueError):
    """The pack cannot be made as asked; the message says why and what to do.

    `status` is the HTTP answer for the API (404 unknown alert, 409 needs the seller first).
    """

    def __init__(self, message: str, code: str = "bad_request", status: int = 400):
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


class GpsConsentNeeded(EvidenceError):
    """Originals carry GPS coordinates and the seller has not agreed to export them."""

    def __init__(self, files: list[str]):
        super().__init__(
            f"{len(files)} original(s) carry GPS coordinates (where the photo was taken): "
            f"{', '.join(files)}. The pack keeps originals byte-exact, so the location goes "
            "with them to whoever receives the pack. Export anyway with --include-gps "
            "(API: ?include_gps=1), or leave those photos out of the catalog.",
            code="gps_consent", status=409)
        self.files = files


@dataclass
class Original:
    """One catalog original going into the pack, read and checked against its SHA-256."""

    photo: dict
    exif: dict
    data: bytes
    arcname: str
    matched: bool


@dataclass
class Facts:
    """Everything the pack, the report and the drafts say about one alert."""

    alert: dict
    view: dict
    originals: list[Original]
    left_out: list[dict]
    image: dict
    capture: dict | None
    listing: dict | None
    pages: list[dict]
    ledger_entries: list[dict]
    ledger_first_seq: int | None
    ledger_report: VerifyReport
    witnesses: list[dict]
    ledger_error: str | None = None
    timeline: list[dict] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)

    @property
    def copied(self) -> bool:
        return self.alert["kind"] == "copied"

    @property
    def unclear(self) -> bool:
        """Neither side's times prove who was first (daemon.monitor.verdict_rules)."""
        return self.alert["kind"] == "unclear"

    @property
    def original(self) -> Original:
        return self.originals[0]

    @property
    def shoot(self) -> list[Original]:
        return self.originals[1:]

    def entry_for(self, subject: str, kind: str) -> dict | None:
        return next((e for e in self.ledger_entries
                     if e["subject"] == subject and e["kind"] == kind), None)


def fmt_time(text: str | None, lang: str) -> str:
    """A stored UTC time for people: Beijing time for Chinese, UTC for English."""
    dt = parse_iso(text)
    if dt is None:
        return "—"
    if lang == "zh":
        return dt.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S（北京时间）")
    return dt.strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_span(seconds: float, lang: str) -> str:
    """A duration in the largest unit that fits: days, hours, minutes (or under a minute)."""
    for size, zh, en in ((86400, "天", "day"), (3600, "小时", "hour"), (60, "分钟", "minute")):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {zh}" if lang == "zh" else f"{n} {en}{'s' if n > 1 else ''}"
    return "不到 1 分钟" if lang == "zh" else "under a minute"


def gps_files(store: Store, alert_id: int) -> list[str]:
    """File names of the originals that would go into the pack and carry GPS."""
    alert = store.get_alert(alert_id)
    if alert is None:
        return []
    photos = [store.get_photo(alert["photo_id"])]
    if alert["shoot"]:
        photos += store.shoot_photos(alert["shoot"])
    return sorted({p["file_name"] for p in photos if p and p["has_gps"]})


def _read_original(photo: dict) -> tuple[bytes | None, str | None]:
    """The file's bytes when they still hash to the registered SHA-256, else why not."""
    path = Path(photo["path"])
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, f"the file is no longer readable at {path} ({exc.strerror})"
    if hashlib.sha256(data).hexdigest() != photo["sha256"]:
        return None, f"the file at {path} was changed after you registered it"
    return data, None


def _arcname(photo: dict, folder: str) -> str:
    # photo id first: two shoots may hold files of the same name
    return f"{folder}/{photo['id']}-{Path(photo['file_name']).name}"


def gather(store: Store, settings: Settings, alert_id: int,
           include_gps: bool = False) -> Facts:
    """Read and check everything for the pack of `alert_id` (EvidenceError when it can't be)."""
    alert = store.get_alert(alert_id)
    if alert is None:
        raise EvidenceError(f"there is no alert {alert_id}; `picguard alerts --all` lists them",
                            code="no_alert", status=404)
    if alert["state"] == "withdrawn":
        # a pack is what a seller files: it must not rest on a finding PicGuard took back
        raise EvidenceError(
            f"alert {alert_id} was withdrawn: PicGuard's updated matcher compared your photo "
            "with the captured image again and no longer finds it a copy. No evidence pack "
            "is made for it; if you still believe it is your photo, compare the two files "
            "with `picguard compare` and judge them yourself.",
            code="alert_withdrawn", status=409)
    gps = gps_files(store, alert_id)
    if gps and not include_gps:
        raise GpsConsentNeeded(gps)
    photo = store.get_photo(alert["photo_id"])
    data, problem = _read_original(photo)
    if data is None:
        raise EvidenceError(
            f"the original {photo['file_name']} cannot go into the pack: {problem}. The pack "
            "must hold the exact file you registered (SHA-256 "
            f"{photo['sha256'][:16]}...). Put the unedited original back at that path, from "
            "your camera, phone or backup, then try again.", code="original_changed", status=409)
    originals = [Original(photo, _exif(photo), data, _arcname(photo, "original"), True)]
    left_out = []
    for row in store.shoot_photos(alert["shoot"]) if alert["shoot"] else []:
        if row["id"] == photo["id"]:
            continue
        full = store.get_photo(row["id"])
        data, problem = _read_original(full)
        if data is None:
            left_out.append({"file_name": full["file_name"], "reason": problem})
        else:
            originals.append(Original(full, _exif(full), data, _arcname(full, "shoot"), False))
    ledger = Ledger(store, settings.data_dir)
    try:
        ledger.backfill()  # a database from before the ledger still gets its entries
        ledger_error = None
    except LedgerError as exc:  # the pack is still made: the seller's deadline comes first
        ledger_error = str(exc)
    subjects = [f"photo:{o.photo['id']}" for o in originals] + [f"image:{alert['image_id']}"]
    entries = store.ledger_entries_for(subjects)
    image = store.get_image(alert["image_id"])
    facts = Facts(
        alert={**alert, "details": json.loads(alert["details"] or "{}")},
        view=alert_view(alert), originals=originals, left_out=left_out, image=image,
        capture=store.get_capture(alert["image_id"]),
        listing=store.get_listing(alert["listing_id"]) if alert["listing_id"] else None,
        pages=store.pages_of_listing(alert["listing_id"]) if alert["listing_id"] else [],
        ledger_entries=entries, ledger_first_seq=entries[0]["seq"] if entries else None,
        ledger_report=ledger.verify(), witnesses=store.ledger_witnesses(),
        ledger_error=ledger_error,
    )
    facts.timeline = timeline(facts)
    facts.checks = checks(facts)
    return facts


def _exif(photo: dict) -> dict:
    try:
        return json.loads(photo.get("exif_json") or "{}")
    except ValueError:
        return {}


def _event(time: str | None, who: str, zh: str, en: str, src_zh: str, src_en: str) -> dict | None:
    return {"time": time, "who": who, "zh": zh, "en": en, "source_zh": src_zh,
            "source_en": src_en} if time else None


def first_witness_after(facts: Facts, seq: int) -> dict | None:
    """The first successful sending of a head that includes entry `seq`."""
    return next((w for w in facts.witnesses if w["seq"] >= seq), None)


def timeline(f: Facts) -> list[dict]:
    """Every dated fact about both images, oldest first, each with its source."""
    p, a, img, cap = f.original.photo, f.alert, f.image, f.capture
    shot = sorted(o.photo["taken_at"] for o in f.shoot if o.photo["taken_at"])
    reg = f.entry_for(f"photo:{p['id']}", KIND_REGISTER)
    seen = f.entry_for(f"image:{a['image_id']}", KIND_FIRST_SEEN)
    witness = first_witness_after(f, reg["seq"]) if reg else None
    events = [
        _event(p["taken_at"], "own", "你的原图拍摄", "Your original was shot",
               "原图中的相机 EXIF", "camera EXIF in the original"),
        _event(shot[0] if shot else None, "own",
               f"同组照片最早一张拍摄（共 {len(f.shoot)} 张）",
               f"Earliest photo of the same shoot ({len(f.shoot)} photos)",
               "同组原图的 EXIF", "EXIF of the shoot's originals"),
        _event(p["registered_at"], "own", "你在 PicGuard 登记原图",
               "You registered the original in PicGuard", "PicGuard 图库", "PicGuard catalog"),
        _event(reg and reg["time"], "ledger", f"登记写入签名证据链（第 {reg and reg['seq']} 条）",
               f"Registration written to the signed ledger (entry {reg and reg['seq']})",
               "PicGuard 证据链", "PicGuard ledger"),
        _event(witness and witness["sent_at"], "ledger", "包含该登记的证据链摘要发送到你的通知渠道",
               "Ledger digest covering that entry sent to your notification channels",
               "你的邮箱/聊天服务器的时间戳", "your mail or chat server's timestamp"),
        _event(img["last_modified"] and _http_time(img["last_modified"]), "other",
               "对方服务器声称的图片修改时间", "Their server's Last-Modified for the image",
               "对方服务器（对方可控制）", "their server, which they control"),
        _event(a["other_first_seen"], "other", "PicGuard 首次看到对方商品页面展示该图片",
               "PicGuard first saw the other store's listing with the image",
               "PicGuard 的观察", "PicGuard's observation"),
        _event(cap and cap["captured_at"], "other", "PicGuard 保存对方图片（原样字节）",
               "PicGuard saved their image as served", "PicGuard 的抓取", "PicGuard's capture"),
        _event(seen and seen["time"], "ledger",
               f"首次发现写入签名证据链（第 {seen and seen['seq']} 条）",
               f"First sighting written to the signed ledger (entry {seen and seen['seq']})",
               "PicGuard 证据链", "PicGuard ledger"),
        _event(a["created_at"], "alert", "PicGuard 发出提醒", "PicGuard raised the alert",
               "PicGuard", "PicGuard"),
    ]
    return sorted((e for e in events if e), key=lambda e: parse_iso(e["time"]))


def _http_time(value: str) -> str | None:
    """An HTTP date (RFC 9110) as stored ISO; None when the server sent something odd."""
    try:
        return iso(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return None


def _check(status: str, zh: str, en: str) -> dict:
    return {"status": status, "zh": zh, "en": en}


def checks(f: Facts) -> list[dict]:
    """What is strong and what is weak in the seller's case, in plain words (ok/warn/bad)."""
    p, exif, out = f.original.photo, f.original.exif, []
    out.append(_check("ok", "原图与登记时完全一致（SHA-256 相同），按原样放入证据包。",
                      "The original is byte-identical to the registered file (same SHA-256)."))
    if p["taken_at"]:
        out.append(_check("ok", "原图带有相机拍摄时间（EXIF）。",
                          "The original carries the camera's capture time (EXIF)."))
    else:
        out.append(_check("warn", "原图没有 EXIF 拍摄时间：平台要求相机或手机直接导出的原图；"
                          "你最早的时间证明是 PicGuard 登记时间。",
                          "The original has no EXIF capture time: platforms ask for the file "
                          "straight from the camera or phone; your earliest proof is the "
                          "PicGuard registration."))
    software = str(exif.get("Software") or "")
    if any(name in software.lower() for name in EDITORS):
        out.append(_check("warn", f"原图经过编辑软件保存（{software}）："
                          "如有相机原始文件，请登记并使用它。",
                          f"The original was saved by an editor ({software}): if you have the "
                          "camera's file, register and use that one."))
    n = len(f.shoot)
    if n >= MIN_SHOOT_PHOTOS:
        out.append(_check("ok", f"附有同组照片 {n} 张（套图/花絮图）。",
                          f"{n} other photos of the same shoot are attached."))
    else:
        out.append(_check("warn" if n else "bad",
                          f"同组照片只有 {n} 张：平台通常要求多张同一拍摄的套图或花絮图。请用 "
                          "`picguard catalog add 文件夹 --shoot 名称` 登记整组照片后重新导出。",
                          f"Only {n} other photo(s) of the same shoot: platforms expect several. "
                          "Register the whole series with `picguard catalog add FOLDER --shoot "
                          "NAME`, then export again."))
    for item in f.left_out:
        out.append(_check("warn", f"同组照片 {item['file_name']} 未放入：{item['reason']}。",
                          f"Shoot photo {item['file_name']} left out: {item['reason']}."))
    own, other = parse_iso(f.alert["own_time"]), parse_iso(f.alert["other_first_seen"])
    if f.copied:
        gap = (other - own).total_seconds() if own and other else 0
        out.append(_check("ok", "你的时间比 PicGuard 首次在对方店铺看到该图片早 "
                          f"{fmt_span(gap, 'zh')}。",
                          f"Your time is {fmt_span(gap, 'en')} earlier than PicGuard's first "
                          "sighting on the other store."))
        modified = parse_iso(_http_time(f.image["last_modified"] or "") or "")
        if modified and own and modified < own:
            out.append(_check("warn", "对方服务器的 Last-Modified 早于你的时间："
                              "平台可能认为对方更早。",
                              "Their server's Last-Modified is earlier than your time: the "
                              "platform may see theirs as earlier."))
    elif f.unclear:
        out.append(_check("warn", "现有时间不能证明哪一方更早（例如只有登记时间，且与 PicGuard "
                          "首次看到对方图片的时间太接近）。证据包不声称你更早；请登记带拍摄时间的"
                          "同组照片后重新导出。",
                          "The times PicGuard has do not prove which side was first (for "
                          "instance only a registration time, too close to PicGuard's first "
                          "sighting). The pack does not claim you were first; register the shoot "
                          "series with capture times and export again."))
    else:
        out.append(_check("bad", "PicGuard 在你最早的记录时间之前就在对方店铺看到了这张图片。"
                          "证据包不能证明你更早；只有原图和同组照片能证明是你拍摄的。",
                          "PicGuard saw this image on the other store before your earliest "
                          "recorded time. The pack cannot show you were first; only your "
                          "originals and shoot series can show you took it."))
    if f.capture is None:
        out.append(_check("warn", "没有对方图片的原样抓取（匹配是后来用缩略图发现的）："
                          "请尽快打开对方页面，让浏览器扩展再次推送。",
                          "No capture of their image as served (the match was found later, from "
                          "a thumbnail): open their listing now so the extension pushes it again."))
    reg = f.entry_for(f"photo:{p['id']}", KIND_REGISTER)
    if reg and json.loads(reg["ref"]).get("backfilled"):
        out.append(_check("warn", "该原图的证据链记录是补记的，证据链时间晚于登记时间。",
                          "The original's ledger entry was added later (backfilled): its ledger "
                          "time is after the registration."))
    if reg and not first_witness_after(f, reg["seq"]):
        out.append(_check("warn", "包含该登记的证据链摘要还没有发送到外部渠道："
                          "运行 `picguard ledger witness`。",
                          "No ledger digest covering this registration has been sent out yet: "
                          "run `picguard ledger witness`."))
    if f.ledger_error:
        out.append(_check("bad", f"证据链无法写入：{f.ledger_error}",
                          f"The ledger cannot be written: {f.ledger_error}"))
    if not f.ledger_report.ok:
        first = f.ledger_report.problems[0]
        out.append(_check("bad", f"证据链核验失败（第 {first.seq} 条）：{first.message}",
                          f"The ledger does not verify (entry {first.seq}): {first.message}"))
    return out
