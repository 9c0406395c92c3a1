"""Small HTML helpers shared by the page parsers: soup building, meta tags, img sources."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, Tag
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


def _tags_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    """Script/style/comment bodies (skipped), or one wanted tag (group 1, without its "<").

    Every alternative, once started, runs to its end or to the end of the text
    (as a browser's tokenizer does) and never backtracks (possessive
    quantifiers), so a scan is linear even on hostile text such as thousands of
    unclosed "<meta". Quoted attribute values may hold ">". <title> is always
    wanted, with its text.
    """
    attrs = r"""(?:[^>"'=]++|=\s*+(?:"[^"]*+(?:"|$)|'[^']*+(?:'|$))?|["'])*+(?:>|$)"""
    return re.compile(
        r"<(?:script\b[^>]*+(?:>|$)[^<]*+(?:<(?!/script)[^<]*+)*+"
        r"|style\b[^>]*+(?:>|$)[^<]*+(?:<(?!/style)[^<]*+)*+"
        r"|!--[^-]*+(?:-(?!->)[^-]*+)*+(?:-->|$)"
        r"|((?:"
        + "|".join(names)
        + r")\b"
        + attrs
        + r"|title\b[^>]*+(?:>|$)[^<]*+(?:</title\s*>)?))",
        re.IGNORECASE,
    )


HEAD_TAGS = _tags_pattern(("meta", "link", "base"))
STORE_TAGS = _tags_pattern(("meta", "link", "base", "img", "source", "a"))


def make_soup(markup: str) -> BeautifulSoup | None:
    """bs4 soup with the lxml parser, or None when the text has no markup at all.

    XML declarations are dropped so bs4 parses XHTML as HTML without warning.
    """
    if "<" not in markup:
        return None
    if "<?" in markup:
        markup = _XML_DECL_RE.sub("", markup)
    try:
        return BeautifulSoup(markup, "lxml")
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


def collect_tags(text: str, pattern: re.Pattern[str]) -> str:
    """Just the wanted tags of a page (see _tags_pattern), joined: a tiny document for bs4.

    Tags inside scripts, styles and comments are not tags and are skipped.
    """
    return "\n".join("<" + m.group(1) for m in pattern.finditer(text) if m.group(1))


def head_meta(text: str) -> PageMeta:
    """read_meta over the head's meta/link/title/base tags only.

    AliExpress heads carry up to 200 kB of inline script: bs4 parses only the
    few wanted tags (attributes and entities included), not the scripts.
    """
    tags = collect_tags(head_of(text), HEAD_TAGS)
    return read_meta(make_soup(tags)) if tags else PageMeta()


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
    if len(parts) > 1 and _PRICE_HEAD_RE.search(parts[0][:120]):
        # "7.66₪ 39% OFF|<title>|<category>|": the title is the part after the price.
        rest = [p for p in parts[1:] if p]
        return rest[0] if rest else None
    return text or None
