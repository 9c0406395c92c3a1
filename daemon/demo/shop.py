"""A local stand-in for a marketplace: item pages in AliExpress's component format plus a CDN.

Used by `picguard demo` (no marketplace account, no network) and by end-to-end tests.
It serves only what it was given, on 127.0.0.1.
"""

from __future__ import annotations

import html
import io
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image, ImageDraw, ImageOps


@dataclass
class DemoItem:
    """One listing: a product of a store with its gallery image names on the demo CDN."""

    product_id: str
    store_id: str
    store_name: str
    title: str
    images: list[str] = field(default_factory=list)


def item_page(item: DemoItem, base_url: str) -> str:
    """An item page shaped like AliExpress's 2023 "component" generation (runParams, is23)."""
    urls = [f"{base_url}/kf/{name}" for name in item.images]
    data = {
        "imageComponent": {"imagePathList": urls,
                           "summImagePathList": [u + "_80x80.jpg" for u in urls]},
        "productInfoComponent": {"idStr": item.product_id, "id": int(item.product_id),
                                 "subject": item.title},
        "sellerComponent": {"storeNum": int(item.store_id), "storeName": item.store_name,
                            "storeURL": f"//www.aliexpress.com/store/{item.store_id}"},
        "metaDataComponent": {"ogTitle": item.title},
    }
    title = html.escape(item.title)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{title} - AliExpress</title>
<meta property="og:title" content="{title}">
<meta property="og:image" content="{html.escape(urls[0]) if urls else ''}">
<style>.gallery img{{width:300px;height:300px;object-fit:cover;margin:4px}}</style>
</head><body>
<h1>{title}</h1><p>{html.escape(item.store_name)}</p>
<div class="gallery">{''.join(f'<img src="{html.escape(u)}" alt="">' for u in urls)}</div>
<script>
window.runParams = {{
  data: {json.dumps(data, ensure_ascii=False)}
}};
window.runParams.is23 = true;
</script>
</body></html>"""


class DemoShop:
    """Serves item pages at /item/<id>.html and images at /kf/<name> on 127.0.0.1."""

    def __init__(self, port: int = 0):
        self.items: dict[str, DemoItem] = {}
        self.images: dict[str, bytes] = {}
        # any other path -> (body, content type): description pages, captcha pages...
        self.pages: dict[str, tuple[bytes, str]] = {}
        # extra response headers per path, e.g. {"/kf/x.jpg": {"Last-Modified": "..."}}
        self.headers: dict[str, dict[str, str]] = {}
        self.requests: list[str] = []
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                shop.requests.append(self.path)
                body, kind = shop.lookup(self.path.split("?")[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body or b"")))
                self.send_header("ETag", f'"{hash(body) & 0xFFFFFFFF:x}"' if body else '"-"')
                for name, value in shop.headers.get(self.path.split("?")[0], {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args) -> None:  # keep test and demo output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def item_url(self, product_id: str) -> str:
        return f"{self.base_url}/item/{product_id}.html"

    def lookup(self, path: str) -> tuple[bytes | None, str]:
        if path in self.pages:
            return self.pages[path]
        if path.startswith("/kf/") and path[4:] in self.images:
            return self.images[path[4:]], "image/jpeg"
        if path.startswith("/item/") and path.endswith(".html"):
            item = self.items.get(path[6:-5])
            if item:
                return item_page(item, self.base_url).encode(), "text/html; charset=utf-8"
        return None, "text/plain"

    def start(self) -> DemoShop:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def jpeg(im: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def copycat_edits(im: Image.Image) -> list[tuple[str, Image.Image]]:
    """What copiers do to a stolen photo: crop, watermark, flip, border, recompress."""
    w, h = im.size
    cropped = im.crop((int(w * 0.08), int(h * 0.06), int(w * 0.94), int(h * 0.95)))
    marked = cropped.copy()
    draw = ImageDraw.Draw(marked)
    draw.rectangle((0, marked.height - 40, marked.width, marked.height), fill=(200, 20, 20))
    draw.text((10, marked.height - 30), "HOT SALE -50%  BEST SHOP", fill="white")
    flipped = ImageOps.mirror(im).resize((int(w * 0.8), int(h * 0.8)))
    bordered = ImageOps.expand(im, border=max(8, w // 20), fill="white")
    return [("crop-watermark", marked), ("flip-resize", flipped), ("border", bordered)]
