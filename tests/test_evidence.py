"""Evidence packs from real alerts made by the real pipeline: exact originals, the whole shoot,
verifiable hashes and ledger, honest drafts, GPS consent, the API, and the report in Chromium."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from daemon.catalog.registration import register
from daemon.cli import main as cli
from daemon.config import Settings, load_settings
from daemon.demo.shop import DemoItem, item_page
from daemon.monitor.ingest import ingest_page
from daemon.monitor.pipeline import Pipeline
from daemon.store import Store
from daemon.timeutil import now_iso
from daemon.web.app import create_app
from tests.chromium import require_chromium

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
# after the seller's capture times (2024-05-01) and long before the test runs: the copier's
# image is later than the seller's shoot, the early store's earlier than any registration
LAST_MODIFIED = "Tue, 02 Jul 2024 03:04:05 GMT"


class Cdn:
    """The other store's image server on 127.0.0.1, with the HTTP facts a real CDN sends."""

    def __init__(self) -> None:
        self.images: dict[str, bytes] = {}
        cdn = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = cdn.images.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body or b"")))
                self.send_header("Last-Modified", LAST_MODIFIED)
                self.send_header("ETag", f'"{hashlib.md5(body or b"").hexdigest()[:12]}"')  # noqa: S324
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"



def _next_millisecond() -> None:
    """Poll until the stored clock (millisecond ISO times) has moved on, so the events on
    either side get distinct times."""
    start = now_iso()
    while now_iso() == start:
        pass

def _edited(path: Path) -> bytes:
    """What a copier serves: the photo shrunk to 80% and recompressed at JPEG q60."""
    im = Image.open(path)
    out = io.BytesIO()
    im.resize((int(im.width * 0.8), int(im.height * 0.8))).convert("RGB").save(
        out, "JPEG", quality=60)
    return out.getvalue()


def _with_capture_time(src: Path, dst: Path, minute: int) -> Path:
    """A camera export without GPS: a capture time in a series (the same shoot backs it)."""
    im = Image.open(src)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "EOS 90D"
    sub = exif.get_ifd(0x8769)
    sub[0x9003], sub[0x9011] = f"2024:05:01 09:{minute:02d}:00", "+08:00"
    im.save(dst, "JPEG", quality=95, exif=exif)
    return dst


def _with_camera_exif(src: Path, dst: Path) -> None:
    """A phone export: camera make/model, capture time and GPS coordinates in its EXIF."""
    im = Image.open(src)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Xiaomi", "Redmi Note 12"
    sub = exif.get_ifd(0x8769)
    sub[0x9003], sub[0x9011] = "2024:05:01 10:30:00", "+08:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (31.0, 14.0, 0.0), "E", (121.0, 28.0, 0.0)
    im.save(dst, "JPEG", quality=95, exif=exif)


@dataclass
class World:
    settings: Settings
    store: Store
    shirts: list[Path]       # the shoot of the copied photo (shirts[0]), as registered
    shirt_sources: list[Path]  # the photos in shared/ the camera exports were made from
    served: dict[str, bytes]
    copied: dict             # alert rows
    resembles: dict
    gps: dict
    uncaptured: dict         # found by reverse matching: only a thumbnail was kept
    page_html: str


@pytest.fixture(scope="module")
def world(tmp_path_factory, photos_dir) -> World:
    root = tmp_path_factory.mktemp("evidence")
    settings = load_settings(root / "data")
    settings.allow_private_hosts = True  # the CDN is on 127.0.0.1
    store = Store(settings.db_path)
    cdn = Cdn()
    camera = root / "camera"
    camera.mkdir()
    shirt_sources = sorted((photos_dir / "clothing/shirt").glob("*.jpg"))[:4]
    # the seller's shoot: camera exports with capture times (honest `copied` needs them:
    # a registration minutes before the copier was first seen proves nothing)
    shirts = [_with_capture_time(p, camera / p.name, i) for i, p in enumerate(shirt_sources)]
    dresses = sorted((photos_dir / "clothing/dress").glob("*.jpg"))[:2]
    gps_files = []
    for p in dresses:
        _with_camera_exif(p, camera / f"IMG_{p.stem[:8]}.jpg")
        gps_files.append(camera / f"IMG_{p.stem[:8]}.jpg")
    pants = Path(shutil.copy(sorted((photos_dir / "clothing/pants").glob("*.jpg"))[0],
                             camera / "pants.jpg"))
    hat = Path(shutil.copy(sorted((photos_dir / "clothing/hat").glob("*.jpg"))[0],
                           camera / "hat.jpg"))
    # A hat photo is fetched before the seller registers it and then vanishes from the CDN:
    # the match comes later, by reverse matching, when PicGuard cannot capture it any more
    # and only its thumbnail is left.
    cdn.images["/kf/Shat.jpg"] = _edited(hat)
    hats = DemoItem("1005000000002", "6666", "Hat Store", "Hat", ["Shat.jpg"])
    ingest_page(store, settings, "https://www.aliexpress.com/item/1005000000002.html",
                item_page(hats, cdn.base), source="extension")
    assert Pipeline(settings, store).run_once()["fetch"]["fetched"] == 1
    del cdn.images["/kf/Shat.jpg"]
    # An earlier store shows the pants photo before the seller registers it: `resembles`.
    cdn.images["/kf/Searly.jpg"] = _edited(pants)
    early = DemoItem("1005000000001", "5555", "Early Store 早店", "Pants 裤子", ["Searly.jpg"])
    ingest_page(store, settings, "https://www.aliexpress.com/item/1005000000001.html",
                item_page(early, cdn.base), source="extension")
    _next_millisecond()
    assert len(register(store, shirts, shoot="shirt-spring").added) == 4
    assert len(register(store, gps_files, shoot="dress-gps").added) == 2
    assert len(register(store, [pants, hat]).added) == 2
    _next_millisecond()
    # A copier shows edited copies of a shirt and a dress, after the seller registered them.
    cdn.images["/kf/Scopy.jpg"] = _edited(shirts[0])
    cdn.images["/kf/Sdress.jpg"] = _edited(gps_files[0])
    copier = DemoItem("1005001234567", "9876", "Copycat Store 抄图店", "夏威夷衬衫 Hawaiian shirt",
                      ["Scopy.jpg", "Sdress.jpg"])
    html = item_page(copier, cdn.base)
    ingest_page(store, settings, "https://www.aliexpress.com/item/1005001234567.html", html,
                source="extension")
    summary = Pipeline(settings, store).run_once()
    assert summary["fetch"]["fetched"] == 3, summary
    alerts = {(a["file_name"], a["kind"]): a for a in store.list_alerts("all")}
    world = World(
        settings=settings, store=store, shirts=shirts, shirt_sources=shirt_sources,
        served=cdn.images, copied=alerts[(shirts[0].name, "copied")],
        resembles=alerts[("pants.jpg", "resembles")], gps=alerts[(gps_files[0].name, "copied")],
        uncaptured=alerts[("hat.jpg", "resembles")], page_html=html)
    yield world
    cdn.server.shutdown()
    store.close()


def _export(world: World, alert: dict, out: Path, *args: str):
    return CliRunner().invoke(cli, ["evidence", str(alert["id"]), "--out", str(out),
                                    "--data-dir", str(world.settings.data_dir), *args])


@pytest.fixture(scope="module")
def packs(world, tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Packs exported through the CLI and unzipped: (copied|resembles, zh|en) -> folder."""
    root = tmp_path_factory.mktemp("packs")
    out = {}
    for name, alert in (("copied", world.copied), ("resembles", world.resembles)):
        for lang in ("zh", "en"):
            zip_path = root / f"{name}-{lang}.zip"
            result = _export(world, alert, zip_path, "--lang", lang)
            assert result.exit_code == 0, result.output
            folder = root / f"{name}-{lang}"
            with zipfile.ZipFile(zip_path) as zf:
                zf.extractall(folder)
            out[(name, lang)] = folder
    return out


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_pack_from_a_real_alert_holds_the_exact_originals_and_verifies(world, packs) -> None:
    pack = packs[("copied", "zh")]
    manifest = json.loads((pack / "manifest.json").read_text("utf-8"))
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {p.relative_to(pack).as_posix() for p in pack.rglob("*") if p.is_file()}
    assert on_disk == listed | {"manifest.json"}
    for item in manifest["files"]:  # every manifest hash verifies
        assert _sha((pack / item["path"]).read_bytes()) == item["sha256"], item["path"]
    # the disputed original and its whole shoot set, byte for byte as registered
    originals = sorted((pack / "original").iterdir()) + sorted((pack / "shoot").iterdir())
    assert len(originals) == 4
    registered = {p.name: p for p in world.shirts}
    for packed in originals:
        name = packed.name.split("-", 1)[1]
        assert packed.read_bytes() == registered[name].read_bytes()
    assert (pack / "original").iterdir().__next__().name.endswith(world.shirts[0].name)
    # the other store's capture: bytes as served, with the HTTP facts and the page
    assert (pack / "competitor/image.jpg").read_bytes() == world.served["/kf/Scopy.jpg"]
    http = json.loads((pack / "competitor/http.json").read_text("utf-8"))
    assert http["as_served"] and http["last_modified"] == LAST_MODIFIED and http["etag"]
    assert http["sha256"] == _sha(world.served["/kf/Scopy.jpg"])
    page = gzip.decompress((pack / http["pages"][0]["file"]).read_bytes()).decode()
    assert page == world.page_html and _sha(page.encode()) == http["pages"][0]["html_sha256"]
    exif = json.loads((pack / "exif.json").read_text("utf-8"))
    assert [e["sha256"] for e in exif] == [_sha(p.read_bytes()) for p in originals]
    with Image.open(pack / "comparison.jpg") as im:
        assert im.width > im.height > 500
    assert manifest["comparison"]["inliers"] >= 30


def test_pack_ledger_covers_the_files_and_checks_standalone(world, packs, tmp_path) -> None:
    pack = packs[("copied", "en")]
    entries = [json.loads(line) for line in
               (pack / "ledger/entries.jsonl").read_text("utf-8").splitlines()]
    covering = {e["file"]: json.loads(e["body"]) for e in entries if e["file"]}
    for name in ["competitor/image.jpg", *(f"{d}/{p.name}" for d in ("original", "shoot")
                                          for p in (pack / d).iterdir())]:
        assert covering[name]["sha256"] == _sha((pack / name).read_bytes()), name
    registration = covering[next(iter((pack / "original").iterdir())).relative_to(pack)
                            .as_posix()]
    assert registration["kind"] == "catalog.register"
    assert covering["competitor/image.jpg"]["kind"] == "image.first_seen"
    assert entries[-1]["entry_hash"] == world.store.ledger_head()["entry_hash"]
    assert list(pack.glob("ledger/public-key-*.pem"))
    howto = (pack / "ledger/HOW-TO-VERIFY.txt").read_text("utf-8")
    assert "openssl pkeyutl -verify" in howto and "sha256sum" in howto
    # verify_pack.py, as a third party runs it: OK, then it notices a changed file
    copy = tmp_path / "pack"
    shutil.copytree(pack, copy)
    run = [sys.executable, str(copy / "verify_pack.py")]
    ok = subprocess.run(run, capture_output=True, text=True)
    assert ok.returncode == 0 and "OK: the pack is intact." in ok.stdout, ok.stdout
    assert "hashes and signatures checked" in ok.stdout
    shot = next((copy / "shoot").iterdir())
    shot.write_bytes(shot.read_bytes() + b"\0")
    bad = subprocess.run(run, capture_output=True, text=True)
    assert bad.returncode == 1 and f"shoot/{shot.name}: changed" in bad.stdout


def test_copied_drafts_state_the_facts(world, packs) -> None:
    pack = packs[("copied", "zh")]
    zh = (pack / "drafts/counter-notice.zh.txt").read_text("utf-8")
    en = (pack / "drafts/counter-notice.en.txt").read_text("utf-8")
    assert "我方声明：该图片由我方自行拍摄" in zh and "We took this photograph ourselves" in en
    for text in (zh, en):
        assert world.shirts[0].name in text and world.copied["photo_sha256"] in text
        assert "Copycat Store 抄图店" in text and "3" in text
        assert f"original/{world.copied['photo_id']}-{world.shirts[0].name}" in text
        assert "comparison.jpg" in text and "report.html" in text
    assert "晚于我方的时间" in zh and "later than our time" in en
    lawyer = (pack / "drafts/lawyer-brief.en.txt").read_text("utf-8")
    assert "Timeline" in lawyer and "Last-Modified" in lawyer and "[WEAK]" in lawyer
    calm = (pack / "drafts/message-to-complainant.en.txt").read_text("utf-8")
    assert "misunderstanding" in calm


def test_resembles_pack_is_honest(world, packs) -> None:
    pack = packs[("resembles", "en")]
    report = (pack / "report.html").read_text("utf-8")
    assert "The other store showed this image first" in report
    assert "does not claim you were first" in report
    drafts = {p.name: p.read_text("utf-8") for p in (pack / "drafts").iterdir()}
    notice_en, notice_zh = drafts["counter-notice.en.txt"], drafts["counter-notice.zh.txt"]
    assert "We took this photograph ourselves" not in notice_en
    assert "我方声明" not in notice_zh and "我方是这张照片的著作权人" not in notice_zh
    assert "does not claim you were first" in notice_en and "不声称你更早" in notice_zh
    assert "supplier" in notice_en and "供应商" in notice_zh
    assert "Early Store 早店" in notice_en
    assert "carries no camera capture time" in notice_en  # no EXIF: it says so, claims nothing
    assert "earlier than our own record" in drafts["message-to-complainant.en.txt"]
    assert "theirs is earlier" in drafts["lawyer-brief.en.txt"]
    assert "[AGAINST US]" in drafts["lawyer-brief.en.txt"]
    # the capture at first sight is there even though their image came first
    assert (pack / "competitor/image.jpg").read_bytes() == world.served["/kf/Searly.jpg"]


def test_without_a_capture_the_pack_says_so(world, tmp_path) -> None:
    out = tmp_path / "hat.zip"
    result = _export(world, world.uncaptured, out, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "No capture of their image as served" in result.output  # warned on the terminal
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert "competitor/thumbnail.jpg" in names and "competitor/image.jpg" not in names
        http = json.loads(zf.read("competitor/http.json"))
        assert http["as_served"] is False and http["captured_at"] is None
        assert "No as-served capture" in zf.read("report.html").decode()
        assert "Hat Store" in zf.read("drafts/counter-notice.en.txt").decode()


def test_gps_needs_the_sellers_consent(world, tmp_path) -> None:
    out = tmp_path / "gps.zip"
    refused = _export(world, world.gps, out)
    assert refused.exit_code == 2 and not out.exists()
    assert "GPS coordinates" in refused.output and "--include-gps" in refused.output
    agreed = _export(world, world.gps, out, "--include-gps", "--json")
    assert agreed.exit_code == 0, agreed.output
    answer = json.loads(agreed.output)
    assert len(answer["gps_included"]) == 2
    with zipfile.ZipFile(out) as zf:
        assert "GPS" in zf.read("README.txt").decode()
        exif = json.loads(zf.read("exif.json"))
        assert {e["camera_model"] for e in exif} == {"Redmi Note 12"}
        assert all(e["has_gps"] for e in exif)


def test_a_changed_original_is_refused_in_plain_words(world, tmp_path) -> None:
    path = world.shirts[0]
    kept = path.read_bytes()
    try:
        path.write_bytes(kept + b"edited")
        result = _export(world, world.copied, tmp_path / "x.zip")
        assert result.exit_code == 2 and not (tmp_path / "x.zip").exists()
        assert "changed after you registered it" in result.output
        assert "Put the unedited original back" in result.output
    finally:
        path.write_bytes(kept)


def test_cli_input_errors(world, tmp_path) -> None:
    missing = _export(world, {"id": 999}, tmp_path / "x.zip")
    assert missing.exit_code == 2 and "there is no alert 999" in missing.output
    lang = _export(world, world.copied, tmp_path / "x.zip", "--lang", "fr")
    assert lang.exit_code == 2


def test_api_serves_the_pack(world) -> None:
    app = create_app(world.settings, Pipeline(world.settings, world.store))
    token = world.settings.token_path.read_text().strip()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    base = "http://127.0.0.1:8765/api/v1/alerts"

    def get(path: str):
        return client.get(f"{base}/{path}", base_url="http://127.0.0.1:8765", headers=headers)

    ok = get(f"{world.copied['id']}/evidence?lang=en")
    assert ok.status_code == 200 and ok.mimetype == "application/zip"
    assert f"picguard-evidence-{world.copied['id']}.zip" in ok.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(ok.data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        for item in manifest["files"]:
            assert _sha(zf.read(item["path"])) == item["sha256"]
        assert '<html lang="en">' in zf.read("report.html").decode()
    gps = get(f"{world.gps['id']}/evidence")
    assert gps.status_code == 409 and gps.get_json()["code"] == "gps_consent"
    assert "GPS" in gps.get_json()["error"]
    assert get(f"{world.gps['id']}/evidence?include_gps=1").status_code == 200
    assert get("999/evidence").status_code == 404
    assert get(f"{world.copied['id']}/evidence?lang=fr").status_code == 400
    unauth = client.get(f"{base}/{world.copied['id']}/evidence",
                        base_url="http://127.0.0.1:8765")
    assert unauth.status_code == 401


def test_report_is_self_contained(packs) -> None:
    html = (packs[("copied", "zh")] / "report.html").read_text("utf-8")
    assert '<html lang="zh-CN">' in html and "@media print" in html
    assert not re.search(r"<(script|link|iframe)\b", html)
    sources = re.findall(r'\b(?:src|href)="([^"]*)"', html)
    assert sources and all(s.startswith("data:") for s in sources)
    assert "url(" not in html


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_in_headless_chromium(packs, lang) -> None:
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    report = packs[("copied", lang)] / "report.html"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report.as_uri())
            assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
            first = page.locator("h1 span").first
            assert first.get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
            assert first.inner_text() == ("图片原创证据报告" if lang == "zh"
                                          else "Evidence report: original photo")
            assert "Your photo came first" in page.locator("#verdict").inner_text()
            # every image (comparison, originals, their capture) decoded in the browser
            sizes = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
            assert len(sizes) >= 6 and all(w > 0 for w in sizes)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 1100  # nothing overflows sideways
            page.screenshot(path=str(ARTIFACTS / f"evidence-report-{lang}.png"), full_page=True)
            page.emulate_media(media="print")
            assert page.evaluate(
                "getComputedStyle(document.querySelector('#drafts')).breakBefore") == "page"
            page.pdf(path=str(ARTIFACTS / f"evidence-report-{lang}.pdf"), format="A4")
        finally:
            browser.close()
    assert (ARTIFACTS / f"evidence-report-{lang}.png").stat().st_size > 50_000
