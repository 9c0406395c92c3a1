"""CLI commands for pairing and settings: `token` and `config`."""

from __future__ import annotations

import click

from daemon.cli.common import InputError, echo_json, with_settings
from daemon.config import ConfigError, Settings, save_settings, set_value
from daemon.web.tokens import load_or_create_token, rotate_token
from scraper.markets import MARKETPLACES


@click.command()
@click.option("--rotate", is_flag=True, help="Replace the token; re-pair the extension after.")
@with_settings
def token(settings: Settings, rotate: bool) -> None:
    """Print the pairing token to paste into the extension's options page."""
    value = rotate_token(settings.token_path) if rotate else load_or_create_token(
        settings.token_path)
    click.echo(value)
    if rotate:
        click.echo("The old token no longer works: paste this one into the extension's "
                   "options page.", err=True)


@click.group()
def config() -> None:
    """Show or change settings: your own store ids, notification URLs, intervals."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_settings
def config_show(settings: Settings, as_json: bool) -> None:
    """Print the current settings and the data dir."""
    data = {"data_dir": str(settings.data_dir), **settings.persisted()}
    if as_json:
        echo_json(data)
        return
    for key, value in data.items():
        if isinstance(value, list):
            value = ", ".join(value) or "(none)"
        click.echo(f"{key:22} {value}")


@config.command("set")
@click.argument("key")
@click.argument("value")
@with_settings
def config_set(settings: Settings, key: str, value: str) -> None:
    """Set KEY to VALUE (lists take comma-separated values)."""
    try:
        set_value(settings, key, value)
    except ConfigError as exc:
        raise InputError(str(exc)) from exc
    save_settings(settings)
    click.echo(f"{key} = {getattr(settings, key)}")


def _edit_list(settings: Settings, key: str, value: str, add: bool) -> None:
    items = list(getattr(settings, key))
    if add and value not in items:
        items.append(value)
    elif not add:
        if value not in items:
            raise InputError(f"{value!r} is not in {key}; `picguard config show` lists them")
        items.remove(value)
    setattr(settings, key, items)
    save_settings(settings)
    click.echo(f"{key}: {', '.join(items) or '(none)'}")


def _store_entry(store_id: str, marketplace: str) -> str:
    """`marketplace:store_id` from `amazon:A2NQ...` or a bare id plus --marketplace."""
    market, sep, bare = store_id.strip().partition(":")
    if not sep:
        market, bare = marketplace, store_id.strip()
    market = market.strip().lower()
    if not bare.strip():
        raise InputError("give the store id, e.g. 1102011 or amazon:A2NQK4TIWYJD6B "
                         "(see the store's URL)")
    if market not in MARKETPLACES:
        raise InputError(f"unknown marketplace {market!r}; use one of {', '.join(MARKETPLACES)}")
    return f"{market}:{bare.strip()}"


@config.command("add-store")
@click.argument("store_id")
@click.option("--marketplace", default="aliexpress", show_default=True,
              help="the marketplace of a bare STORE_ID")
@with_settings
def config_add_store(settings: Settings, store_id: str, marketplace: str) -> None:
    """Mark STORE_ID (`marketplace:id`, or a bare id) as your own store: no alerts for it."""
    _edit_list(settings, "own_stores", _store_entry(store_id, marketplace), add=True)


@config.command("remove-store")
@click.argument("store_id")
@click.option("--marketplace", default="aliexpress", show_default=True,
              help="the marketplace of a bare STORE_ID")
@with_settings
def config_remove_store(settings: Settings, store_id: str, marketplace: str) -> None:
    """Forget that STORE_ID (`marketplace:id`, or a bare id) is yours."""
    _edit_list(settings, "own_stores", _store_entry(store_id, marketplace), add=False)


@config.command("add-notify")
@click.argument("url")
@with_settings
def config_add_notify(settings: Settings, url: str) -> None:
    """Send alerts to an Apprise URL (mailto://, tgram://, dingtalk://, wecombot://, json://...)."""
    import apprise

    if not apprise.Apprise().add(url):
        raise InputError(
            f"{url!r} is not a notification URL Apprise understands; see "
            "https://github.com/caronc/apprise/wiki for the formats")
    _edit_list(settings, "notify_urls", url, add=True)


@config.command("remove-notify")
@click.argument("url")
@with_settings
def config_remove_notify(settings: Settings, url: str) -> None:
    """Stop sending alerts to URL."""
    _edit_list(settings, "notify_urls", url, add=False)


COMMANDS = [token, config]
