"""The `picguard` command line: the group, shared options, and the commands' registration.

Exit codes: 0 fine, 1 a finding (`check`), 2 usage or input error with a one-line reason.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path

import click

from daemon import __version__
from daemon.config import ConfigError, Settings, load_settings


class InputError(click.ClickException):
    """Bad input: a one-line reason on stderr and exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        click.echo(f"picguard: error: {self.format_message()}", err=True)


def with_settings(func: Callable) -> Callable:
    """Add `--data-dir` to a command and hand it the loaded Settings as `settings`."""

    @click.option(
        "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
        help="Where PicGuard keeps its database and settings "
             "(default: $PICGUARD_DATA_DIR or the platform's user data dir).",
    )
    @functools.wraps(func)
    def wrapper(*args, data_dir: Path | None, **kwargs):
        try:
            settings = load_settings(data_dir)
        except ConfigError as exc:
            raise InputError(str(exc)) from exc
        return func(*args, settings=settings, **kwargs)

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


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="picguard")
def main() -> None:
    """PicGuard: proof and vigilance for sellers accused of stealing their own pictures.

    Register your original photos, let the browser extension push the listings you browse,
    and PicGuard tells you when your photos appear on other stores.
    """


def _register() -> None:
    # Commands live in modules by subject; importing them attaches them to `main`.
    from daemon import cli_catalog, cli_evidence, cli_monitor, cli_settings  # noqa: F401


_register()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
