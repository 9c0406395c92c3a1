"""CLI commands for discovery: `status` (coverage per channel) and `sweep ...`.

Sweeps run in the browser extension; these commands queue them, show the queue and the
budget, and change the discovery settings (the same keys `picguard config set` takes).
"""

from __future__ import annotations

import click

from daemon.cli.common import InputError, echo_json, open_store, with_settings
from daemon.config import Settings

_CHANNEL_NAMES = {"browsing": "browsing", "results": "results pages",
                  "image_search": "image search", "keyword_sweep": "keyword sweeps",
                  "store_sweep": "store sweeps", "watch": "watches"}


def _sweeper(settings: Settings):
    from daemon.monitor.sweeps import Sweeper

    return Sweeper(open_store(settings), settings)


def _run(func, *args):
    from daemon.monitor.discovery_settings import SweepError

    try:
        return func(*args)
    except SweepError as exc:
        raise InputError(exc.message) from exc


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_settings
def status(settings: Settings, as_json: bool) -> None:
    """Counts, and what each discovery channel found today and in total."""
    sweeper = _sweeper(settings)
    store = sweeper.store
    data = {**store.status(), "coverage": sweeper.coverage(), "budget": sweeper.budget()}
    if as_json:
        echo_json(data)
        return
    click.echo(f"catalog: {data['catalog']['photos']} photo(s); listings: {data['listings']}; "
               f"images: {', '.join(f'{v} {k}' for k, v in data['images'].items())}")
    click.echo(f"alerts: {', '.join(f'{v} {k}' for k, v in data['alerts'].items())}")
    click.echo(f"{'channel':15} {'listings today/total':>21} {'images today/total':>19} "
               f"{'done':>5} {'blocked':>8}  next due")
    for channel, row in data["coverage"].items():
        click.echo(f"{_CHANNEL_NAMES.get(channel, channel):15} "
                   f"{row['listings_today']:>10}/{row['listings_total']:<10} "
                   f"{row['images_today']:>9}/{row['images_total']:<9} "
                   f"{row['sweeps_done']:>5} {row['sweeps_blocked']:>8}  {row['next_due'] or '-'}")
    b = data["budget"]
    click.echo(f"sweep budget: {b['used_today']}/{b['per_day']} request(s) today, one every "
               f"{b['min_interval_s']} s; next {b['next_request_at'] or 'now'}")


@click.group()
def sweep() -> None:
    """Discovery sweeps run by the browser extension: image search, keywords, stores."""


@sweep.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
@with_settings
def sweep_list(settings: Settings, as_json: bool) -> None:
    """Show sweeps and their tasks, the budget and any pause."""
    overview = _run(_sweeper(settings).overview)
    if as_json:
        echo_json(overview)
        return
    if not overview["sweeps"]:
        click.echo("No sweeps yet: `picguard sweep start image|keyword|store ...` queues one.")
    for s in overview["sweeps"]:
        states = ", ".join(f"{n} {state}" for state, n in sorted(s["states"].items()))
        click.echo(f"sweep {s['id']:<4} {s['kind']:8} {s['origin']:13} {s['created_at']}  "
                   f"{states}")
        for t in s["tasks"][:20]:
            what = (f"photo {t['photo_id']}" if t["kind"] == "image" else
                    f"'{t['keyword']}' page {t['page']}" if t["kind"] == "keyword" else
                    f"store {t['store_key']}")
            error = f"; {t['error']}" if t["error"] else ""
            click.echo(f"  task {t['id']:<5} {t['state']:8} {what}: {t['listings_total']} "
                       f"listing(s), {t['listings_new']} new{error}")
        if len(s["tasks"]) > 20:
            click.echo(f"  ... {len(s['tasks']) - 20} more task(s) (--json lists all)")
    for p in overview["pauses"]:
        if p["active"]:
            click.echo(f"paused: {p['kind']} sweeps until {p['until']} ({p['reason']}); open "
                       "aliexpress.com once in your browser and pass the check to resume")
    b = overview["budget"]
    click.echo(f"budget: {b['used_today']}/{b['per_day']} today, one every "
               f"{b['min_interval_s']} s; image search "
               f"{'ON' if overview['settings']['image_search_consent'] else 'off (consent)'}")


@sweep.command("start")
@click.argument("kind", type=click.Choice(["image", "keyword", "store"]))
@click.argument("values", nargs=-1)
@with_settings
def sweep_start(settings: Settings, kind: str, values: tuple[str, ...]) -> None:
    """Queue a sweep now: `image [PHOTO_ID...]`, `keyword [WORDS...]` or `store STORE_ID`.

    Without ids, an image sweep covers every catalog photo; without words, a keyword sweep
    uses your saved keywords. The extension runs the tasks within the request budget.
    """
    request: dict = {"kind": kind}
    if kind == "image" and values:
        try:
            request["photo_ids"] = [int(v) for v in values]
        except ValueError as exc:
            raise InputError("photo ids are numbers; `picguard catalog list` shows them") from exc
    elif kind == "keyword" and values:
        request["keywords"] = list(values)
    elif kind == "store":
        if len(values) != 1:
            raise InputError("give exactly one store id, e.g. `picguard sweep start store 1102011`")
        request["store_id"] = values[0]
    answer = _run(_sweeper(settings).start, request)
    if answer["sweep_id"] is None:
        click.echo(f"nothing new to queue: {answer['already_queued']} {kind} task(s) are "
                   "already waiting (`picguard sweep list`)")
    else:
        click.echo(f"sweep {answer['sweep_id']}: {answer['tasks']} {kind} task(s) queued"
                   + (f", {answer['already_queued']} already waiting"
                      if answer["already_queued"] else ""))
    if answer.get("paused"):
        click.echo(answer["paused"]["message"], err=True)


def _save(settings: Settings, changes: dict) -> dict:
    from daemon.monitor.discovery_settings import update_discovery

    return _run(update_discovery, settings, changes)


@sweep.command("consent")
@click.argument("state", type=click.Choice(["on", "off"]))
@with_settings
def sweep_consent(settings: Settings, state: str) -> None:
    """Allow (on) or forbid (off) sending your photos to AliExpress's search by image.

    This is the one time a photo leaves your computer: a downscaled JPEG (at most 1,200 px,
    400 KB) goes to AliExpress from your own browser. Off by default.
    """
    cfg = _save(settings, {"image_search_consent": state == "on"})
    click.echo("image search " + ("ON: downscaled copies of your photos will be sent to "
                                  "AliExpress's search by image" if cfg["image_search_consent"]
                                  else "off: no photo leaves this computer"))


@sweep.command("keywords")
@click.argument("words", nargs=-1)
@click.option("--clear", is_flag=True, help="Remove every keyword.")
@with_settings
def sweep_keywords(settings: Settings, words: tuple[str, ...], clear: bool) -> None:
    """Show, or replace with WORDS, the keywords swept daily (your titles, any language)."""
    from daemon.monitor.discovery_settings import discovery_settings

    if words or clear:
        cfg = _save(settings, {"keywords": [] if clear else list(words)})
    else:
        cfg = discovery_settings(settings)
    click.echo("\n".join(cfg["keywords"]) or "(no keywords)")


@sweep.command("settings")
@click.option("--min-interval", "min_interval_s", type=int, help="Seconds between requests.")
@click.option("--per-day", "per_day", type=int, help="Marketplace requests a day at most.")
@click.option("--pages-per-keyword", type=int, help="Results pages swept per keyword.")
@click.option("--every-days", "image_sweep_every_days", type=int,
              help="Search each photo by image every this many days.")
@click.option("--pause-when-idle/--run-when-idle", default=None,
              help="Pause sweeps while you are away from the computer.")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
@with_settings
def sweep_settings(settings: Settings, as_json: bool, **changes) -> None:
    """Show or change the sweep budget and schedule."""
    from daemon.monitor.discovery_settings import discovery_settings

    changes = {k: v for k, v in changes.items() if v is not None}
    cfg = _save(settings, changes) if changes else discovery_settings(settings)
    if as_json:
        echo_json(cfg)
        return
    for key, value in cfg.items():
        click.echo(f"{key:24} {', '.join(value) if isinstance(value, list) else value}")


COMMANDS = [status, sweep]
