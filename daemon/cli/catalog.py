"""CLI commands on image files: `catalog add|list` and `compare`."""

from __future__ import annotations

from pathlib import Path

import click

from daemon.cli.common import InputError, echo_json, open_store, with_settings
from daemon.config import Settings


@click.group()
def catalog() -> None:
    """Your catalog of original photos: the evidence that they are yours."""


@catalog.command("add")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("--shoot", help="Name of the shoot/series these photos belong to (套图).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
@with_settings
def catalog_add(settings: Settings, paths: tuple[Path, ...], shoot: str | None,
                as_json: bool) -> None:
    """Register original photos (files or folders, recursive). Files are never modified."""
    from tqdm import tqdm

    from daemon.catalog.registration import register

    store = open_store(settings)

    def progress(results, total: int):
        return tqdm(results, total=total, desc="Registering", unit="photo",
                    file=click.get_text_stream("stderr"), disable=total < 2, leave=False)

    report = register(store, list(paths), shoot=shoot or None, progress=progress)
    if as_json:
        echo_json(report.to_dict())
    else:
        for item in report.failed:
            click.echo(f"skipped {item['path']}: {item['reason']}", err=True)
        gps = sum(1 for a in report.added if a.get("has_gps"))
        click.echo(f"Added {len(report.added)} photo(s); {len(report.duplicates)} already "
                   f"registered (not added again); {len(report.failed)} could not be read.")
        if gps:
            click.echo(f"Note: {gps} of the added photos carry GPS coordinates (where they were "
                       "shot); evidence packs include the original files as they are.")
    if report.failed and not report.added and not report.duplicates:
        raise InputError("no photo could be registered; see the reasons above")


@catalog.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per photo per line.")
@with_settings
def catalog_list(settings: Settings, as_json: bool) -> None:
    """List your registered photos with their capture and registration times."""
    from daemon.catalog.c2pa import c2pa_label, with_c2pa

    photos = [with_c2pa(p) for p in open_store(settings).list_photos()]
    if as_json:
        for photo in photos:
            echo_json(photo)
        return
    if not photos:
        click.echo("No photos registered yet: `picguard catalog add FOLDER`.")
        return
    for p in photos:
        click.echo(f"{p['id']:>5}  {p['sha256'][:12]}  {p['taken_at'] or '-':24}  "
                   f"{p['registered_at']}  {p['shoot'] or '-':12}  {p['path']}"
                   + (f"  [{c2pa_label(p['c2pa'])}]" if p["c2pa"] else ""))
    click.echo(f"{len(photos)} photo(s)")


@click.command()
@click.argument("original", type=click.Path(path_type=Path))
@click.argument("candidates", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per candidate per line: candidate, match, kind, score, "
                   "details.")
def compare(original: Path, candidates: tuple[Path, ...], as_json: bool) -> None:
    """Compare image files directly: is each CANDIDATE a copy of ORIGINAL?"""
    from daemon.matching.compare import analyse
    from daemon.matching.compare import compare as compare_images
    from daemon.matching.imageio import ImageError

    for path in (original, *candidates):
        if not path.is_file():
            raise InputError(f"{path} does not exist or is not a file; check the path")
    try:
        base = analyse(original)
    except ImageError as exc:
        raise InputError(f"{original}: {exc}") from exc
    unreadable = 0
    for path in candidates:
        try:
            result = compare_images(base, analyse(path, product=False))
        except ImageError as exc:
            unreadable += 1
            click.echo(f"picguard: error: {path}: {exc}", err=True)
            continue
        if as_json:
            echo_json({"candidate": str(path), **result.to_dict()})
        else:
            verdict = {"copy": "COPY", "similar": "similar"}.get(result.kind or "", "different")
            click.echo(f"{verdict:9} score {result.score:.3f}  {path}")
    if unreadable:
        raise InputError(f"{unreadable} candidate(s) could not be read; see above")


COMMANDS = [catalog, compare]
