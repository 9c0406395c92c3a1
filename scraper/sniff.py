"""Content-type checks for fetched bodies: what the server says, and what the bytes are.

Each check is called twice: with body=None on the headers alone (to refuse a
wrong type before downloading), then with the body (to confirm, or to identify
unlabelled bytes). It returns the effective content type or raises.
"""

from __future__ import annotations

from .fetcherrors import BadContentTypeError

_UNLABELLED = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "application/binary"}
)
_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"})


def _mime(declared: str | None) -> str:
    return (declared or "").split(";", 1)[0].strip().lower()


def sniff_image(body: bytes) -> str | None:
    """The image type the first bytes announce, or None."""
    if body.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if body.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if body[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "image/webp"
    if body[4:8] == b"ftyp":
        brand = body[8:12]
        if brand in (b"avif", b"avis"):
            return "image/avif"
        if brand in _HEIF_BRANDS:
            return "image/heic"
    if body[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if body[:2] == b"BM" and len(body) > 26:
        return "image/bmp"
    return None


def _looks_like_markup(body: bytes) -> bool:
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] == b"<" or head[:1] == b"{"


def check_image_type(declared: str | None, body: bytes | None) -> str | None:
    """Accept image/* except SVG, or unlabelled bytes that are an image."""
    mime = _mime(declared)
    if mime.startswith("image/svg") or mime.endswith("+xml"):
        raise BadContentTypeError(
            f"the server sent {mime}; SVG is not fetched (it is not a photo and can carry scripts)"
        )
    if mime.startswith("image/"):
        if body is not None and _looks_like_markup(body) and sniff_image(body) is None:
            raise BadContentTypeError(
                f"the server labelled the answer {mime} but sent a web page or text; "
                "the image may be gone or behind an anti-bot check"
            )
        return mime
    if mime in _UNLABELLED:
        if body is None:
            return None
        sniffed = sniff_image(body)
        if sniffed:
            return sniffed
        raise BadContentTypeError(
            f"the server sent {mime or 'no content type'} and the bytes are not "
            "an image PicGuard knows"
        )
    raise BadContentTypeError(f"expected an image but the server sent {mime}")


def check_page_type(declared: str | None, body: bytes | None) -> str | None:
    """Accept text/html or XHTML (or unlabelled markup)."""
    mime = _mime(declared)
    if mime in _PAGE_TYPES:
        return mime
    if mime in _UNLABELLED:
        if body is None:
            return None
        if _looks_like_markup(body):
            return "text/html"
    raise BadContentTypeError(
        f"expected a web page (text/html) but the server sent {mime or 'no content type'}"
    )
