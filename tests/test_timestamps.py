"""RFC 3161 timestamps of the ledger head, against a real TSA (OpenSSL `ts -reply`) on
127.0.0.1: stamping on demand and on schedule, waiting and backing off while the TSA is
unreachable, offline verification (signature, imprint, coverage) and tampering caught."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from daemon.catalog.registration import register
from daemon.cli import main as cli
from daemon.config import load_settings, save_settings
from daemon.provenance.timestamps import RETRY_FIRST_S, Stamper, coverage, verify_stamps
from daemon.provenance.tsa import TSA_ROOTS_DIR
from daemon.store import Store
from daemon.timeutil import parse_iso, utcnow
from tests.tsa_support import LocalTsa

DEMO_PHOTOS = Path(__file__).resolve().parent.parent / "daemon" / "demo" / "data" / "photos"


@pytest.fixture()
def tsa(tmp_path: Path):
    with LocalTsa(tmp_path / "tsa") as server:
        yield server


@pytest.fixture()
def setup(tmp_path: Path, tsa: LocalTsa):
    """A data dir with three registered photos, the local TSA configured and its root trusted."""
    settings = load_settings(tmp_path / "data")
    settings.tsa_urls = [tsa.url]
    save_settings(settings)
    (settings.data_dir / TSA_ROOTS_DIR).mkdir()
    shutil.copy(tsa.ca_pem, settings.data_dir / TSA_ROOTS_DIR / "test-tsa-root.pem")
    store = Store(settings.db_path)
    photos = sorted(DEMO_PHOTOS.glob("*.jpg"))
    assert len(register(store, photos[:3]).added) == 3
    yield settings, store, photos
    store.close()


def _cli(settings, *args: str):
    return CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), *args])


def test_stamp_on_demand_then_verify_offline_covers_the_registrations(setup, tsa) -> None:
    settings, store, photos = setup
    result = _cli(settings, "ledger", "stamp", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["stamped"] == 1 and answer["head"]["seq"] == 3
    assert tsa.issued == 1
    verify = _cli(settings, "ledger", "verify", "--json")
    assert verify.exit_code == 0, verify.output
    report = json.loads(verify.output)
    assert report["ok"] and report["timestamps"]["ok"] == 1
    assert report["timestamps"]["covered_through_seq"] == 3
    assert report["registrations"] == {"total": 3, "covered": 3, "not_yet": []}
    token = report["timestamps"]["tokens"][0]
    assert token["tsa_name"] == "PicGuard Test TSA"
    assert "PicGuard Test TSA Root" in token["root"]
    # A photo registered after the stamp is honestly "not yet" covered.
    assert len(register(store, photos[3:4]).added) == 1
    report = json.loads(_cli(settings, "ledger", "verify", "--json").output)
    assert report["registrations"]["covered"] == 3
    assert report["registrations"]["not_yet"] == ["photo:4"]
    text = _cli(settings, "ledger", "verify").output
    assert "timestamp OK: entry 3" in text
    assert "covered by a trusted third-party timestamp: 3 of 4" in text


def test_unreachable_tsa_waits_with_backoff_and_stamps_when_back(setup, tsa) -> None:
    settings, store, _ = setup
    tsa.offline = True
    result = _cli(settings, "ledger", "stamp")
    assert result.exit_code == 1  # nothing stamped now, and it says it will retry
    assert "503" in result.output and "retries" in result.output
    stamper = Stamper(store, settings)
    (row,) = store.ledger_stamp_queue()
    assert row["attempts"] == 1 and row["seq"] == 3
    wait = (parse_iso(row["next_attempt_at"]) - utcnow()).total_seconds()
    assert RETRY_FIRST_S - 5 < wait <= RETRY_FIRST_S
    before = tsa.requests
    assert stamper.run_scheduled()["stamped"] == 0  # not due yet: no request at all
    assert tsa.requests == before
    assert stamper.run_due(everything=True)["failed"] == 1  # second failure doubles the wait
    (row,) = store.ledger_stamp_queue()
    wait = (parse_iso(row["next_attempt_at"]) - utcnow()).total_seconds()
    assert 2 * RETRY_FIRST_S - 5 < wait <= 2 * RETRY_FIRST_S
    tsa.offline = False
    assert stamper.run_due(everything=True)["stamped"] == 1
    assert store.ledger_stamp_queue() == []
    assert verify_stamps(store, settings.data_dir).covered_seq == 3


def test_scheduled_stamp_is_daily_and_only_when_the_head_moved(setup, tsa) -> None:
    settings, store, photos = setup
    stamper = Stamper(store, settings)
    first = stamper.run_scheduled()
    assert first["stamped"] == 1 and first["queued_seq"] == 3
    assert stamper.run_scheduled()["queued_seq"] is None  # same head: nothing to do
    register(store, photos[3:4])
    assert stamper.run_scheduled()["queued_seq"] is None  # moved, but stamped under a day ago
    settings.stamp_interval_s = 0
    again = stamper.run_scheduled()
    assert again["queued_seq"] == 4 and again["stamped"] == 1
    assert tsa.issued == 2


def test_tampered_token_or_rewritten_head_is_caught(setup) -> None:
    settings, store, _ = setup
    assert _cli(settings, "ledger", "stamp").exit_code == 0
    conn = sqlite3.connect(settings.db_path)
    token = conn.execute("SELECT token FROM ledger_stamps").fetchone()[0]
    forged = bytearray(token)
    forged[-10] ^= 0xFF  # a flipped byte in the signature
    conn.execute("UPDATE ledger_stamps SET token = ?", (bytes(forged),))
    conn.commit()
    result = _cli(settings, "ledger", "verify")
    assert result.exit_code == 1
    assert "timestamp BAD: entry 3" in result.output
    # a token moved onto another head: its imprint no longer matches
    conn.execute("UPDATE ledger_stamps SET token = ?, seq = 2, head_hash = (SELECT entry_hash "
                 "FROM ledger WHERE seq = 2)", (token,))
    conn.commit()
    conn.close()
    report = json.loads(_cli(settings, "ledger", "verify", "--json").output)
    assert not report["ok"] and report["timestamps"]["bad"] == 1
    assert "imprints another hash" in report["timestamps"]["tokens"][0]["message"]
    assert report["registrations"]["covered"] == 0


def test_token_from_an_untrusted_root_does_not_count_as_coverage(setup) -> None:
    settings, store, _ = setup
    assert _cli(settings, "ledger", "stamp").exit_code == 0
    shutil.rmtree(settings.data_dir / TSA_ROOTS_DIR)
    report = verify_stamps(store, settings.data_dir)
    assert [c["status"] for c in report.checks] == ["untrusted"]
    assert "tsa-roots" in report.checks[0]["message"]
    assert not any(c["covered"] for c in coverage(store, report))
    assert _cli(settings, "ledger", "verify").exit_code == 0  # not broken, just not vouched for


def test_stamp_needs_a_ledger_and_a_tsa(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "empty")
    result = _cli(settings, "ledger", "stamp")
    assert result.exit_code == 2 and "ledger is empty" in result.output
    settings.tsa_urls = []
    save_settings(settings)
    result = _cli(settings, "ledger", "stamp")
    assert result.exit_code == 2 and "tsa_urls" in result.output


def test_an_openssl_chain_in_tsa_order_is_put_in_der_order(tsa) -> None:
    """OpenSSL writes the certificate set leaf first; rfc3161-client's strict parser refuses
    that, PicGuard re-orders it without touching anything the TSA signed."""
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder, decode_timestamp_response

    from daemon.provenance.tsa import sort_certificates

    query = TimestampRequestBuilder().data(b"x" * 80).hash_algorithm(HashAlgorithm.SHA256) \
        .build().as_bytes()
    raw = tsa._reply(query)
    with pytest.raises(ValueError, match="InvalidSetOrdering"):
        decode_timestamp_response(raw)
    fixed = sort_certificates(raw)
    assert len(fixed) == len(raw) and fixed != raw
    resp = decode_timestamp_response(fixed)
    assert len(resp.signed_data.certificates) == 2  # the TSA's certificate and its root
    assert sort_certificates(fixed) == fixed
    assert sort_certificates(b"\x30\x03garbage") == b"\x30\x03garbage"
