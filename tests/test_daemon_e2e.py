"""The real daemon as a process: push pages, the scheduler fetches and matches, alerts reach
the API, the CLI and an Apprise channel; a SIGKILL loses nothing; hostile requests are refused."""

from __future__ import annotations

import json
import signal
import time

import pytest
import requests
from PIL import Image, ImageOps

from daemon.demo.shop import DemoItem, DemoShop, item_page, jpeg
from tests.daemon_support import Daemon, Receiver, picguard

FAST = {"fetch_interval_s": "1", "match_interval_s": "1", "notify_interval_s": "1"}


@pytest.fixture()
def shop():
    s = DemoShop().start()
    yield s
    s.stop()


def _configure(data_dir, **settings: str) -> None:
    for key, value in {**FAST, **settings}.items():
        picguard("config", "set", key, value, data_dir=data_dir)


def _page(shop: DemoShop, product_id: str, store_id: str, images: list[str]) -> dict:
    item = DemoItem(product_id, store_id, f"Store {store_id}", f"Product {product_id}", images)
    return {"url": f"https://www.aliexpress.com/item/{product_id}.html",
            "html": item_page(item, shop.base_url)}


def test_pushed_copies_become_alerts_everywhere(tmp_path, photos_dir, shop) -> None:
    data = tmp_path / "data"
    # camera exports with a capture-time series (EXIF): only then is a later copy provably
    # `copied` (daemon.monitor.verdict_rules); a bare registration would be `unclear`
    camera = tmp_path / "camera"
    camera.mkdir()
    dresses = []
    for minute, src in enumerate(sorted((photos_dir / "clothing/dress").glob("*.jpg"))[:3]):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"2026:03:01 10:{minute:02d}:00"
        dresses.append(camera / f"IMG_{minute:04d}.jpg")
        Image.open(src).save(dresses[-1], "JPEG", quality=92, exif=exif)
    picguard("catalog", "add", *map(str, dresses), "--shoot", "spring", data_dir=data)
    receiver = Receiver()
    _configure(data)
    picguard("config", "add-notify", receiver.url, data_dir=data)
    # The other store shows two edited copies of registered photos and two unrelated photos.
    a, b = Image.open(dresses[0]), Image.open(dresses[1])
    shop.images["Scopy1.jpg"] = jpeg(a.crop((20, 20, a.width - 20, a.height - 20)), 60)
    shop.images["Scopy2.jpg"] = jpeg(ImageOps.mirror(b).resize((b.width // 2, b.height // 2)))
    unrelated = sorted((photos_dir / "clothing/shoes").glob("*.jpg"))[:2]
    shop.images["Sother1.jpg"] = unrelated[0].read_bytes()
    shop.images["Sother2.jpg"] = unrelated[1].read_bytes()
    daemon = Daemon(data, env={"PICGUARD_ALLOW_PRIVATE_HOSTS": "1"}).start()
    stopped = False
    try:
        answer = daemon.post("pages", _page(shop, "1005000000000077", "555",
                                            ["Scopy1.jpg", "Scopy2.jpg", "Sother1.jpg",
                                             "Sother2.jpg"]))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["status"] == "parsed" and body["store_id"] == "555"
        assert body["images"]["new"] == 4
        daemon.wait_for(lambda: daemon.get("status").json()["images"]["fetched"] == 4)
        alerts = daemon.wait_for(lambda: len(daemon.get("alerts").json()["alerts"]) >= 2
                                 and daemon.get("alerts").json()["alerts"])
        _wait_for_two_runs(daemon, ("match", "reverse"))  # a wrong extra alert would be in
        alerts = daemon.get("alerts").json()["alerts"]
        pairs = {(x["own"]["file_name"], x["other"]["url"].rsplit("/", 1)[1]) for x in alerts}
        assert pairs == {(dresses[0].name, "Scopy1.jpg"), (dresses[1].name, "Scopy2.jpg")}
        assert {x["kind"] for x in alerts} == {"copied"}
        assert all(x["other"]["store_id"] == "555" and x["own"]["thumb"] for x in alerts)
        cli = picguard("alerts", "--json", data_dir=data).stdout.splitlines()
        assert {json.loads(line)["id"] for line in cli} == {x["id"] for x in alerts}
        daemon.wait_for(lambda: len(receiver.bodies) >= 2)
        assert all("PicGuard" in b["title"] for b in receiver.bodies)
        assert len(receiver.bodies) == 2  # once per alert
        # The extension asks which images on the page are the seller's.
        verdicts = daemon.post("images/verdicts", {
            "page_url": "https://www.aliexpress.com/item/1005000000000077.html",
            "urls": [f"{shop.base_url}/kf/Scopy1.jpg", f"{shop.base_url}/kf/Sother1.jpg",
                     "https://ae01.alicdn.com/kf/Snever-seen.jpg"]}).json()["verdicts"]
        assert [v["verdict"] for v in verdicts] == ["copy_of_yours", "clear", "unknown"]
        # "Not my photo" removes it from the new alerts for good.
        target = alerts[0]["id"]
        assert daemon.post(f"alerts/{target}", {"action": "not_mine"}).json()["state"] == \
            "dismissed"
        assert target not in {x["id"] for x in daemon.get("alerts").json()["alerts"]}
        assert daemon.stop() == 0, daemon.log()
        stopped = True
    finally:
        if not stopped:
            daemon.stop(signal.SIGKILL)
        receiver.stop()
    assert "PicGuard stopped" in daemon.log()


def _wait_for_two_runs(daemon: Daemon, jobs: tuple[str, ...]) -> None:
    """Poll until each job has run start to finish after this call: three distinct finish
    times (the record seen first may predate the call, the next run may have started before
    it), so whatever the work already there would raise has been raised."""
    seen: dict[str, set[str]] = {job: set() for job in jobs}

    def done() -> bool:
        records = daemon.get("status").json()["scheduler"]["jobs"]
        for job in jobs:
            at = (records.get(job) or {}).get("at")
            if at:
                seen[job].add(at)
        return all(len(runs) >= 3 for runs in seen.values())

    daemon.wait_for(done)


class SlowShop(DemoShop):
    """A CDN that takes its time, so images are still queued when the daemon is killed."""

    def lookup(self, path: str):
        time.sleep(0.4)
        return super().lookup(path)


def test_sigkill_loses_nothing_and_the_queue_finishes(tmp_path, photos_dir) -> None:
    data = tmp_path / "data"
    _configure(data, fetch_workers="1")
    shop = SlowShop().start()
    photos = sorted((photos_dir / "clothing/pants").glob("*.jpg"))[:16]
    names = []
    for i, path in enumerate(photos):
        shop.images[f"Sq{i}.jpg"] = path.read_bytes()
        names.append(f"Sq{i}.jpg")
    env = {"PICGUARD_ALLOW_PRIVATE_HOSTS": "1"}
    daemon = Daemon(data, env=env).start()
    restarted = Daemon(data, port=daemon.port, env=env)
    try:
        assert daemon.post("pages", _page(shop, "1005000000000088", "556", names)).ok
        daemon.wait_for(lambda: daemon.get("status").json()["images"]["fetched"] >= 2)
        daemon.stop(signal.SIGKILL)
        restarted.start()
        status = restarted.wait_for(
            lambda: (s := restarted.get("status").json())["images"]["fetched"] == 16 and s,
            timeout=90)
        assert status["images"] == {"queued": 0, "fetched": 16, "failed": 0}
        assert status["listings"] == 1
        assert restarted.stop() == 0
    finally:
        daemon.stop(signal.SIGKILL)
        restarted.stop(signal.SIGKILL)
        shop.stop()
    # Each image was fetched at most twice (once more only if it was in flight at the kill).
    fetched = [p for p in shop.requests if p.startswith("/kf/")]
    assert set(fetched) == {f"/kf/{n}" for n in names}
    assert len(fetched) <= 16 + 1


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """One daemon with the private-host switch OFF (the default), for the security matrix."""
    data = tmp_path_factory.mktemp("guarded")
    picguard("config", "set", "max_body_bytes", "200000", data_dir=data)
    daemon = Daemon(data, env={"PICGUARD_ALLOW_PRIVATE_HOSTS": "0"}).start()
    yield daemon
    daemon.stop()


PAGE = {"url": "https://www.aliexpress.com/item/1005000000000001.html",
        "html": "<html><head><meta property='og:image' "
                "content='https://ae01.alicdn.com/kf/Sabc.jpg'></head></html>"}


@pytest.mark.parametrize(("name", "kwargs", "status"), [
    ("no token", {"headers": {}}, 401),
    ("wrong token", {"headers": {"Authorization": "Bearer not-the-token"}}, 401),
    ("basic auth", {"headers": {"Authorization": "Basic dXNlcjpwYXNz"}}, 401),
    ("web page origin", {"origin": "https://evil.example"}, 403),
    ("localhost web app origin", {"origin": "http://localhost:3000"}, 403),
    ("foreign host (DNS rebinding)", {"host": "evil.example"}, 403),
    ("text/plain post", {"content_type": "text/plain"}, 415),
    ("form post", {"content_type": "application/x-www-form-urlencoded"}, 415),
    ("oversized body", {"size": 300_000}, 413),
])
def test_security_matrix(guarded: Daemon, name, kwargs, status) -> None:
    headers = dict(kwargs.get("headers", guarded.headers()))
    headers["Content-Type"] = kwargs.get("content_type", "application/json")
    if "origin" in kwargs:
        headers["Origin"] = kwargs["origin"]
    if "host" in kwargs:
        headers["Host"] = f"{kwargs['host']}:{guarded.port}"
    payload = dict(PAGE)
    if "size" in kwargs:
        payload["html"] += "x" * kwargs["size"]
    before = guarded.get("status").json()["listings"]
    r = requests.post(f"{guarded.url}/api/v1/pages", data=json.dumps(payload),
                      headers=headers, timeout=10)
    assert r.status_code == status, (name, r.text)
    assert r.json()["error"]  # a plain-words reason, not an HTML error page
    assert "access-control-allow-origin" not in {k.lower() for k in r.headers}
    assert guarded.get("status").json()["listings"] == before  # nothing stored


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "[::1]",
                                     "localhost", "192.168.1.10"])
def test_private_image_urls_are_refused_unfetched(guarded: Daemon, address, shop) -> None:
    html = f"<html><head><meta property='og:image' content='http://{address}/kf/Sx.jpg'>" \
           f"<meta property='og:image' content='{shop.base_url}/kf/Sy.jpg'></head></html>"
    r = guarded.post("pages", {"url": "https://shop.example/product/1", "html": html})
    assert r.status_code == 422 and r.json()["code"] == "refused_address", r.text
    r = guarded.post("check", {"url": f"http://{address}/kf/Sx.jpg"})
    assert r.status_code == 422 and "address" in r.json()["error"], r.text
    r = guarded.post("watch", {"url": f"http://{address}/item/1.html"})
    assert r.status_code == 422
    assert guarded.get("status").json()["images"] == {"queued": 0, "fetched": 0, "failed": 0}
    assert shop.requests == []  # nothing fetched


def test_extension_origin_gets_cors_and_ping_reveals_nothing(guarded: Daemon) -> None:
    origin = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
    r = guarded.get("status", headers={**guarded.headers(), "Origin": origin})
    assert r.ok and r.headers["Access-Control-Allow-Origin"] == origin
    pre = requests.options(f"{guarded.url}/api/v1/pages", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"}, timeout=10)
    assert pre.ok and pre.headers["Access-Control-Allow-Origin"] == origin
    ping = requests.get(f"{guarded.url}/api/v1/ping", timeout=10)
    assert ping.json() == {"app": "picguard", "api": 1}
