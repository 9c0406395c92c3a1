"""What every CLI command shares: the input-error exit, `--data-dir`, the store, JSON output.

Exit codes: 0 fine, 1 a finding (`check`), 2 usage or input error with a one-line reason.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import click

from daemon.config import ConfigError, Settings, load_settings

DATA_DIR_HELP = ("Where PicGuard keeps its database and settings "
                 "(default: $PICGUARD_DATA_DIR or the platform's user data dir).")


class InputError(click.ClickException):
    """Bad input: a one-line reason on stderr and exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        click.echo(f"picguard: error: {self.format_message()}", err=True)


def data_dir_option(func: Callable) -> Callable:
    """The `--data-dir DIR` option, shared by the group and every command."""
    return click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
                        default=None, help=DATA_DIR_HELP)(func)


def _group_data_dir() -> Path | None:
    # `picguard --data-dir DIR serve` puts the option on the group: look there when the
    # command itself was not given one, so both spellings work.
    ctx = click.get_current_context(silent=True)
    return ctx.find_root().params.get("data_dir") if ctx is not None else None


def with_settings(func: Callable) -> Callable:
    """Add `--data-dir` to a command and hand it the loaded Settings as `settings`."""

    @data_dir_option
    @functools.wraps(func)
    def wrapper(*args, data_dir: Path | None, **kwargs):
        try:
            settings = load_settings(data_dir or _group_data_dir())
        except ConfigError as exc:
            raise InputError(str(exc)) from exc
        try:
            return func(*args, settings=settings, **kwargs)
        except (sqlite3.OperationalError, OSError) as exc:
            # a full disk is the seller's to fix: one line, not a traceback (issue 16)
            from daemon.store.faults import disk_full_message, is_disk_full

            if not is_disk_full(exc):
                raise
            raise InputError(disk_full_message(settings.data_dir, exc)) from exc

    return wrapper


def open_store(settings: Settings):
    """The database in the data dir, with a one-line error when it cannot be opened."""
    from daemon.store import Store, StoreError

    try:
        return Store(settings.db_path)
    except StoreError as exc:
        raise InputError(str(exc)) from exc


def echo_json(obj: object) -> None:
    """One JSON document on one line, UTF-8 (Chinese text stays readable)."""
    click.echo(json.dumps(obj, ensure_ascii=False, default=str))
