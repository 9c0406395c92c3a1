"""The pairing token: a random secret in the data dir (mode 0600) that the extension sends."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _write_private(path: Path, text: str) -> None:
    """Write a file only the owner can read, atomically (temp file + rename)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(text + "\n")
    os.chmod(tmp, 0o600)  # O_CREAT's mode does not apply to an existing temp file
    os.replace(tmp, path)


def load_or_create_token(path: Path) -> str:
    """The stored token, or a new `secrets.token_urlsafe(32)` saved there on first use."""
    try:
        token = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        token = ""
    if len(token) < 32:
        token = secrets.token_urlsafe(32)
        _write_private(path, token)
    return token


def rotate_token(path: Path) -> str:
    """Replace the token; every paired extension must be given the new one."""
    token = secrets.token_urlsafe(32)
    _write_private(path, token)
    return token
