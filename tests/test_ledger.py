"""The provenance ledger: signed hash chain, tamper detection, stock-tool checks, witness."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daemon.catalog.registration import register
from daemon.cli import main as cli
from daemon.config import load_settings
from daemon.monitor.notify import daily_witness
from daemon.provenance.chain import (
    GENESIS_HASH,
    KEY_FILE,
    KIND_KEY,
    KIND_REGISTER,
    canonical,
    entry_body,
)
from daemon.provenance.ledger import Ledger, note_first_seen
from daemon.store import Store
from tests.daemon_support import Receiver


def _store(data_dir: Path) -> Store:
    return Store(data_dir / "picguard.sqlite3")


def _fake_photos(store: Store, n: int, start: int = 0) -> list[int]:
    """Catalog rows without files: the ledger only needs the rows (fast, for many cases)."""
    ids = []
    for i in range(start, start + n):
        photo = {"sha256": hashlib.sha256(f"photo {i}".encode()).hexdigest(),
                 "path": f"/nowhere/{i}.jpg", "file_name": f"{i}.jpg", "size_bytes": 100 + i,
                 "has_gps": 0}
        photo_id, _ = store.add_photo(photo, f"fingerprint {i}".encode(), None, 1)
        ids.append(photo_id)
    return ids


def _ledger_with(data_dir: Path, n: int) -> tuple[Store, Ledger]:
    store = _store(data_dir)
    ledger = Ledger.for_store(store)
    for photo_id in _fake_photos(store, n):
        ledger.record_registration(photo_id)
    return store, ledger


def _tamper(data_dir: Path, *statements: str) -> None:
    """What an attacker with the database file does: drop the guards, change rows."""
    with sqlite3.connect(data_dir / "picguard.sqlite3") as conn:
        conn.execute("DROP TRIGGER IF EXISTS ledger_no_update")
        conn.execute("DROP TRIGGER IF EXISTS ledger_no_delete")
        for sql in statements:
            conn.execute(sql)


def _verify_cli(data_dir: Path, *args: str):
    return CliRunner().invoke(cli, ["ledger", "verify", "--data-dir", str(data_dir), *args])


# ---- appending ------------------------------------------------------------------------------

def test_registration_appends_one_signed_entry_per_photo(data_dir, photos_dir) -> None:
    store = _store(data_dir)
    files = sorted((photos_dir / "clothing/hat").glob("*.jpg"))[:3]
    report = register(store, files, shoot="hats")
    assert len(report.added) == 3
    register(store, files[:1])  # a duplicate registers nothing, so appends nothing
    entries = list(store.ledger_entries())
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert entries[0]["prev_hash"] == GENESIS_HASH
    for entry, path, added in zip(entries, files, report.added, strict=True):
        assert entry["kind"] == KIND_REGISTER and entry["subject"] == f"photo:{added['id']}"
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        blob = store.photo_fingerprint_blob(added["id"])
        assert entry["fp_digest"] == hashlib.sha256(blob).hexdigest()
        ref = json.loads(entry["ref"])
        assert ref["file_name"] == path.name and ref["shoot"] == "hats"
    for before, after in zip(entries, entries[1:], strict=False):
        assert after["prev_hash"] == before["entry_hash"]
    assert (data_dir / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert Ledger.for_store(store).verify().ok


def test_entries_check_with_stock_tools(data_dir, tmp_path) -> None:
    """hashlib recomputes each hash; openssl verifies each signature with the exported key."""
    store, _ = _ledger_with(data_dir, 2)
    pem = tmp_path / "key.pem"
    pem.write_text(next(iter(store.ledger_keys().values())))
    for row in store.ledger_entries():
        body = entry_body(row)
        assert body == canonical(json.loads(body))  # canonical: sorted keys, no spaces
        assert b" " not in body.replace(b"photo ", b"")
        assert hashlib.sha256(row["prev_hash"].encode() + body).hexdigest() == row["entry_hash"]
        (tmp_path / "msg").write_text(row["entry_hash"])
        (tmp_path / "sig").write_bytes(base64.b64decode(row["signature"]))
        proc = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(pem),
                               "-rawin", "-in", str(tmp_path / "msg"),
                               "-sigfile", str(tmp_path / "sig")], capture_output=True, text=True)
        assert proc.returncode == 0 and "Verified Successfully" in proc.stdout


def test_triggers_refuse_casual_edits(data_dir) -> None:
    store, _ = _ledger_with(data_dir, 2)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store._conn().execute("UPDATE ledger SET kind = 'x' WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store._conn().execute("DELETE FROM ledger WHERE seq = 2")


def test_concurrent_appends_never_fork_the_chain(data_dir) -> None:
    store = _store(data_dir)
    ids = _fake_photos(store, 40)
    Ledger.for_store(store).signer()  # the key exists before the race

    def worker(chunk: list[int]) -> None:
        ledger = Ledger.for_store(store)  # one per worker, as the pipeline's threads do
        for photo_id in chunk:
            ledger.record_registration(photo_id)

    threads = [threading.Thread(target=worker, args=(ids[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [e["seq"] for e in store.ledger_entries()] == list(range(1, 41))
    report = Ledger.for_store(store).verify()
    assert report.ok and report.entries == 40


def test_first_sighting_is_recorded_once(data_dir) -> None:
    store = _store(data_dir)
    saved = store.save_listing(
        {"marketplace": "aliexpress", "status": "ok", "store_id": "77", "product_id": "1",
         "images": [{"key": "cdn/kf/S1", "url": "https://cdn.example/kf/S1.jpg"}]},
        listing_key="aliexpress:item:1", url="https://www.aliexpress.com/item/1.html",
        source="extension")
    image_id = store.images_by_keys(["cdn/kf/S1"])["cdn/kf/S1"]["id"]
    meta = {"sha256": "ab" * 32, "content_type": "image/jpeg", "size_bytes": 10,
            "etag": '"e1"', "last_modified": "Tue, 02 Jan 2024 03:04:05 GMT"}
    for _ in range(2):  # a rescan fetches it again: still one first sighting
        store.image_fetched(image_id, meta, b"fp", 1, b"thumb")
        note_first_seen(store, image_id)
    entries = store.ledger_entries_for([f"image:{image_id}"])
    assert len(entries) == 1 and saved["images_new"] == 1
    ref = json.loads(entries[0]["ref"])
    assert ref["url"] == "https://cdn.example/kf/S1.jpg" and ref["etag"] == '"e1"'
    assert ref["listing"]["store_id"] == "77"
    assert entries[0]["fp_digest"] == hashlib.sha256(b"fp").hexdigest()


def test_backfill_covers_photos_from_before_the_ledger(data_dir) -> None:
    store = _store(data_dir)
    ids = _fake_photos(store, 3)  # registered without the hook, like an older database
    head = Ledger.for_store(store).head()
    assert head["seq"] == 3
    refs = [json.loads(e["ref"]) for e in store.ledger_entries()]
    assert [r["photo_id"] for r in refs] == ids and all(r["backfilled"] for r in refs)
    assert Ledger.for_store(store).head()["seq"] == 3  # nothing twice


def test_a_lost_key_is_replaced_visibly(data_dir) -> None:
    store, ledger = _ledger_with(data_dir, 2)
    (data_dir / KEY_FILE).unlink()
    fresh = Ledger.for_store(store)
    fresh.record_registration(_fake_photos(store, 1, start=10)[0])
    kinds = [e["kind"] for e in store.ledger_entries()]
    assert kinds == [KIND_REGISTER, KIND_REGISTER, KIND_KEY, KIND_REGISTER]
    assert len(store.ledger_keys()) == 2
    assert fresh.verify().ok  # old entries still verify with the old public key


def test_an_unreadable_key_is_a_plain_error_and_never_blocks_registration(
        data_dir, photos_dir) -> None:
    store = _store(data_dir)
    (data_dir / KEY_FILE).write_text("not a key")
    photo = sorted((photos_dir / "clothing/hat").glob("*.jpg"))[0]
    assert len(register(store, [photo]).added) == 1  # the photo is registered all the same
    assert store.ledger_count() == 0
    result = CliRunner().invoke(cli, ["ledger", "head", "--data-dir", str(data_dir)])
    assert result.exit_code == 2
    assert "not a readable Ed25519 key" in result.output and "backup" in result.output


# ---- tampering ------------------------------------------------------------------------------

def test_verify_catches_an_edited_entry(data_dir) -> None:
    _ledger_with(data_dir, 5)
    _tamper(data_dir, "UPDATE ledger SET time = '2020-01-01T00:00:00.000Z' WHERE seq = 3")
    result = _verify_cli(data_dir)
    assert result.exit_code == 1
    assert "BROKEN at entry 3" in result.output and "changed after it was written" in result.output
    report = Ledger.for_store(_store(data_dir)).verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(3, "edited")]


def test_verify_catches_a_deleted_entry(data_dir) -> None:
    _ledger_with(data_dir, 5)
    _tamper(data_dir, "DELETE FROM ledger WHERE seq = 3")
    report = Ledger.for_store(_store(data_dir)).verify()
    assert report.problems[0].seq == 3 and report.problems[0].kind == "missing"
    assert "entry 3 is missing" in report.problems[0].message
    assert "BROKEN at entry 3" in _verify_cli(data_dir).output


def test_verify_catches_a_deleted_and_renumbered_entry(data_dir) -> None:
    _ledger_with(data_dir, 5)
    _tamper(data_dir, "DELETE FROM ledger WHERE seq = 3",
            "UPDATE ledger SET seq = seq - 1 WHERE seq > 3")
    report = Ledger.for_store(_store(data_dir)).verify()
    kinds = {(p.seq, p.kind) for p in report.problems}
    assert report.problems[0].seq == 3 and (3, "missing") in kinds
    assert (5, "missing") in kinds  # the head recorded at the last append is gone too


def test_verify_catches_a_cut_off_tail(data_dir) -> None:
    _ledger_with(data_dir, 4)
    _tamper(data_dir, "DELETE FROM ledger WHERE seq = 4")
    report = Ledger.for_store(_store(data_dir)).verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(4, "missing")]
    assert "the last append wrote entry 4" in report.problems[0].message


def test_verify_catches_reordered_entries(data_dir) -> None:
    _ledger_with(data_dir, 5)
    _tamper(data_dir, "UPDATE ledger SET seq = -2 WHERE seq = 2",
            "UPDATE ledger SET seq = 2 WHERE seq = 3", "UPDATE ledger SET seq = 3 WHERE seq = -2")
    report = Ledger.for_store(_store(data_dir)).verify()
    # 2 and 3 each sit after the wrong entry, and so does 4 (it was written after 3)
    assert [(p.seq, p.kind) for p in report.problems] == [
        (2, "reordered"), (3, "reordered"), (4, "reordered")]
    assert "written right after the entry now at 3" in report.problems[0].message
    assert "reordered" in _verify_cli(data_dir).output


def test_verify_catches_a_wrong_signature(data_dir) -> None:
    store, _ = _ledger_with(data_dir, 4)
    row = next(e for e in store.ledger_entries() if e["seq"] == 2)
    forged = base64.b64encode(Ed25519PrivateKey.generate().sign(
        row["entry_hash"].encode())).decode()  # a valid signature, by someone else's key
    _tamper(data_dir, f"UPDATE ledger SET signature = '{forged}' WHERE seq = 2")
    report = Ledger.for_store(_store(data_dir)).verify()
    assert [(p.seq, p.kind) for p in report.problems] == [(2, "bad_signature")]
    assert "wrong signature" in _verify_cli(data_dir).output


def test_an_edit_with_a_recomputed_hash_still_fails_the_signature(data_dir) -> None:
    """Without the private key, re-hashing an edited entry cannot make it verify."""
    store, _ = _ledger_with(data_dir, 3)
    row = next(e for e in store.ledger_entries() if e["seq"] == 2)
    row["time"] = "2019-01-01T00:00:00.000Z"
    new_hash = hashlib.sha256(row["prev_hash"].encode() + entry_body(row)).hexdigest()
    _tamper(data_dir, f"UPDATE ledger SET time = '{row['time']}', entry_hash = '{new_hash}' "
                      "WHERE seq = 2")
    report = Ledger.for_store(_store(data_dir)).verify()
    assert report.problems[0].seq == 2 and report.problems[0].kind == "bad_signature"
    assert any(p.seq == 3 for p in report.problems)  # entry 3 no longer links to it


FIELDS = {"time": "'2000-01-01T00:00:00.000Z'", "kind": "'image.first_seen'",
          "subject": "'photo:999'", "sha256": "'" + "0" * 64 + "'",
          "fp_digest": "NULL", "ref": "'{\"photo_id\":999}'", "key_id": "'0000000000000000'",
          "prev_hash": "'" + "1" * 64 + "'", "entry_hash": "'" + "2" * 64 + "'",
          "signature": "'AAAA'"}


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=st.integers(1, 6), column=st.sampled_from(sorted(FIELDS)))
def test_any_single_field_edit_is_caught_at_its_entry(tmp_path_factory, seq, column) -> None:
    data_dir = tmp_path_factory.mktemp("ledger")
    _ledger_with(data_dir, 6)
    _tamper(data_dir, f"UPDATE ledger SET {column} = {FIELDS[column]} WHERE seq = {seq}")
    report = Ledger.for_store(_store(data_dir)).verify()
    assert not report.ok and report.problems[0].seq == seq
    shutil.rmtree(data_dir)


# ---- head and external witness --------------------------------------------------------------

def test_witness_sends_the_head_and_verify_checks_it(data_dir) -> None:
    store, ledger = _ledger_with(data_dir, 3)
    receiver = Receiver()
    try:
        runner = CliRunner()
        assert runner.invoke(cli, ["config", "add-notify", receiver.url,
                                   "--data-dir", str(data_dir)]).exit_code == 0
        result = runner.invoke(cli, ["ledger", "witness", "--data-dir", str(data_dir)])
        assert result.exit_code == 0, result.output
    finally:
        receiver.stop()
    head = store.ledger_head()
    assert len(receiver.bodies) == 1
    message = receiver.bodies[0]  # Apprise's json:// carries {title, message}
    assert head["entry_hash"] in message["message"] and f"#{head['seq']}" in message["title"]
    assert "请保留这条消息" in message["message"] and "Keep this message" in message["message"]
    assert store.last_ledger_witness()["head_hash"] == head["entry_hash"]
    # a day has not passed: the scheduler's run sends nothing more
    assert ledger.witness(["json://127.0.0.1:1/"], lambda *a: None, force=False)["sent"] is False
    expect = f"{head['seq']}:{head['entry_hash']}"
    ok = _verify_cli(data_dir, "--expect", expect)
    assert ok.exit_code == 0 and "2 witnessed head(s) match" in ok.output  # sent + given
    # after a rewrite of the witnessed entry, the mailed head no longer matches
    _tamper(data_dir, "DELETE FROM ledger_witness",
            f"UPDATE ledger SET entry_hash = '{'f' * 64}' WHERE seq = {head['seq']}")
    broken = _verify_cli(data_dir, "--expect", expect)
    assert broken.exit_code == 1 and "given to verify" in broken.output


def test_the_daily_witness_sends_once_a_day_when_the_chain_grew(data_dir) -> None:
    store, ledger = _ledger_with(data_dir, 2)
    settings = load_settings(data_dir)
    assert daily_witness(store, settings) == {
        "sent": False, "reason": "no notification channels configured"}
    receiver = Receiver()
    try:
        settings.notify_urls = [receiver.url]
        assert daily_witness(store, settings)["sent"] is True  # never witnessed: send now
        ledger.record_registration(_fake_photos(store, 1, start=5)[0])
        assert daily_witness(store, settings)["reason"] == "witnessed recently"
        _tamper(data_dir, "UPDATE ledger_witness SET sent_at = '2020-01-01T00:00:00.000Z'")
        assert daily_witness(store, settings)["sent"] is True  # a day later, grown: send
        assert daily_witness(store, settings)["sent"] is False  # unchanged head: no noise
    finally:
        receiver.stop()
    assert [w["seq"] for w in store.ledger_witnesses()] == [2, 3]
    assert len(receiver.bodies) == 2


def test_head_and_witness_cli_in_plain_words(data_dir) -> None:
    runner = CliRunner()
    empty = runner.invoke(cli, ["ledger", "head", "--data-dir", str(data_dir)])
    assert empty.exit_code == 2 and "the ledger is empty" in empty.output
    _ledger_with(data_dir, 2)
    head = runner.invoke(cli, ["ledger", "head", "--json", "--data-dir", str(data_dir)])
    assert head.exit_code == 0 and json.loads(head.output)["seq"] == 2
    text = runner.invoke(cli, ["ledger", "head", "--data-dir", str(data_dir)]).output
    assert "seq: 2" in text and "picguard ledger verify --expect 2:" in text
    nowhere = runner.invoke(cli, ["ledger", "witness", "--data-dir", str(data_dir)])
    assert nowhere.exit_code == 2 and "no notification channels" in nowhere.output
    bad = _verify_cli(data_dir, "--expect", "two:abc")
    assert bad.exit_code == 2 and "SEQ:HASH" in bad.output
