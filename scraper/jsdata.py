"""Find JSON objects inside inline scripts by brace matching, then json.loads the slice.

Pages assign big data objects in JavaScript (``window.runParams = { data: {...},
csrfToken: '...' }``). The outer object is a JS literal, not JSON, and the
whitespace around it changes between page versions, so we never slice by fixed
offsets: we find the opening brace, walk to its partner (skipping strings, which
may hold braces and escaped quotes), and parse only that slice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from .model import EmbeddedDataError

# One token: a bracket, a complete double- or single-quoted string (escapes
# included), or a lone quote, which means a string that never ends.
_TOKEN_RE = re.compile(
    r"""[{}\[\]]|"[^"\\]*(?:\\.[^"\\]*)*"|'[^'\\]*(?:\\.[^'\\]*)*'|["']""",
    re.DOTALL,
)
_OPEN = "{["
# Everything that is not a bracket: plain runs and complete strings (possessive,
# so a string that never closes is not re-tried character by character).
_SKIP_RE = re.compile(
    r"""(?:[^"'{}\[\]]++|"[^"\\]*+(?:\\.[^"\\]*+)*+"|'[^'\\]*+(?:\\.[^'\\]*+)*+')*+""",
    re.DOTALL,
)


def find_object_end(text: str, start: int) -> int | None:
    """Index just past the bracket closing the one at `start`; None if it never closes.

    `_SKIP_RE` consumes everything up to the next bracket outside a string in
    one C-level match, so Python only loops once per bracket.
    """
    if start < 0 or start >= len(text) or text[start] not in _OPEN:
        return None
    depth, pos, size = 0, start, len(text)
    while pos < size:
        char = text[pos]
        if char in _OPEN:
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return pos + 1
        else:  # a quote _SKIP_RE could not close: the string runs off the end
            return None
        pos = _SKIP_RE.match(text, pos + 1).end()
    return None


def parse_json_at(text: str, start: int, what: str) -> Any:
    """json.loads the object or array starting at `start`; EmbeddedDataError if impossible."""
    end = find_object_end(text, start)
    if end is None:
        raise EmbeddedDataError(
            f"the page's {what} object is cut off (its closing brace is missing); "
            "save the whole page again"
        )
    try:
        return json.loads(text[start:end])
    except (ValueError, RecursionError) as exc:
        raise EmbeddedDataError(
            f"the page's {what} object is not valid JSON ({_short(exc)}); "
            "save the page again or report this page version"
        ) from None


def iter_assignments(text: str, name_pattern: str, limit: int = 16) -> Iterator[int]:
    """Positions of the `{` in the first `limit` ``<name> = {`` (name_pattern is a regex).

    The limit keeps a hostile page with thousands of assignments linear.
    """
    for count, match in enumerate(re.finditer(name_pattern + r"\s*=\s*(?=\{)", text)):
        if count >= limit:
            return
        yield match.end()


def find_key_object(text: str, obj_start: int, key: str) -> int | None:
    """Position of the `{` that is the value of top-level `key` in the object at `obj_start`.

    Works on JS literals (``{ data: {...} }``) and JSON (``{"data": {...}}``).
    Candidates are checked in order with one incremental scan, so the cost is
    linear in the distance to the key.
    """
    if obj_start >= len(text) or text[obj_start] != "{":
        return None
    name = re.escape(key)
    pattern = re.compile(r"""[{,\s](?:(["'])""" + name + r"""\1|""" + name + r""")\s*:\s*(?=\{)""")
    pos, depth, skip_until = obj_start, 0, -1
    for match in pattern.finditer(text, obj_start):
        stop = match.start() + 1
        if stop < skip_until:
            continue  # inside a string already measured
        inside_string = False
        for tok in _TOKEN_RE.finditer(text, pos, stop):
            piece = tok.group()
            if piece in _OPEN:
                depth += 1
            elif piece in "}]":
                depth -= 1
                if depth == 0:
                    return None  # the object closed before this key
            elif len(piece) == 1:  # a string that runs past the candidate
                pos, inside_string = tok.start(), True
                break
        else:
            pos = stop
        if inside_string:
            end_of_string = _TOKEN_RE.match(text, pos)
            if end_of_string is None or len(end_of_string.group()) == 1:
                return None  # the string never ends
            skip_until = end_of_string.end()
            continue
        if depth == 1:
            return match.end()
    return None


def assigned_object(text: str, name_pattern: str, what: str, key: str | None = None) -> Any:
    """The JSON value assigned to `name_pattern` (or its top-level `key`), or None.

    Tries every assignment (pages often write ``x = {}`` and fill it later) and
    returns the first that holds data. Raises EmbeddedDataError only when an
    assignment with data exists but cannot be read.
    """
    error: EmbeddedDataError | None = None
    for start in iter_assignments(text, name_pattern):
        at = start
        if key is not None:
            found = find_key_object(text, start, key)
            if found is None:
                continue
            at = found
        try:
            value = parse_json_at(text, at, what)
        except EmbeddedDataError as exc:
            error = error or exc
            continue
        if value:
            return value
    if error is not None:
        raise error
    return None


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
