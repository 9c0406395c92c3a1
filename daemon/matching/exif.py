"""EXIF facts that prove a photo is the seller's: capture time, camera, orientation, GPS."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from PIL import ExifTags, Image

from daemon.timeutil import iso

_TAGS = ExifTags.Base
_DATE_FORMAT = "%Y:%m:%d %H:%M:%S"


def _clean(value: object) -> object:
    """EXIF values as JSON-friendly plain data (bytes and rationals become text/numbers)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").rstrip("\x00").strip()
    if isinstance(value, str):
        return value.rstrip("\x00").strip()
    if isinstance(value, tuple):
        return [_clean(v) for v in value]
    try:
        return float(value) if not isinstance(value, int | float) else value  # IFDRational
    except (TypeError, ValueError):
        return str(value)


def _parse_offset(text: object) -> timezone | None:
    """'+08:00' (OffsetTimeOriginal) as a timezone; None when absent or malformed."""
    if not isinstance(text, str) or len(text) != 6 or text[0] not in "+-":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    sign = 1 if text[0] == "+" else -1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def capture_time(raw: object, offset: object = None) -> str | None:
    """EXIF 'YYYY:MM:DD HH:MM:SS' as ISO UTC; without an offset tag, the machine's local zone.

    Cameras record local wall-clock time; the seller's computer is almost always in the zone
    the photos were shot in, which is the best guess available without OffsetTimeOriginal.
    """
    if not isinstance(raw, str):
        return None
    try:
        dt = datetime.strptime(raw.strip().rstrip("\x00")[:19], _DATE_FORMAT)
    except ValueError:
        return None
    tz = _parse_offset(offset)
    dt = dt.replace(tzinfo=tz) if tz else dt.astimezone()  # naive -> local zone
    return iso(dt)


def read_exif(image: Image.Image) -> dict:
    """The EXIF summary of an opened image: {taken_at, camera_make, camera_model, orientation,
    has_gps, exif: {...selected raw tags}}. Never raises on odd EXIF: missing facts are None."""
    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001 - broken EXIF blocks are common; they only lose facts
        exif = Image.Exif()
    try:
        sub = exif.get_ifd(ExifTags.IFD.Exif)
    except Exception:  # noqa: BLE001
        sub = {}
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:  # noqa: BLE001
        gps = {}
    raw_time = sub.get(_TAGS.DateTimeOriginal) or sub.get(_TAGS.DateTimeDigitized)
    offset = sub.get(_TAGS.OffsetTimeOriginal) or sub.get(_TAGS.OffsetTime)
    taken_at = capture_time(raw_time, offset)
    if taken_at is None:  # some phones only fill IFD0 DateTime
        taken_at = capture_time(exif.get(_TAGS.DateTime), offset)
    summary = {
        "DateTimeOriginal": sub.get(_TAGS.DateTimeOriginal),
        "OffsetTimeOriginal": offset,
        "DateTime": exif.get(_TAGS.DateTime),
        "Make": exif.get(_TAGS.Make),
        "Model": exif.get(_TAGS.Model),
        "Software": exif.get(_TAGS.Software),
        "LensModel": sub.get(_TAGS.LensModel),
        "ExposureTime": sub.get(_TAGS.ExposureTime),
        "FNumber": sub.get(_TAGS.FNumber),
        "ISOSpeedRatings": sub.get(_TAGS.ISOSpeedRatings),
        "BodySerialNumber": sub.get(_TAGS.BodySerialNumber),
        "PixelXDimension": sub.get(_TAGS.ExifImageWidth),
        "PixelYDimension": sub.get(_TAGS.ExifImageHeight),
    }
    orientation = exif.get(_TAGS.Orientation)
    make, model = _clean(exif.get(_TAGS.Make)), _clean(exif.get(_TAGS.Model))
    return {
        "taken_at": taken_at,
        "camera_make": make or None,
        "camera_model": model or None,
        "orientation": int(orientation) if isinstance(orientation, int) else None,
        "has_gps": bool(gps),
        "exif": {k: _clean(v) for k, v in summary.items() if v is not None},
    }
