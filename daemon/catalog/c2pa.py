"""Content credentials (C2PA) of an original, read at registration with `c2pa-python`.

Current phones and cameras (and editing apps) sign a C2PA manifest into the file: who made
it (claim generator), who signed (certificate subject), when it was captured, and whether
the signature and content hashes still hold. When it validates it is the strongest
capture-time evidence a seller has: the camera's signature, not the seller's word.

What is kept (photos.c2pa_json, and `c2pa` in `catalog list --json`):
`{"valid", "trusted", "state", "time", "time_source", "capture_time", "signed_at",
"claim_generator", "signer", "issuer", "title", "digital_source_type", "failures"}`.
`valid` means the manifest's signature and the file's hashes verify; `trusted` that the
signer also chains to a trust list the library knows (none is configured here, so a
genuine camera manifest reads valid but not trusted). `time` is the capture time the
manifest states (a `c2pa.created` action or its EXIF assertion), else its signing time.
"""

from __future__ import annotations

import io
import json
import logging

log = logging.getLogger(__name__)

MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic",
        "AVIF": "image/avif", "TIFF": "image/tiff", "GIF": "image/gif"}
VALID_STATES = {"Valid", "Trusted"}


def _capture_time(manifest: dict) -> tuple[str | None, str | None]:
    """(time, where it came from) as the manifest's assertions state it."""
    for assertion in manifest.get("assertions") or []:
        label, data = assertion.get("label", ""), assertion.get("data") or {}
        if label.startswith("c2pa.actions"):
            for action in data.get("actions") or []:
                if action.get("action") == "c2pa.created" and action.get("when"):
                    return str(action["when"]), "c2pa.created action"
        if label == "stds.exif":
            for key in ("exif:DateTimeOriginal", "exif:DateTimeDigitized"):
                if data.get(key):
                    return str(data[key]), f"EXIF assertion ({key})"
    return None, None


def _source_type(manifest: dict) -> str | None:
    for assertion in manifest.get("assertions") or []:
        if assertion.get("label", "").startswith("c2pa.actions"):
            for action in (assertion.get("data") or {}).get("actions") or []:
                if action.get("digitalSourceType"):
                    return str(action["digitalSourceType"]).rsplit("/", 1)[-1]
    return None


def summarise(store: dict) -> dict | None:
    """The facts PicGuard keeps from a manifest store (the library's JSON), or None."""
    label = store.get("active_manifest")
    manifest = (store.get("manifests") or {}).get(label) if label else None
    if not manifest:
        return None
    state = store.get("validation_state")
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    failures = [f.get("code") for f in results.get("failure") or []]
    if state is None:  # older library JSON: no state field, only a status list
        failures = [s.get("code") for s in store.get("validation_status") or []]
        state = "Invalid" if any(not c.startswith("signingCredential.untrusted")
                                 for c in failures) else "Valid"
    sig = manifest.get("signature_info") or {}
    generators = manifest.get("claim_generator_info") or []
    generator = manifest.get("claim_generator") or " ".join(
        str(g.get(k)) for g in generators[:1] for k in ("name", "version") if g.get(k))
    capture, source = _capture_time(manifest)
    signed_at = sig.get("time")
    return {
        "state": state, "valid": state in VALID_STATES, "trusted": state == "Trusted",
        "time": capture or signed_at,
        "time_source": source or ("signature time" if signed_at else None),
        "capture_time": capture, "signed_at": signed_at,
        "claim_generator": generator or None, "signer": sig.get("common_name"),
        "issuer": sig.get("issuer"), "title": manifest.get("title"),
        "digital_source_type": _source_type(manifest), "failures": failures,
        "manifest": label,
    }


def read_credentials(data: bytes, image_format: str | None) -> dict | None:
    """The content credentials of an image's bytes, or None when it carries no manifest.

    A manifest that is there but broken (edited pixels, bad signature) is reported with
    `valid: false` and the reasons: a seller should know their credentials no longer hold.
    """
    if b"c2pa" not in data:  # every embedded manifest store is a JUMBF box labelled c2pa
        return None
    mime = MIME.get((image_format or "").upper())
    if mime is None:
        return None
    try:
        import c2pa
    except ImportError:  # pragma: no cover - a declared dependency
        log.warning("c2pa-python is not installed: content credentials are not read")
        return None
    try:
        reader = c2pa.Reader.try_create(mime, io.BytesIO(data))
        if reader is None:
            return None
        with reader:
            store = json.loads(reader.json())
    except (c2pa.C2paError, ValueError, OSError) as exc:
        return {"state": "Invalid", "valid": False, "trusted": False, "time": None,
                "time_source": None, "capture_time": None, "signed_at": None,
                "claim_generator": None, "signer": None, "issuer": None, "title": None,
                "digital_source_type": None, "failures": [f"unreadable manifest: {exc}"],
                "manifest": None}
    return summarise(store)


def with_c2pa(photo: dict) -> dict:
    """A photo row for output: `c2pa_json` (text) replaced by `c2pa` (an object or null)."""
    out = dict(photo)
    text = out.pop("c2pa_json", None)
    out["c2pa"] = json.loads(text) if text else None
    return out


def c2pa_label(credentials: dict | None) -> str:
    """A short column for `catalog list`: valid/invalid credentials and who signed."""
    if not credentials:
        return "-"
    mark = "C2PA ok" if credentials["valid"] else "C2PA INVALID"
    return f"{mark} ({credentials.get('signer') or credentials.get('claim_generator') or '?'})"
