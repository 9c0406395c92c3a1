"""EXIF facts from real JPEGs and from photos written with known tags."""

from __future__ import annotations

import io

from PIL import Image

from daemon.matching.exif import capture_time, read_exif


def test_real_photo_with_ifd0_datetime(photos_dir) -> None:
    path = photos_dir / "clothing-train/longsleeve/3265bffb-aabf-4a7d-a2f9-a38a0a1d01ff.jpg"
    facts = read_exif(Image.open(path))
    assert facts["exif"]["DateTime"] == "2020:09:14 23:00:19"
    assert facts["taken_at"] is not None and facts["taken_at"].startswith("2020-09-1")
    assert facts["has_gps"] is False


def test_real_photo_without_exif(photos_dir) -> None:
    path = next((photos_dir / "clothing/dress").glob("*.jpg"))
    facts = read_exif(Image.open(path))
    assert facts["taken_at"] is None and facts["camera_make"] is None and facts["exif"] == {}


def _jpeg_with_exif() -> Image.Image:
    exif = Image.Exif()
    exif[0x010F] = "Apple"          # Make
    exif[0x0110] = "iPhone 14 Pro"  # Model
    exif[0x0112] = 6                # Orientation: rotated
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2024:05:20 14:30:00"  # DateTimeOriginal
    sub[0x9011] = "+08:00"               # OffsetTimeOriginal
    exif.get_ifd(0x8825)[1] = "N"        # GPS latitude ref: location present
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(buf, "JPEG", exif=exif)
    return Image.open(io.BytesIO(buf.getvalue()))


def test_camera_time_with_offset_and_gps() -> None:
    facts = read_exif(_jpeg_with_exif())
    assert facts["taken_at"] == "2024-05-20T06:30:00.000Z"  # 14:30 at +08:00
    assert (facts["camera_make"], facts["camera_model"]) == ("Apple", "iPhone 14 Pro")
    assert facts["orientation"] == 6 and facts["has_gps"] is True


def test_malformed_times_are_none() -> None:
    assert capture_time("0000:00:00 00:00:00") is None
    assert capture_time("garbage") is None
    assert capture_time(None) is None
