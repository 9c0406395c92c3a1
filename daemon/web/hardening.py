"""Input hardening every route shares: ids that fit SQLite, JSON that cannot nest too deep.

Found by fuzzing the daemon (tests/test_api_fuzz.py): `/alerts/99999999999999999999999`
overflowed SQLite's 64-bit INTEGER, `[[[[...]]]]` bodies exhausted the recursion limit and a
lone UTF-16 surrogate (`"\\ud800"`, valid JSON but not Unicode text) failed in SQLite: all
three were 500s. Installed once by create_app, so blueprints added later are covered too.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter, ValidationError

SQLITE_MAX_INT = 2**63 - 1
# A \uD800-\uDFFF escape: only then can a decoded body hold a lone surrogate (pairs decode
# to one character), so ordinary bodies skip the full check.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class BoundedIntConverter(IntegerConverter):
    """`<int:id>` that only matches ids SQLite can hold; larger ones are a plain 404."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > SQLITE_MAX_INT:
            raise ValidationError()
        return number


class DepthSafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON, where too-deep nesting or a lone surrogate is malformed JSON (a 400)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("the JSON body is nested too deeply") from exc
        raw = s.encode("utf-8", "surrogatepass") if isinstance(s, str) else s
        if _SURROGATE_ESCAPE.search(raw):
            try:
                json.dumps(value, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError("the JSON body holds a lone UTF-16 surrogate (\\ud800-"
                                 "\\udfff) in a string; send valid Unicode text") from exc
        return value


def clamp_id(number: int) -> int:
    """An id or counter from a query string, brought into SQLite's INTEGER range."""
    return max(-SQLITE_MAX_INT, min(number, SQLITE_MAX_INT))


def install_hardening(app: Flask) -> None:
    """Call right after Flask(): routes added afterwards get the bounded converter."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.json = DepthSafeJSONProvider(app)
