"""The API in process (Flask test client): validation, plain-words errors, shapes."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from daemon.config import load_settings
from daemon.web.app import create_app

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"


@pytest.fixture()
def app(tmp_path):
    settings = load_settings(tmp_path)
    app = create_app(settings)
    yield app
    app.extensions["picguard"]["pipeline"].store.close()


@pytest.fixture()
def client(app):
    token = (app.extensions["picguard"]["settings"].token_path).read_text().strip()

    class Client:
        def __init__(self, inner):
            self.inner = inner
            self.headers = {"Authorization": f"Bearer {token}"}

        def get(self, path, **kw):
            return self.inner.get(f"/api/v1/{path}", base_url=BASE, headers=self.headers, **kw)

        def post(self, path, payload=None, **kw):
            kw.setdefault("headers", self.headers)
            return self.inner.post(f"/api/v1/{path}", base_url=BASE, json=payload, **kw)

    return Client(app.test_client())


def _png_b64(color="red") -> str:
    buf = io.BytesIO()
    Image.new("RGB", (120, 90), color).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_status_shape(client) -> None:
    body = client.get("status").get_json()
    assert body["catalog"] == {"photos": 0} and body["listings"] == 0
    assert set(body["images"]) == {"queued", "fetched", "failed"}
    assert body["scheduler"]["running"] is False


@pytest.mark.parametrize(("payload", "status", "words"), [
    ([1, 2], 400, "JSON object"),
    ({"url": "https://www.aliexpress.com/item/1.html"}, 400, "'html'"),
    ({"url": 5, "html": "<html></html>"}, 400, "'url'"),
    ({"url": "ftp://x/1", "html": "<html></html>"}, 400, "http(s)"),
    ({"url": "https://www.aliexpress.com/item/1.html", "html": "   "}, 400, "empty"),
])
def test_bad_pages_are_400_with_reason(client, payload, status, words) -> None:
    r = client.post("pages", payload)
    assert r.status_code == status
    assert words in r.get_json()["error"]


def test_unsupported_and_blocked_pages(client, fixtures_dir) -> None:
    r = client.post("pages", {"url": "https://shop.example/about",
                              "html": "<html><body><p>About us</p></body></html>"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "unsupported" and body["listing_id"] is None and body["reason"]
    captcha = (fixtures_dir / "punish_captcha_item-url_2025_1005008204179129.html").read_text()
    r = client.post("pages", {"url": "https://de.aliexpress.com/item/1005008204179129.html",
                              "html": captcha})
    body = r.get_json()
    assert body["status"] == "blocked" and body["images"]["total"] == 0 and body["reason"]


def test_real_page_push_counts_images(client, fixtures_dir) -> None:
    html = (fixtures_dir / "item_2023-12_runParams-components-is23_he_32995535623.html"
            ).read_text()
    url = "https://he.aliexpress.com/item/32995535623.html"
    first = client.post("pages", {"url": url, "html": html}).get_json()
    assert first["status"] == "parsed" and first["product_id"] == "32995535623"
    assert first["images"]["new"] == first["images"]["total"] > 0
    again = client.post("pages", {"url": url, "html": html}).get_json()
    assert again["listing_id"] == first["listing_id"] and again["images"]["new"] == 0


def test_an_image_given_up_for_good_is_unavailable_not_unknown(app, client,
                                                                fixtures_dir) -> None:
    """The extension asks again while a verdict is `unknown`; for an image PicGuard gave up
    fetching (404) no verdict will ever come, so it must say so."""
    html = (fixtures_dir / "item_2023-12_runParams-components-is23_he_32995535623.html"
            ).read_text()
    url = "https://he.aliexpress.com/item/32995535623.html"
    assert client.post("pages", {"url": url, "html": html}).get_json()["status"] == "parsed"
    store = app.extensions["picguard"]["pipeline"].store
    first, second = store.claim_due_images(2)
    store.image_failed(first["id"], "http_status", "HTTP 404", None)  # given up for good
    store.image_failed(second["id"], "timeout", "timed out", "2099-01-01T00:00:00Z")  # retried
    answer = client.post("images/verdicts", {"page_url": url,
                                             "urls": [first["url"], second["url"]]})
    assert [v["verdict"] for v in answer.get_json()["verdicts"]] == ["unavailable", "unknown"]


def test_alert_routes_validate(client) -> None:
    assert client.get("alerts?state=bogus").status_code == 400
    assert client.get("alerts?since=x").status_code == 400
    assert client.get("alerts").get_json() == {
        "alerts": [], "counts": {"new": 0, "confirmed": 0, "dismissed": 0, "withdrawn": 0}}
    assert client.post("alerts/99", {"action": "confirm"}).status_code == 404
    assert client.post("alerts/99", {"action": "explode"}).status_code == 400


def test_watch_round_trip(client) -> None:
    url = "https://www.aliexpress.com/store/1102011"
    watch_id = client.post("watch", {"url": url}).get_json()["watch_id"]
    assert [w["url"] for w in client.get("watch").get_json()["watches"]] == [url]
    r = client.inner.delete(f"/api/v1/watch/{watch_id}", base_url=BASE, headers=client.headers)
    assert r.status_code == 200
    assert client.post("watch", {"url": "not a url"}).status_code == 400


def test_verdicts_limits(client) -> None:
    r = client.post("images/verdicts", {"page_url": "https://x/", "urls": ["u"] * 501})
    assert r.status_code == 413
    r = client.post("images/verdicts", {"page_url": "https://www.aliexpress.com/item/1.html",
                                        "urls": ["https://ae01.alicdn.com/kf/Sx.jpg", 5]})
    assert [v["verdict"] for v in r.get_json()["verdicts"]] == ["unknown", "unknown"]


def test_check_upload(client) -> None:
    body = client.post("check", {"image": _png_b64()}).get_json()
    assert body["resembles"] is False and body["hits"] == [] and body["status"] == "done"
    assert client.post("check", {"image": "***"}).status_code == 400
    bad = base64.b64encode(b"not an image at all").decode()
    r = client.post("check", {"image": bad})
    assert r.status_code == 422 and r.get_json()["error"]
    assert client.post("check", {}).status_code == 400


def test_unknown_route_and_method_are_json(client) -> None:
    r = client.get("nope")
    assert r.status_code == 404 and "docs/API.md" in r.get_json()["error"]
    r = client.inner.put("/api/v1/pages", base_url=BASE, headers=client.headers, json={})
    assert r.status_code == 405 and r.get_json()["error"]


def test_dashboard_is_public_but_holds_no_data(app) -> None:
    r = app.test_client().get("/", base_url=BASE)
    assert r.status_code == 200 and b"PicGuard" in r.data
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
