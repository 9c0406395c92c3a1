"""CLI commands for monitoring: `serve`, `ingest`, `scan`, `check`, `alerts`, `watch`."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import click

from daemon.cli.common import InputError, echo_json, open_store, with_settings
from daemon.config import Settings


def _pipeline(settings: Settings):
    from daemon.monitor.pipeline import Pipeline

    return Pipeline(settings, open_store(settings))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Loopback address to listen on (127.0.0.1, localhost or ::1 only).")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port (default 8765, or the `port` setting; 0 picks a free one).")
@with_settings
def serve(settings: Settings, host: str, port: int | None) -> None:
    """Run the daemon: the API for the extension plus background monitoring."""
    from daemon.web.instance import AlreadyRunning
    from daemon.web.server import serve as run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    # APScheduler logs every run at INFO; job outcomes are in /api/v1/status instead.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    settings = dataclasses.replace(settings, host=host,
                                   port=settings.port if port is None else port)
    try:
        run(settings, announce=lambda line: click.echo(line))
    except (ValueError, OSError, AlreadyRunning) as exc:
        raise InputError(f"cannot start the daemon: {exc}") from exc


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--url", required=True, help="The address the page was saved from.")
@click.option("--json", "as_json", is_flag=True, help="Print the parsed listing as JSON.")
@with_settings
def ingest(settings: Settings, file: Path, url: str, as_json: bool) -> None:
    """Parse a saved page as if the extension had pushed it, and store it."""
    import scraper
    from daemon.monitor.ingest import PageError, ingest_page

    try:
        html = file.read_bytes().decode("utf-8", "replace")
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror}; check the path") from exc
    try:
        listing = scraper.parse_page(html, url)
        answer = ingest_page(open_store(settings), settings, url, html, source="ingest")
    except (PageError, scraper.ParseError) as exc:
        raise InputError(f"{file}: {exc}") from exc
    if as_json:
        echo_json({**answer, "listing": listing.to_dict()})
        return
    if answer.get("kind") == "results":  # a search/category/store list: one listing a card
        click.echo(f"{answer['status']}: results page, {answer['listings']['total']} listing(s) "
                   f"({answer['listings']['new']} new), {answer['images']['new']} new image(s) "
                   f"queued{'; ' + answer['reason'] if answer.get('reason') else ''}")
        return
    click.echo(f"{answer['status']}: {listing.title or '(no title)'}")
    click.echo(f"store {listing.store_name or '-'} ({listing.store_id or '-'}), "
               f"product {listing.product_id or '-'}")
    for role in ("gallery", "variant", "description", "og", "store"):
        refs = [ref for ref in listing.images if ref.role == role]
        if refs:
            click.echo(f"{role:12} {len(refs)} image(s)")
    click.echo(f"stored as listing {answer['listing_id']}; {answer['images']['new']} new "
               "image(s) queued" if answer["listing_id"] else answer.get("reason", ""))


def _progress_printer():
    last = {}

    def progress(step: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last.get(step, 0) > 0.5:
            last[step] = now
            click.echo(f"\r{step}: {done}/{total}", err=True, nl=done == total)
    return progress


def _print_summary(summary: dict, as_json: bool) -> None:
    if as_json:
        echo_json(summary)
        return
    f = summary["fetch"]
    click.echo(f"fetched {f['fetched']} image(s), {f['retry']} to retry, {f['failed']} failed; "
               f"{f['alerts'] + summary['match']['alerts'] + summary['reverse']['alerts']} "
               f"new alert(s); {summary['rescan']['visited']} listing(s) re-visited; "
               f"{summary['notify']['sent']} notification(s) sent")


def _release_dead_claims(settings: Settings, pipeline) -> None:
    """Images claimed by a run that died (SIGKILL, a full disk) are due again at once, as
    `serve` does at start; not while a daemon runs, whose claims are live."""
    from daemon.web.instance import AlreadyRunning, DataDirLock

    try:
        lock = DataDirLock(settings.data_dir).acquire()
    except AlreadyRunning:
        return
    try:
        pipeline.store.release_leases()
    finally:
        lock.release()


@click.command()
@click.option("--once", is_flag=True, help="One pass over the due work, then exit.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@with_settings
def scan(settings: Settings, once: bool, as_json: bool) -> None:
    """Run due work now: fetch, fingerprint, match, re-visit watched listings, notify."""
    pipeline = _pipeline(settings)
    _release_dead_claims(settings, pipeline)
    while True:
        _print_summary(pipeline.run_once(progress=_progress_printer()), as_json)
        if once:
            return
        try:
            time.sleep(settings.fetch_interval_s)
        except KeyboardInterrupt:
            return


@click.command()
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per image per line.")
@with_settings
def check(settings: Settings, images: tuple[Path, ...], as_json: bool) -> None:
    """Before publishing: does IMAGE resemble a photo another store already shows?

    Exit 1 when something resembles, 0 when nothing does.
    """
    from daemon.matching.compare import analyse
    from daemon.matching.imageio import ImageError
    from daemon.monitor.verdicts import check_image

    store = open_store(settings)
    found = False
    for path in images:
        if not path.is_file():
            raise InputError(f"{path} does not exist or is not a file; check the path")
        try:
            result = check_image(store, settings, analyse(path, product=False))
        except ImageError as exc:
            raise InputError(f"{path}: {exc}") from exc
        found = found or result["resembles"]
        if as_json:
            echo_json({"image": str(path), **result})
            continue
        if not result["resembles"]:
            click.echo(f"clear     {path}: no other store shows a resembling photo")
        for hit in result["hits"]:
            click.echo(f"RESEMBLES {path}: {hit['kind']} score {hit['score']} on "
                       f"{hit['store_name'] or hit['store_id']} since {hit['first_seen']} "
                       f"{hit['listing_url']}")
    if found:
        raise SystemExit(1)


@click.command()
@click.option("--all", "show_all", is_flag=True,
              help="Include confirmed, dismissed and withdrawn alerts.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per alert per line.")
@with_settings
def alerts(settings: Settings, show_all: bool, as_json: bool) -> None:
    """List alerts: your photos on other stores (copied) or resembling earlier ones."""
    from daemon.monitor.alerts import alert_view

    rows = open_store(settings).list_alerts(state="all" if show_all else "new", limit=100_000)
    views = [alert_view(row) for row in rows]
    if as_json:
        for view in views:
            echo_json(view)
        return
    # Grouped by the other store's listing: one complaint or report covers a whole listing.
    by_listing: dict = {}
    for view in views:
        by_listing.setdefault(view["other"]["listing_id"], []).append(view)
    for group in by_listing.values():
        o = group[0]["other"]
        click.echo(f"{o['store_name'] or o['store_id'] or '?'} (store {o['store_id'] or '-'}): "
                   f"{o['title'] or ''} {o['listing_url'] or ''}")
        for view in group:
            click.echo(f"  #{view['id']:<4} {view['kind']:9} {view['state']:9} score "
                       f"{view['score']:.2f}  {view['own']['file_name']} -> {view['other']['url']}"
                       f"  (first seen {view['other']['first_seen']})")
            if view["withdrawn"]:
                click.echo(f"        withdrawn: {view['withdrawn']['en']}")
    if not rows:
        click.echo("No alerts." if show_all else "No new alerts (--all shows every one).")


@click.group()
def watch() -> None:
    """Listings and stores re-visited on a schedule."""


@watch.command("add")
@click.argument("url")
@with_settings
def watch_add(settings: Settings, url: str) -> None:
    """Re-visit URL (an item or store page) on a schedule."""
    from daemon.monitor.watches import WatchUrlError, check_watch_url

    try:
        url = check_watch_url(url, settings)
    except WatchUrlError as exc:
        raise InputError(exc.message) from exc
    store = open_store(settings)
    listing = store.listing_by_url(url)
    click.echo(f"watch {store.add_watch(url, listing['id'] if listing else None)}: {url}")


@watch.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per watch per line.")
@with_settings
def watch_list(settings: Settings, as_json: bool) -> None:
    """List watched URLs with their last visit."""
    for w in open_store(settings).list_watches():
        if as_json:
            echo_json(w)
        else:
            click.echo(f"{w['id']:>4}  {w['last_status'] or 'pending':10} next "
                       f"{w['next_visit_at']}  {w['url']}")


@watch.command("remove")
@click.argument("watch_id", type=int)
@with_settings
def watch_remove(settings: Settings, watch_id: int) -> None:
    """Stop watching WATCH_ID."""
    if not open_store(settings).remove_watch(watch_id):
        raise InputError(f"there is no watch {watch_id}; `picguard watch list` shows them")
    click.echo(f"removed watch {watch_id}")


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port for the daemon left running after the demo (0 picks a free one).")
@click.option("--no-serve", is_flag=True, help="Print the alerts and exit instead of serving.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to keep the demo's data (default: a new temporary folder).")
def demo(port: int, no_serve: bool, data_dir: Path | None) -> None:
    """A local demo shop, alerts and a running daemon, with no marketplace account."""
    from daemon.config import load_settings
    from daemon.demo.seed import demo_data_dir, run_demo

    settings = load_settings(data_dir or demo_data_dir())
    click.echo(f"Demo data dir: {settings.data_dir}")
    pipeline, shop = run_demo(settings, say=click.echo)
    try:
        click.echo("")
        rows = pipeline.store.list_alerts(state="all")
        click.echo(f"{len(rows)} alert(s):")
        from daemon.monitor.alerts import alert_view

        for row in rows:
            view = alert_view(row)
            click.echo(f"  #{view['id']} {view['kind']:9} {view['own']['file_name']:14} -> "
                       f"{view['other']['store_name']}: {view['other']['url']} "
                       f"(score {view['score']:.2f})")
        if no_serve:
            return
        click.echo("")
        from daemon.web.instance import AlreadyRunning
        from daemon.web.server import serve as run

        try:
            run(dataclasses.replace(pipeline.settings, port=port),
                announce=lambda line: click.echo(line))
        except (OSError, AlreadyRunning) as exc:
            raise InputError(f"cannot start the demo daemon: {exc}") from exc
    finally:
        shop.stop()


COMMANDS = [serve, ingest, scan, check, alerts, watch, demo]
