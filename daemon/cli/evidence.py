"""CLI commands for the dispute kit: `evidence` and `ledger verify|head|witness|stamp`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from daemon.cli.common import InputError, echo_json, open_store, with_settings
from daemon.config import Settings


@click.command()
@click.argument("alert_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the ZIP (default: picguard-evidence-ALERT_ID.zip here).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language the report leads with; the other one follows it.")
@click.option("--include-gps", is_flag=True,
              help="Export originals that carry GPS coordinates (they stay byte-exact, so the "
                   "location goes with them).")
@click.option("--json", "as_json", is_flag=True, help="Print what went into the pack as JSON.")
@with_settings
def evidence(settings: Settings, alert_id: int, out: Path | None, lang: str,
             include_gps: bool, as_json: bool) -> None:
    """Export the evidence pack for ALERT_ID: originals, shoot set, capture, comparison,
    timeline, ledger entries, bilingual report and reply drafts, in one ZIP."""
    from daemon.evidence import EvidenceError, GpsConsentNeeded, gps_files, write_pack

    store = open_store(settings)
    gps = gps_files(store, alert_id)
    if gps and not include_gps:
        consent = GpsConsentNeeded(gps)
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            raise InputError(consent.message)
        click.echo(f"注意：{len(gps)} 张原图含 GPS 位置信息（拍摄地点）：{', '.join(gps)}。"
                   "原图必须保持原样，位置信息会随证据包一起给到收件人。", err=True)
        click.echo(consent.message, err=True)
        if not click.confirm("仍然导出？ Export them with their location?", default=False,
                             err=True):
            raise InputError("nothing exported; run again with --include-gps when you agree")
        include_gps = True
    out = out or Path(f"picguard-evidence-{alert_id}.zip")
    try:
        result = write_pack(store, settings, alert_id, out, lang=lang, include_gps=include_gps)
    except EvidenceError as exc:
        raise InputError(exc.message) from exc
    if as_json:
        echo_json({"out": str(out), "alert_id": alert_id, "kind": result.kind,
                   "files": result.files, "warnings": result.warnings,
                   "gps_included": result.gps_included})
        return
    click.echo(f"证据包已写入 / Evidence pack written: {out} ({len(result.files) + 1} files)")
    click.echo("先打开其中的 report.html。 Open report.html inside it first.")
    for warning in result.warnings:
        mark = "✗" if warning["status"] == "bad" else "!"
        click.echo(f"  {mark} {warning['zh']}\n    {warning['en']}", err=True)


@click.group()
def ledger() -> None:
    """The provenance ledger: a signed, hash-chained log of registrations and sightings."""


def _parse_expect(values: tuple[str, ...]) -> list[tuple[int, str]]:
    heads = []
    for value in values:
        seq, _, digest = value.partition(":")
        if not seq.isdigit() or len(digest) != 64 or not all(c in "0123456789abcdefABCDEF"
                                                              for c in digest):
            raise InputError(f"--expect {value!r} is not SEQ:HASH (a number, a colon and the "
                             "64 hex digits from a digest message)")
        heads.append((int(seq), digest.lower()))
    return heads


@ledger.command("verify")
@click.option("--expect", multiple=True, metavar="SEQ:HASH",
              help="A head from a digest message you received; it must still be in the chain.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@with_settings
def ledger_verify(settings: Settings, expect: tuple[str, ...], as_json: bool) -> None:
    """Check every entry: content against hash, links, order, signatures, witnessed heads.

    Exit 0 when the ledger is intact, 1 when something was edited, deleted or reordered.
    """
    from daemon.provenance.ledger import Ledger
    from daemon.provenance.timestamps import coverage, verify_stamps

    heads = _parse_expect(expect)
    store = open_store(settings)
    report = Ledger(store, settings.data_dir).verify(expect=heads)
    stamps = verify_stamps(store, settings.data_dir)
    covered = coverage(store, stamps)
    ok = report.ok and not stamps.bad
    if as_json:
        echo_json({**report.to_dict(), "ok": ok, "timestamps": stamps.to_dict(),
                   "registrations": {"total": len(covered),
                                     "covered": sum(c["covered"] for c in covered),
                                     "not_yet": [c["subject"] for c in covered
                                                 if not c["covered"]]}})
    elif report.ok:
        head = report.head
        click.echo(f"OK: {report.entries} entries verify"
                   + (f"; head #{head['seq']} {head['entry_hash']}" if head else "")
                   + (f"; {report.witnesses_checked} witnessed head(s) match"
                      if report.witnesses_checked else ""))
    else:
        first = report.problems[0]
        click.echo(f"BROKEN at entry {first.seq}: {first.message}", err=True)
        for problem in report.problems[1:]:
            click.echo(f"  also entry {problem.seq} ({problem.kind}): {problem.message}", err=True)
    if not as_json:
        _echo_stamps(stamps, covered)
    if not ok:
        raise SystemExit(1)


def _echo_stamps(stamps, covered: list[dict]) -> None:  # noqa: ANN001 - StampReport
    for check in stamps.checks:
        mark = {"ok": "OK", "untrusted": "UNTRUSTED", "bad": "BAD"}[check["status"]]
        line = (f"timestamp {mark}: entry {check['seq']} at {check['gen_time'] or '?'} by "
                f"{check['tsa_name'] or check['tsa']}: {check['message']}")
        click.echo(line, err=check["status"] == "bad")
    if not stamps.checks:
        click.echo("timestamps: none yet (`picguard ledger stamp` asks the TSAs now)")
    done = sum(c["covered"] for c in covered)
    click.echo(f"registrations covered by a trusted third-party timestamp: {done} of "
               f"{len(covered)}" + (f" (up to entry {stamps.covered_seq})" if done else ""))


@ledger.command("stamp")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@with_settings
def ledger_stamp(settings: Settings, as_json: bool) -> None:
    """Have the configured Time-Stamp Authorities (RFC 3161) vouch for the head now.

    Exit 0 when at least one TSA stamped it; 1 when none answered: the running daemon then
    retries with backoff (the `tsa_urls` setting lists the TSAs).
    """
    from daemon.provenance.ledger import LedgerError
    from daemon.provenance.timestamps import Stamper

    if not settings.tsa_urls:
        raise InputError("no Time-Stamp Authorities are configured: set some with `picguard "
                         "config set tsa_urls URL,URL`")
    try:
        result = Stamper(open_store(settings), settings).stamp_now()
    except LedgerError as exc:
        raise InputError(str(exc)) from exc
    if result["head"] is None:
        raise InputError("the ledger is empty: register your photos first "
                         "(`picguard catalog add FOLDER --shoot NAME`)")
    if as_json:
        echo_json(result)
    else:
        head = result["head"]
        for token in result["tokens"]:
            click.echo(f"stamped head #{head['seq']} {head['entry_hash'][:16]}... by "
                       f"{token['tsa_url']} at {token['gen_time']}")
        for error in result["errors"]:
            click.echo(f"  not stamped: {error}", err=True)
        if result["waiting"]:
            click.echo(f"{result['waiting']} TSA request(s) wait; the daemon retries them",
                       err=True)
    if not result["tokens"]:
        raise SystemExit(1)


@ledger.command("head")
@click.option("--json", "as_json", is_flag=True, help="Print the head as JSON.")
@with_settings
def ledger_head(settings: Settings, as_json: bool) -> None:
    """Print the chain's head digest (seq and hash): paste it anywhere dated to witness it."""
    from daemon.provenance.ledger import Ledger, LedgerError, digest_message

    try:
        head = Ledger(open_store(settings), settings.data_dir).head()
    except LedgerError as exc:
        raise InputError(str(exc)) from exc
    if head is None:
        raise InputError("the ledger is empty: register your photos first "
                         "(`picguard catalog add FOLDER --shoot NAME`)")
    if as_json:
        echo_json(head)
        return
    title, body = digest_message(head)
    click.echo(f"{title}\n\n{body}")


@ledger.command("witness")
@with_settings
def ledger_witness(settings: Settings) -> None:
    """Send the head digest through your notification channels now (their servers' dates
    then vouch for it). The daemon also does this once a day when the chain has grown."""
    from daemon.monitor.notify import send
    from daemon.provenance.ledger import Ledger, LedgerError

    if not settings.notify_urls:
        raise InputError("no notification channels are configured: add one with `picguard "
                         "config add-notify URL`, or mail yourself the output of "
                         "`picguard ledger head`")
    try:
        result = Ledger(open_store(settings), settings.data_dir).witness(
            settings.notify_urls, send, force=True)
    except LedgerError as exc:
        raise InputError(str(exc)) from exc
    if not result["sent"]:
        click.echo(f"picguard: error: the digest was not sent: {result['reason']}", err=True)
        raise SystemExit(1)
    head = result["head"]
    click.echo(f"sent head #{head['seq']} {head['entry_hash']} to {len(settings.notify_urls)} "
               "channel(s)")


COMMANDS = [evidence, ledger]
