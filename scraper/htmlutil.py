"""Small HTML helpers shared by the page parsers: soup building, meta tags, img sources."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

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
T = TypeVar("T")
# Head tags worth parsing: <title>, <base>, and meta/link naming og:, canonical, product:, itemprop.
_WANTED_HEAD_RE = re.compile(r"^(?:title|base)\b|og:|canonical|product:|itemprop", re.IGNORECASE)
# Store tags worth parsing: images, links to items, and the wanted head tags.
_WANTED_STORE_RE = re.compile(
    r"^(?:img|source)\b|^a\b.*/(?:item|i)/|^(?:title|base)\b|og:|canonical",
    re.IGNORECASE | re.DOTALL,
)


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
# Comments (skipped) or a script: its attributes (group 1) and its text (group 2).
_SCRIPTS_RE = re.compile(
    r"<(?:!--[^-]*+(?:-(?!->)[^-]*+)*+(?:-->|$)"
    r"""|script\b((?:[^>"']++|"[^"]*+(?:"|$)|'[^']*+(?:'|$))*+)(?:>|$)"""
    r"([^<]*+(?:<(?!/script)[^<]*+)*+))",
    re.IGNORECASE,
)
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


def collect_tags(text: str, pattern: re.Pattern[str], keep: re.Pattern[str] | None = None) -> str:
    """The wanted tags of a page (see _tags_pattern), joined: a tiny document for bs4.

    Tags inside scripts, styles and comments are not tags and are skipped;
    `keep`, when given, must match (search) a tag's text for it to be kept.
    """
    tags = (m.group(1) for m in pattern.finditer(text))
    return "\n".join("<" + t for t in tags if t and (keep is None or keep.search(t)))


def script_blocks(text: str) -> Iterator[tuple[str, str]]:
    """(attributes, text) of every <script> outside comments, in one linear scan."""
    for match in _SCRIPTS_RE.finditer(text):
        if match.group(1) is not None:
            yield match.group(1), match.group(2)


def page_meta(text: str) -> PageMeta:
    """read_meta over only the meta/link/title/base tags PicGuard reads.

    Big pages carry hundreds of kB of inline script and dozens of irrelevant
    tags (preconnect links, analytics metas): bs4 parses just the few wanted
    tags (attributes and entities included), not the page.
    """
    wanted = collect_tags(text, HEAD_TAGS, _WANTED_HEAD_RE)
    return read_meta(make_soup(wanted)) if wanted else PageMeta()


def store_tags(text: str) -> str:
    """The tags a store page is read from: images, item links, title and og/canonical."""
    return collect_tags(text, STORE_TAGS, _WANTED_STORE_RE)


def head_meta(text: str) -> PageMeta:
    """page_meta over the head only (AliExpress item pages keep their meta there)."""
    return page_meta(head_of(text))


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


def walk_tags(root: Tag, inherit: Callable[[Tag, T], T], start: T) -> Iterator[tuple[Tag, T]]:
    """Every tag under `root` in document order, with the value its parent passes down.

    `inherit(tag, parent_value)` gives the value for the tag's children. One
    iterative pass: linear even on hostile, deeply nested pages, where walking
    up to the ancestors of every tag would be quadratic.
    """
    stack: list[tuple[Tag, T]] = [(c, start) for c in reversed(root.contents) if isinstance(c, Tag)]
    while stack:
        tag, passed = stack.pop()
        yield tag, passed
        value = inherit(tag, passed)
        stack.extend((c, value) for c in reversed(tag.contents) if isinstance(c, Tag))


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
