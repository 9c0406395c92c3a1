"""CLI commands for backups: `backup DEST`, `backup --verify SRC`, `restore SRC`."""

from __future__ import annotations

from pathlib import Path

import click

from daemon.cli.common import InputError, echo_json, open_store, with_settings
from daemon.config import Settings


@click.command()
@click.argument("dest", required=False, type=click.Path(path_type=Path))
@click.option("--verify", "verify_src", type=click.Path(path_type=Path), default=None,
              metavar="SRC", help="Check the backup SRC instead of writing one.")
@click.option("--originals", is_flag=True,
              help="Copy the original photos too (default: only their SHA-256 and paths).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@with_settings
def backup(settings: Settings, dest: Path | None, verify_src: Path | None, originals: bool,
           as_json: bool) -> None:
    """Write a consistent snapshot of the data dir to DEST (a new folder, or a .zip).

    Safe while the daemon runs. With --verify SRC, check a backup instead: exit 0 when it is
    sound, 1 when something is damaged or missing.
    """
    from daemon.backup.snapshot import BackupError, make_backup
    from daemon.backup.verify import verify_backup

    if verify_src is not None:
        if dest is not None:
            raise InputError("give either DEST (to write a backup) or --verify SRC, not both")
        try:
            check = verify_backup(verify_src)
        except BackupError as exc:
            raise InputError(str(exc)) from exc
        if as_json:
            echo_json(check.to_dict())
        else:
            stamps = check.timestamps or {}
            ledger = check.ledger or {}
            click.echo(f"{verify_src}: made {check.manifest.get('created_at')}, "
                       f"{check.manifest.get('photos')} photo(s), {check.files_checked} "
                       f"file(s) checked, ledger {ledger.get('entries', 0)} entries, "
                       f"{stamps.get('ok', 0)} trusted timestamp token(s)")
            for problem in check.problems:
                click.echo(f"PROBLEM: {problem}", err=True)
            click.echo("OK: the backup is sound." if check.ok else
                       f"{len(check.problems)} problem(s): do not rely on this backup.")
        if not check.ok:
            raise SystemExit(1)
        return
    if dest is None:
        raise InputError("give DEST: a new folder or a file name ending in .zip "
                         "(or --verify SRC to check a backup)")
    try:
        result = make_backup(settings, open_store(settings), dest, originals=originals)
    except BackupError as exc:
        raise InputError(str(exc)) from exc
    if as_json:
        echo_json(result.to_dict())
        return
    info = result.to_dict()
    click.echo(f"backup written: {result.path} ({info['files']} files, {info['bytes']} bytes, "
               f"{result.photos} photo(s)" + (f", {result.originals} original(s) copied"
                                             if originals else "") + ")")
    for path in result.missing_originals:
        click.echo(f"  original not copied (missing or changed): {path}", err=True)


@click.command()
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@with_settings
def restore(settings: Settings, src: Path, as_json: bool) -> None:
    """Restore the backup SRC (folder or .zip) into an empty data dir (--data-dir NEW)."""
    from daemon.backup.restore import restore as run
    from daemon.backup.snapshot import BackupError

    try:
        result = run(src, settings.data_dir)
    except BackupError as exc:
        raise InputError(str(exc)) from exc
    if as_json:
        echo_json(result.to_dict())
        return
    head = result.head
    click.echo(f"restored {src} into {result.data_dir}: {result.photos} photo(s)"
               + (f", ledger head #{head['seq']} {head['entry_hash'][:16]}..." if head else ""))
    for item in result.relocated:
        click.echo(f"  photo {item['id']} now points at its restored original {item['path']}")
    click.echo("Check it with `picguard ledger verify`, then start `picguard serve`.")


COMMANDS = [backup, restore]
