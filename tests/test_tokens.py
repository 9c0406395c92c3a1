"""The pairing token: created once, private, rotated on demand."""

from __future__ import annotations

import stat

from daemon.web.tokens import load_or_create_token, rotate_token


def test_token_is_created_private_and_stable(tmp_path) -> None:
    path = tmp_path / "token"
    token = load_or_create_token(path)
    assert len(token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_token(path) == token


def test_rotate_replaces_it(tmp_path) -> None:
    path = tmp_path / "token"
    old = load_or_create_token(path)
    new = rotate_token(path)
    assert new != old and load_or_create_token(path) == new
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
