"""Content credentials (C2PA) read at registration: a file signed here with a real manifest
(c2pa-python, a test camera certificate made with `cryptography`), the same file with its
pixels altered after signing, and a plain photo, through `picguard catalog add|list`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from daemon.catalog.c2pa import read_credentials, summarise
from daemon.cli import main as cli
from tests.c2pa_support import sign_jpeg

DEMO = Path(__file__).resolve().parent.parent / "daemon" / "demo" / "data" / "photos"


@pytest.fixture()
def photos(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "camera"
    folder.mkdir()
    signed = sign_jpeg((DEMO / "shirt.jpg").read_bytes(), folder / "signed.jpg",
                       when="2024-03-04T05:06:07Z")
    # An edit after signing that keeps the JPEG decodable: a comment segment's text changes.
    buf = io.BytesIO()
    Image.open(DEMO / "pants.jpg").save(buf, "JPEG", quality=90, comment=b"original " * 4)
    data = sign_jpeg(buf.getvalue(), folder / "x.jpg").read_bytes()
    assert data.count(b"original " * 4) == 1
    (folder / "x.jpg").unlink()
    tampered = folder / "tampered.jpg"
    tampered.write_bytes(data.replace(b"original " * 4, b"edited!! " * 4))
    plain = folder / "plain.jpg"
    plain.write_bytes((DEMO / "shoes.jpg").read_bytes())
    return {"signed": signed, "tampered": tampered, "plain": plain}


def test_catalog_records_and_lists_content_credentials(photos, tmp_path: Path) -> None:
    args = ["--data-dir", str(tmp_path / "data")]
    added = CliRunner().invoke(cli, [*args, "catalog", "add", *map(str, photos.values()),
                                     "--json"])
    assert added.exit_code == 0, added.output
    assert len(json.loads(added.stdout)["added"]) == 3
    listed = CliRunner().invoke(cli, [*args, "catalog", "list", "--json"])
    rows = {r["file_name"]: r for r in map(json.loads, listed.stdout.splitlines())}
    good = rows["signed.jpg"]["c2pa"]
    assert good["valid"] is True and good["trusted"] is False and good["state"] == "Valid"
    assert good["time"] == "2024-03-04T05:06:07Z"
    assert good["time_source"] == "c2pa.created action"
    assert good["claim_generator"] == "TestCam 1.0"
    assert good["signer"] == "Test Camera" and good["issuer"] == "PicGuard Test Camera Co"
    assert good["digital_source_type"] == "digitalCapture"
    bad = rows["tampered.jpg"]["c2pa"]
    assert bad["valid"] is False and bad["state"] == "Invalid"
    assert "assertion.dataHash.mismatch" in bad["failures"]
    assert rows["plain.jpg"]["c2pa"] is None
    assert "c2pa_json" not in rows["plain.jpg"]
    text = CliRunner().invoke(cli, [*args, "catalog", "list"]).output
    line = next(x for x in text.splitlines() if "signed.jpg" in x)
    assert "[C2PA ok (Test Camera)]" in line
    assert "[C2PA INVALID" in next(x for x in text.splitlines() if "tampered.jpg" in x)


def test_summary_prefers_the_stated_capture_time_then_the_signing_time() -> None:
    store = {"active_manifest": "m", "validation_state": "Trusted", "manifests": {"m": {
        "claim_generator": "Phone Camera/2.1", "title": "IMG_1.jpg",
        "signature_info": {"common_name": "Phone Maker", "issuer": "Phone CA",
                           "time": "2024-06-01T10:00:00+00:00"},
        "assertions": [{"label": "stds.exif",
                        "data": {"exif:DateTimeOriginal": "2024-06-01T09:59:58Z"}}]}}}
    got = summarise(store)
    assert got["trusted"] and got["valid"]
    assert got["time"] == "2024-06-01T09:59:58Z"
    assert got["time_source"] == "EXIF assertion (exif:DateTimeOriginal)"
    assert got["signed_at"] == "2024-06-01T10:00:00+00:00"
    store["manifests"]["m"]["assertions"] = []
    assert summarise(store)["time"] == "2024-06-01T10:00:00+00:00"
    assert summarise(store)["time_source"] == "signature time"
    assert summarise({"manifests": {}}) is None


def test_files_without_a_manifest_are_not_parsed(photos) -> None:
    assert read_credentials(photos["plain"].read_bytes(), "JPEG") is None
    assert read_credentials(b"c2pa but not an image", "JPEG") is None or \
        read_credentials(b"c2pa but not an image", "JPEG")["valid"] is False
