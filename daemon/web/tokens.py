"""The pairing token: a random secret in the data dir (mode 0600) that the extension sends."""

from __future__ import annotations

import secrets
from pathlib import Path

from daemon.files import write_text_atomic


def load_or_create_token(path: Path) -> str:
    """The stored token, or a new `secrets.token_urlsafe(32)` saved there on first use."""
    try:
        token = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        token = ""
    if len(token) < 32:
        token = secrets.token_urlsafe(32)
        write_text_atomic(path, token + "\n", private=True)
    return token


def rotate_token(path: Path) -> str:
    """Replace the token; every paired extension must be given the new one."""
    token = secrets.token_urlsafe(32)
    write_text_atomic(path, token + "\n", private=True)
    return token
