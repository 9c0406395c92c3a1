"""Small HTML helpers shared by the page parsers: soup building, meta tags, img sources."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, SoupStrainer, Tag
from bs4.exceptions import ParserRejectedMarkup

# Lazy-loading attributes first: the `src` of a lazy image is a placeholder
# (AliExpress stores use a 10x10.png), the real image is in data-src.
_IMG_ATTRS = (
    "data-src",
    "data-lazy-src",
    "data-original",
    "data-ks-lazyload",
    "data-lazyload",
    "src",
)
_XML_DECL_RE = re.compile(r"<\?xml[^>]*>", re.IGNORECASE)
_HEAD_END_RE = re.compile(r"</head\s*>", re.IGNORECASE)
_SPACE_RE = re.compile(r"\s+")
_AE_TITLE_TAIL_RE = re.compile(r"\s*[-|]\s*AliExpress(?:\s*\d+)?\s*$", re.IGNORECASE)
_PRICE_HEAD_RE = re.compile(r"\d.*(?:%|OFF|\$|€|£|₪|₽|¥|₩|R\$|zł|руб)", re.IGNORECASE)
_META_TAGS = ("meta", "link", "title", "base")
# Script/style/comment bodies (skipped), or one wanted head tag (group 1, without
# its "<"). Bodies are matched as runs of non-"<" text so the engine never
# backtracks, and the common "<" prefix lets it jump between candidate tags.
_HEAD_TAGS_RE = re.compile(
    r"<(?:script\b[^>]*>[^<]*(?:<(?!/script)[^<]*)*"
    r"|style\b[^>]*>[^<]*(?:<(?!/style)[^<]*)*"
    r"|!--[^-]*(?:-(?!->)[^-]*)*-->"
    r"|((?:meta|link|base)\b[^>]*>|title\b[^>]*>[^<]*</title\s*>))",
    re.IGNORECASE,
)


def make_soup(markup: str, only: tuple[str, ...] | None = None) -> BeautifulSoup | None:
    """bs4 soup with the lxml parser, or None when the text has no markup at all.

    `only` restricts the tree to those tag names (SoupStrainer), which is much
    cheaper on big pages. XML declarations are dropped so bs4 parses XHTML as
    HTML without warning.
    """
    if "<" not in markup:
        return None
    if "<?" in markup:
        markup = _XML_DECL_RE.sub("", markup)
    strainer = SoupStrainer(list(only)) if only else None
    try:
        return BeautifulSoup(markup, "lxml", parse_only=strainer)
    except (ParserRejectedMarkup, ValueError):
        return None


def head_of(text: str) -> str:
    """The text up to `</head>` (the whole text if there is none)."""
    match = _HEAD_END_RE.search(text)
    return text[: match.end()] if match else text


def clean_text(value: object) -> str | None:
    """Whitespace collapsed, None when empty or not text."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = _SPACE_RE.sub(" ", str(value)).strip()
    return text or None


@dataclass(slots=True)
class PageMeta:
    """The `<head>` facts every parser wants: meta properties, canonical, title, base."""

    props: dict[str, list[str]] = field(default_factory=dict)
    canonical: str | None = None
    title: str | None = None
    base: str | None = None

    def first(self, *names: str) -> str | None:
        for name in names:
            for value in self.props.get(name, []):
                if value.strip():
                    return value.strip()
        return None

    def all(self, *names: str) -> list[str]:
        return [v.strip() for name in names for v in self.props.get(name, []) if v.strip()]


def read_meta(soup: BeautifulSoup | None) -> PageMeta:
    """Collect meta property/name/itemprop values, rel=canonical, <title> and <base>."""
    meta = PageMeta()
    if soup is None:
        return meta
    for tag in soup.find_all(_META_TAGS):
        name = tag.name
        if name == "meta":
            key = tag.get("property") or tag.get("name") or tag.get("itemprop")
            content = tag.get("content")
            if isinstance(key, str) and isinstance(content, str):
                meta.props.setdefault(key.strip().lower(), []).append(content)
        elif name == "link":
            rel = tag.get("rel") or []
            rels = [rel] if isinstance(rel, str) else rel
            href = tag.get("href")
            if meta.canonical is None and "canonical" in [r.lower() for r in rels]:
                meta.canonical = href if isinstance(href, str) and href.strip() else None
        elif name == "title" and meta.title is None:
            meta.title = clean_text(tag.get_text())
        elif name == "base" and meta.base is None:
            href = tag.get("href")
            meta.base = href.strip() if isinstance(href, str) and href.strip() else None
    return meta


def head_meta(text: str) -> PageMeta:
    """read_meta over the head's meta/link/title/base tags only.

    AliExpress heads carry up to 200 kB of inline script. A regex skips script,
    style and comment bodies (tags inside them are not tags) and collects the
    few wanted tags; bs4 then parses just those, attributes and entities included.
    """
    tags = ["<" + m.group(1) for m in _HEAD_TAGS_RE.finditer(head_of(text)) if m.group(1)]
    return read_meta(make_soup("\n".join(tags))) if tags else PageMeta()


def img_sources(tag: Tag) -> list[str]:
    """The image URLs an <img>/<source> names, lazy attributes first."""
    found: list[str] = []
    for attr in _IMG_ATTRS:
        value = tag.get(attr)
        if isinstance(value, str) and value.strip() and not value.strip().startswith("data:"):
            found.append(value.strip())
    srcset = tag.get("data-srcset") or tag.get("srcset")
    if isinstance(srcset, str) and srcset.strip():
        found.append(_largest_in_srcset(srcset))
    return found


def is_tracking_pixel(tag: Tag) -> bool:
    """A 1x1 (or 0x0) image: a tracking beacon, never a product photo."""
    return str(tag.get("width", "")).strip() in ("0", "1") and str(
        tag.get("height", "")
    ).strip() in ("0", "1")


def _largest_in_srcset(srcset: str) -> str:
    best, best_size = "", -1.0
    for part in srcset.split(","):
        bits = part.strip().split()
        if not bits:
            continue
        size = -0.5
        if len(bits) > 1:
            try:
                size = float(bits[1].rstrip("wxWX"))
            except ValueError:
                size = -0.5
        if size > best_size:
            best, best_size = bits[0], size
    return best


def clean_ae_title(title: str | None) -> str | None:
    """An AliExpress og:title/<title> without the price prefix and '- AliExpress' tail."""
    text = clean_text(title)
    if not text:
        return None
    text = _AE_TITLE_TAIL_RE.sub("", text)
    parts = [p.strip() for p in text.split("|")]
    if len(parts) > 1 and _PRICE_HEAD_RE.search(parts[0]):
        # "7.66₪ 39% OFF|<title>|<category>|": the title is the part after the price.
        rest = [p for p in parts[1:] if p]
        return rest[0] if rest else None
    return text or None
