"""The dashboard in Debian's chromium against the real daemon with the demo's data, in both
languages: every page, every action (checked through the API afterwards), the evidence pack
download, accessibility (axe-core) and screenshots under test-artifacts/."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.daemon_support import Daemon, Receiver, picguard

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path(os.environ.get("PICGUARD_CHROMIUM", "/usr/bin/chromium"))
DEMO_PHOTOS = REPO / "daemon/demo/data/photos"
PAGES = ("alerts", "alerts/1", "catalog", "check", "monitoring", "settings", "proof")
HEADINGS = {
    "en": {"alerts": "Alerts", "alerts/1": "Alert #1", "catalog": "Catalog",
           "check": "Check before publishing", "monitoring": "Monitoring",
           "settings": "Settings", "proof": "Proof"},
    "zh": {"alerts": "提醒", "alerts/1": "提醒 #1", "catalog": "原图库", "check": "发布前检查",
           "monitoring": "监控", "settings": "设置", "proof": "证据链"},
}


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    data = tmp_path_factory.mktemp("dashboard") / "data"
    picguard("demo", "--no-serve", "--data-dir", str(data), data_dir=data, timeout=240)
    d = Daemon(data, env={"PICGUARD_ALLOW_PRIVATE_HOSTS": "1"}).start(timeout=60)
    yield d
    assert d.stop() == 0


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (apt install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"])
        yield browser
        browser.close()


def open_dashboard(chromium, daemon: Daemon, lang: str, tmp_path: Path | None = None):
    """A fresh browser profile in `lang`, paired through the serve URL's #token= fragment."""
    context = chromium.new_context(
        locale="zh-CN" if lang == "zh" else "en-US", viewport={"width": 1280, "height": 900},
        accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.errors = errors
    page.goto(f"{daemon.url}/#token={daemon.token}")
    page.wait_for_selector("body[data-ready=true] h1")
    assert "token" not in page.url  # the token left the address bar
    return context, page


def close(context) -> None:
    """Close a browser context; when called while a test fails (from its `finally:`), save
    what each page showed first, as test-artifacts/failed-<test>-<n>.png."""
    if sys.exc_info()[0] is not None:
        test = os.environ.get("PYTEST_CURRENT_TEST", "test").split(" ")[0].split("::")[-1]
        name = re.sub(r"[^\w.-]+", "-", test)
        ARTIFACTS.mkdir(exist_ok=True)
        for n, page in enumerate(context.pages):
            try:
                page.screenshot(path=str(ARTIFACTS / f"failed-{name}-{n}.png"), full_page=True,
                                timeout=10000)
            except Exception as error:  # noqa: BLE001 - never hide the test's own failure
                print(f"no screenshot of page {n}: {error}")
    context.close()


def go(page, daemon: Daemon, route: str) -> None:
    """Navigate inside the page as a link would (a same-hash visit re-renders too), and wait
    until a render started by this navigation shows that route."""
    with rerendered(page, route):
        page.evaluate("h => { if (location.hash === h) "
                      "window.dispatchEvent(new HashChangeEvent('hashchange')); "
                      "else location.hash = h; }", f"#/{route}")


@contextmanager
def rerendered(page, route: str | None = None, timeout: float = 30) -> Iterator[None]:
    """After the block, wait until a render that started after the block began is shown
    (and shows `route`, when given).

    The dashboard numbers its renders (app.js: data-render-started/-shown, data-ready once
    the latest is shown, data-route). An action re-renders only after the daemon answered
    it, so the API already reporting a change does not mean the page shows it, and a box
    ticked in a page about to be replaced is lost with it: every step that re-renders is
    wrapped in this before the next step touches the page."""
    before = page.evaluate("Number(document.body.dataset.renderStarted || 0)")
    yield
    until(page, "([n, route]) => { const b = document.body.dataset; "
                "return b.ready === 'true' && Number(b.renderShown) > n "
                "&& (route === null || b.route === route) "
                "&& !!document.querySelector('#main h1'); }", [before, route], timeout)


def until(page, expression: str, arg: object = None, timeout: float = 30) -> object:
    """Poll a JS expression in the page until it is truthy. (page.wait_for_function would
    need 'unsafe-eval', which the dashboard's CSP rightly refuses.)"""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {expression}")
        page.wait_for_timeout(100)


def wait_text(page, selector: str, pattern: str, timeout: float = 30) -> str:
    """Wait until the element's text matches `pattern` (a regex); returns the text."""
    until(page, "([sel, pat]) => { const n = document.querySelector(sel); "
                "return n && new RegExp(pat).test(n.textContent); }", [selector, pattern],
          timeout)
    return page.locator(selector).first.inner_text()


def axe_violations(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response["violations"] if v["impact"] in ("critical", "serious")]


# ---- every page, both languages: heading, no script errors, axe, screenshot ----------------

@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_renders_accessibly(chromium, daemon, lang) -> None:
    context, page = open_dashboard(chromium, daemon, lang)
    try:
        assert page.evaluate("document.documentElement.lang") == ("zh-CN" if lang == "zh"
                                                                    else "en")
        ARTIFACTS.mkdir(exist_ok=True)
        for route in PAGES:
            go(page, daemon, route)
            heading = page.locator("h1").first.inner_text()
            assert heading.startswith(HEADINGS[lang][route]), (route, heading)
            if route == "alerts/1":  # the side-by-side picture loads through the token
                until(page, "() => document.querySelector('img.compare')?.naturalWidth > 0")
            page.wait_for_load_state("networkidle")
            bad = axe_violations(page)
            assert not bad, (route, [(v["id"], v["help"], [n["target"] for n in v["nodes"]])
                                     for v in bad])
            name = route.replace("/", "-")
            page.screenshot(path=str(ARTIFACTS / f"dashboard-{lang}-{name}.png"), full_page=True)
        assert page.errors == []
    finally:
        close(context)


def test_language_switch_is_remembered_and_keyboard_works(chromium, daemon) -> None:
    context, page = open_dashboard(chromium, daemon, "en")
    try:
        page.select_option("#lang-select", "zh")
        page.wait_for_selector("h1:has-text('提醒')")
        page.reload()
        page.wait_for_selector("body[data-ready=true] h1:has-text('提醒')")
        assert page.evaluate("localStorage.getItem('picguard-lang')") == "zh"
        page.select_option("#lang-select", "en")
        page.wait_for_selector("h1:has-text('Alerts')")
        # keyboard only: Tab to the Catalog link, Enter
        for _ in range(12):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent") == "Catalog":
                break
        page.keyboard.press("Enter")
        page.wait_for_selector("body[data-ready=true] h1:has-text('Catalog')")
    finally:
        close(context)


# ---- alerts: confirm, dismiss, not mine, bulk, evidence pack (with the GPS question) ----------

def test_alert_actions_change_what_the_api_reports(chromium, daemon) -> None:
    ids = sorted(a["id"] for a in daemon.get("alerts?state=all").json()["alerts"])
    assert len(ids) == 3
    context, page = open_dashboard(chromium, daemon, "zh")
    try:
        go(page, daemon, f"alerts/{ids[0]}")
        page.get_by_role("button", name="确认", exact=True).click()
        daemon.wait_for(lambda: daemon.get(f"alerts/{ids[0]}").json()["state"] == "confirmed")
    finally:
        close(context)
    context, page = open_dashboard(chromium, daemon, "en")
    try:
        go(page, daemon, f"alerts/{ids[1]}")
        page.get_by_role("button", name="Not mine", exact=True).click()
        page.get_by_role("dialog").get_by_role("button", name="Not mine").click()
        daemon.wait_for(lambda: daemon.get(f"alerts/{ids[1]}").json()["state"] == "dismissed")
        # a selection: the remaining new alert, dismissed in bulk from the list. (The alert
        # page's own re-render may still be on its way, as when a user moves on quickly:
        # the list must win; test_a_late_answer_never_replaces_the_page_shown pins it.)
        go(page, daemon, "alerts")
        page.get_by_label(f"Select alert #{ids[2]}").check()
        with rerendered(page, "alerts"):
            page.get_by_role("button", name="Dismiss selected").click()
        daemon.wait_for(lambda: daemon.get(f"alerts/{ids[2]}").json()["state"] == "dismissed")
        wait_text(page, "main", "No alerts here")
        # filters: dismissed ones, then by verdict
        with rerendered(page, "alerts"):
            page.select_option("#f-state", "dismissed")
        page.wait_for_selector(f"a[href='#/alerts/{ids[2]}']")
        assert page.locator("li.alert-row").count() == 2
        with rerendered(page, "alerts"):
            page.select_option("#f-kind", "unclear")
        assert page.locator("li.alert-row").count() == 0
        page.wait_for_selector("text=No alerts here")
    finally:
        close(context)


def test_a_late_answer_never_replaces_the_page_shown(chromium, daemon) -> None:
    """An answer that arrives after the user moved on (the CI flake: #/alerts showing the
    alert page again) neither re-renders nor replaces the page now shown. The browser holds
    the requests back (the action's is answered by the test, never sent, so the demo's
    alerts stay as they are)."""
    alert_id = min(a["id"] for a in daemon.get("alerts?state=all").json()["alerts"])
    own = re.compile(rf".*/api/v1/alerts/{alert_id}$")
    started = "Number(document.body.dataset.renderStarted)"
    context, page = open_dashboard(chromium, daemon, "en")
    try:
        # an action answered late: its re-render is for a page no longer shown
        go(page, daemon, f"alerts/{alert_id}")
        with holding(page, own) as held:
            page.get_by_role("button", name="Dismiss", exact=True).click()
            action = held.next("POST")
            go(page, daemon, "alerts")
            renders = page.evaluate(started)
            action.fulfill(status=200, json={"id": alert_id, "state": "dismissed"})
        wait_text(page, "#toast", "1 alert")  # shown just before the re-render is asked for
        assert page.evaluate(started) == renders
        assert page.locator("h1").first.inner_text() == "Alerts"
        # a render of the alert page still waiting for the daemon when the list is opened
        go(page, daemon, f"alerts/{alert_id}")
        with holding(page, own) as held:
            page.evaluate("() => window.dispatchEvent(new HashChangeEvent('hashchange'))")
            late = held.next("GET")
            go(page, daemon, "alerts")
            shown = page.evaluate("Number(document.body.dataset.renderShown)")
            with page.expect_request(re.compile(rf".*/alerts/{alert_id}/compare\.png$")):
                late.continue_()  # the late page is built: it asks for its picture
        assert page.evaluate("[document.body.dataset.route, "
                             "Number(document.body.dataset.renderShown)]") == ["alerts", shown]
        assert page.locator("h1").first.inner_text() == "Alerts"
        assert page.errors == []
    finally:
        close(context)


class Held:
    """Requests the browser holds back (playwright Routes), in the order they were made."""

    def __init__(self, page) -> None:
        self.page = page
        self.routes: list = []

    def hold(self, route) -> None:
        """The route handler: keep the request unanswered until the test answers it."""
        self.routes.append(route)

    def next(self, method: str, timeout: float = 30):
        """The next held request; it must use `method`."""
        deadline = time.monotonic() + timeout
        while not self.routes:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {method} request was made within {timeout}s")
            self.page.wait_for_timeout(50)
        route = self.routes.pop(0)
        assert route.request.method == method, route.request
        return route


@contextmanager
def holding(page, url: re.Pattern) -> Iterator[Held]:
    """Hold back the page's requests to `url` inside the block (answer them with the Routes
    from `.next()`)."""
    held = Held(page)
    page.route(url, held.hold)
    try:
        yield held
    finally:
        page.unroute(url)


def test_evidence_pack_downloads_a_valid_zip_and_asks_about_gps(chromium, daemon,
                                                                 tmp_path) -> None:
    alert_id = daemon.get("alerts?state=all").json()["alerts"][0]["id"]
    context, page = open_dashboard(chromium, daemon, "en")
    try:
        go(page, daemon, f"alerts/{alert_id}")
        with page.expect_download(timeout=120000) as info:
            page.get_by_role("button", name="Evidence pack").click()
        path = tmp_path / "pack.zip"
        info.value.save_as(path)
        assert info.value.suggested_filename == f"picguard-evidence-{alert_id}.zip"
        with zipfile.ZipFile(path) as zf:
            assert zf.testzip() is None
            names = zf.namelist()
            assert "report.html" in names and "comparison.jpg" in names
            assert "PicGuard" in zf.read("report.html").decode("utf-8")
        # originals with GPS: the daemon answers 409 gps_consent; the page must ask first.
        # (The demo's photos carry no GPS, so the first answer is played by the browser.)
        asked: list[str] = []

        def gps_first(route) -> None:
            if "include_gps=1" in route.request.url:
                asked.append("with_gps")
                route.continue_()
            else:
                route.fulfill(status=409, content_type="application/json", body=json.dumps(
                    {"error": "1 original carries GPS: IMG_1.jpg", "code": "gps_consent"}))

        page.route(re.compile(r".*/evidence\?.*"), gps_first)
        page.get_by_role("button", name="Evidence pack").click()
        dialog = page.get_by_role("dialog")
        dialog.wait_for()
        assert "GPS" in dialog.inner_text() and "IMG_1.jpg" in dialog.inner_text()
        with page.expect_download(timeout=120000) as second:
            dialog.get_by_role("button", name="Include GPS and download").click()
        assert second.value.suggested_filename.endswith(".zip") and asked == ["with_gps"]
        # declining makes no pack
        page.get_by_role("button", name="Evidence pack").click()
        page.get_by_role("dialog").get_by_role("button", name="Do not include").click()
        wait_text(page, "#toast", "No evidence pack")
    finally:
        close(context)


# ---- catalog: upload (many, with progress), folder, set shoot, remove ----------------------

def test_catalog_upload_folder_shoot_and_remove(chromium, daemon, photos_dir, tmp_path) -> None:
    hats = sorted((photos_dir / "clothing/hat").glob("*.jpg"))[:2]
    context, page = open_dashboard(chromium, daemon, "en")
    try:
        go(page, daemon, "catalog")
        page.fill("#upload-shoot", "summer-hats")
        # the toast comes first, then the re-render that would wipe the folder fields below
        with rerendered(page, "catalog"):
            page.set_input_files(".drop input[type=file]", [str(p) for p in hats])
            wait_text(page, "#toast", r"2 photo\(s\) added")
        listed = picguard("catalog", "list", "--json", data_dir=daemon.data_dir).stdout
        names = [json.loads(line)["file_name"] for line in listed.splitlines()]
        for hat in hats:
            assert any(n.endswith(hat.name) for n in names), names
        # a folder on this computer, registered where it is
        folder = tmp_path / "shoot"
        folder.mkdir()
        for p in sorted((photos_dir / "clothing/shoes").glob("*.jpg"))[:3]:
            shutil.copy(p, folder / p.name)
        page.fill("#folder-path", str(folder))
        page.fill("#folder-shoot", "shoes-2026")
        with rerendered(page, "catalog", timeout=90):
            page.get_by_role("button", name="Add folder").click()
            wait_text(page, "#toast", r"3 photo\(s\) added", timeout=90)
        shoes = daemon.get("catalog?shoot=shoes-2026").json()["photos"]
        assert len(shoes) == 3 and all(p["path"].startswith(str(folder)) for p in shoes)
        # set the shoot of one, then remove it (the file stays)
        # (every photo is listed before the filter applies: a box ticked there is lost)
        go(page, daemon, "catalog")
        with rerendered(page, "catalog"):
            page.select_option("#filter-shoot", "shoes-2026")
        first = shoes[0]["file_name"]
        page.get_by_label(f"Select {first}").check()
        page.fill("#set-shoot", "shoes-best")
        with rerendered(page, "catalog"):
            page.get_by_role("button", name="Set shoot").click()
        daemon.wait_for(lambda: daemon.get("catalog?shoot=shoes-best").json()["total"] == 1)
        with rerendered(page, "catalog"):
            page.select_option("#filter-shoot", "shoes-best")
        page.get_by_label(f"Select {first}").check()
        page.get_by_role("button", name="Remove from catalog").click()
        with rerendered(page, "catalog"):
            page.get_by_role("dialog").get_by_role("button", name="Remove from catalog").click()
        daemon.wait_for(lambda: daemon.get("catalog?shoot=shoes-best").json()["total"] == 0)
        wait_text(page, "main", "No photos")
        assert (folder / first).exists()
        page.screenshot(path=str(ARTIFACTS / "dashboard-en-catalog-after-actions.png"),
                        full_page=True)
    finally:
        close(context)


# ---- check before publishing ---------------------------------------------------------------

def test_check_finds_the_copy_and_clears_an_unrelated_photo(chromium, daemon,
                                                           photos_dir) -> None:
    unrelated = sorted((photos_dir / "clothing/skirt").glob("*.jpg"))[0]
    context, page = open_dashboard(chromium, daemon, "zh")
    try:
        go(page, daemon, "check")
        page.set_input_files(".drop input[type=file]",
                             [str(DEMO_PHOTOS / "dress-red.jpg"), str(unrelated)])
        page.get_by_role("button", name="检查", exact=True).click()
        page.wait_for_selector("article.check-result.risk")
        page.wait_for_selector("article.check-result.clear", timeout=60000)
        risk = page.locator("article.check-result.risk").inner_text()
        assert "dress-red.jpg" in risk and "Copycat Store" in risk
        until(page, "() => document.querySelector('article.risk img.compare')"
                    "?.naturalWidth > 0", timeout=60)
        assert unrelated.name in page.locator("article.check-result.clear").inner_text()
        page.screenshot(path=str(ARTIFACTS / "dashboard-zh-check-result.png"), full_page=True)
    finally:
        close(context)


# ---- monitoring, settings, proof ------------------------------------------------------------

def test_monitoring_watch_add_run_remove(chromium, daemon) -> None:
    url = "https://www.aliexpress.com/item/1005000000000777.html"
    context, page = open_dashboard(chromium, daemon, "en")
    try:
        go(page, daemon, "monitoring")
        page.fill("#watch-url", url)
        with rerendered(page, "monitoring"):
            page.get_by_role("button", name="Add watch").click()
        watch = daemon.wait_for(lambda: next(
            (w for w in daemon.get("watch").json()["watches"] if w["url"] == url), None))
        page.wait_for_selector(f"text={url}")
        page.get_by_role("button", name=f"Run now: {url}").click()
        wait_text(page, "#toast", "visited now")
        # a job run re-renders the page 1.5 s later, to show the job's new last run
        with rerendered(page, "monitoring"):
            page.get_by_role("button", name="Run now: Fetch images").click()
            wait_text(page, "#toast", "Fetch images: started")
        with rerendered(page, "monitoring"):
            page.get_by_role("button", name=f"Remove: {url}").click()
        daemon.wait_for(lambda: all(w["id"] != watch["id"]
                                    for w in daemon.get("watch").json()["watches"]))
        assert url not in page.locator("main").inner_text()
    finally:
        close(context)


def test_settings_stores_test_notification_and_token(chromium, daemon) -> None:
    receiver = Receiver()
    context, page = open_dashboard(chromium, daemon, "en")
    try:
        go(page, daemon, "settings")
        page.select_option("#store-market", "ebay")
        page.fill("#store-id", "my_shop")
        page.get_by_role("button", name="Add store").click()
        daemon.wait_for(lambda: "ebay:my_shop" in daemon.get("settings").json()["own_stores"])
        page.wait_for_selector("code:has-text('ebay:my_shop')")
        page.fill("#notify-url", receiver.url)
        page.get_by_role("button", name="Add channel").click()
        daemon.wait_for(lambda: daemon.get("settings").json()["notify_urls"] == [receiver.url])
        page.wait_for_selector("code:has-text('json://')")
        page.get_by_role("button", name="Send test").click()
        wait_text(page, "#notify-result", "delivered to 1 channel")
        assert receiver.bodies and "PicGuard" in receiver.bodies[-1]["title"]
        # a channel that fails says why
        page.get_by_role("button", name=f"Remove: {receiver.url}").click()
        page.wait_for_selector("text=No channels yet.")
        page.fill("#notify-url", "json://127.0.0.1:9/closed")
        page.get_by_role("button", name="Add channel").click()
        page.wait_for_selector("code:has-text('127.0.0.1:9')")
        page.get_by_role("button", name="Send test").click()
        wait_text(page, "#notify-result", "The test failed")
        # rotate the token: the old one stops working, the page goes on with the new one
        old = daemon.token
        page.get_by_role("button", name="Rotate token").click()
        page.get_by_role("dialog").get_by_role("button", name="Rotate token").click()
        daemon.wait_for(lambda: daemon.token != old)
        import requests

        assert requests.get(f"{daemon.url}/api/v1/settings", timeout=10,
                            headers={"Authorization": f"Bearer {old}"}).status_code == 401
        wait_text(page, "main", "New token")
        go(page, daemon, "proof")
        assert page.locator("h1").inner_text() == "Proof"
    finally:
        close(context)
        receiver.stop()
        daemon.post("settings", {"notify_urls": []})


def test_proof_verifies_the_ledger(chromium, daemon) -> None:
    context, page = open_dashboard(chromium, daemon, "zh")
    try:
        go(page, daemon, "proof")
        head = daemon.get("ledger").json()
        assert head["head"]["entry_hash"] in page.locator("main").inner_text()
        page.get_by_role("button", name="核验证据链").click()
        text = wait_text(page, "#verify-result", "核验通过")
        assert str(head["entries"]) in text
        assert daemon.post("ledger/verify", {}).json()["ok"] is True
    finally:
        close(context)


def test_without_a_token_the_page_asks_for_one(chromium, daemon) -> None:
    context = chromium.new_context(locale="en-US")
    page = context.new_page()
    try:
        page.goto(f"{daemon.url}/#/alerts")
        page.wait_for_selector("body[data-ready=true] h1:has-text('Connect to PicGuard')")
        page.fill("#pair-token", daemon.token)
        page.get_by_role("button", name="Connect").click()
        page.wait_for_selector("body[data-ready=true] h1:has-text('Alerts')")
        assert "token" not in page.url
        assert page.evaluate("localStorage.getItem('picguard-token')") == daemon.token
    finally:
        close(context)


def test_a_deep_link_with_the_token_opens_that_alert(chromium, daemon) -> None:
    alert_id = daemon.get("alerts?state=all").json()["alerts"][-1]["id"]
    context = chromium.new_context(locale="en-US")
    page = context.new_page()
    try:
        page.goto(f"{daemon.url}/#/alerts/{alert_id}&token={daemon.token}")
        page.wait_for_selector(f"body[data-ready=true] h1:has-text('Alert #{alert_id}')")
        assert page.url.endswith(f"#/alerts/{alert_id}")
    finally:
        close(context)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_withdrawn_alert_says_why_and_offers_no_evidence_pack(chromium, daemon, lang) -> None:
    """An alert the updated matcher took back (monitor.alerts.review_alerts) reads as
    withdrawn, with the reason, in both languages, accessibly; no pack button."""
    from daemon.config import load_settings
    from daemon.store import Store

    alerts = daemon.get("alerts?state=all&thumbs=0").json()["alerts"]
    alert_id = max(a["id"] for a in alerts)
    store = Store(load_settings(daemon.data_dir).db_path)  # the daemon's database (WAL)
    try:
        store.withdraw_alert(alert_id, "no_match")  # False when the other language did it
    finally:
        store.close()
    context, page = open_dashboard(chromium, daemon, lang)
    try:
        go(page, daemon, f"alerts/{alert_id}")
        notice = page.locator("section.withdrawn")
        title = {"en": "PicGuard withdrew this alert", "zh": "PicGuard 已撤回这条提醒"}[lang]
        assert notice.locator("h2").inner_text() == title
        assert {"en": "not the same photo", "zh": "不是同一张照片"}[lang] in notice.inner_text()
        pack = {"en": "Evidence pack", "zh": "证据包"}[lang]
        assert page.get_by_role("button", name=re.compile(pack)).count() == 0
        confirm = {"en": "Confirm", "zh": "确认"}[lang]  # what PicGuard took back is not confirmed
        assert page.get_by_role("button", name=confirm, exact=True).count() == 0
        page.wait_for_load_state("networkidle")
        assert not axe_violations(page)
        assert page.errors == []
    finally:
        close(context)
