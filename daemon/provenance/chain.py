"""The ledger's format and key: canonical entry bodies, the hash chain, the Ed25519 signer.

Kept apart from `ledger.py` (appending, verifying, witnessing) so that an offline checker
needs only these few functions.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from daemon.files import atomic_write

LEDGER_VERSION = 1
GENESIS_HASH = "0" * 64
KEY_FILE = "ledger-ed25519.pem"
KIND_REGISTER = "catalog.register"
KIND_FIRST_SEEN = "image.first_seen"
KIND_KEY = "ledger.key"


class LedgerError(RuntimeError):
    """The ledger cannot be used (key unreadable, nothing to sign); the message says what to do."""


# ---- the format ---------------------------------------------------------------------------

def canonical(obj: object) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8. The exact bytes that get hashed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def entry_body(row: dict) -> bytes:
    """The canonical body of a stored entry (ValueError when its ref is not JSON)."""
    return canonical({
        "v": row["version"], "time": row["time"], "kind": row["kind"],
        "subject": row["subject"], "sha256": row["sha256"], "fingerprint": row["fp_digest"],
        "ref": json.loads(row["ref"]), "key": row["key_id"],
    })


def chain_hash(prev_hash: str, body: bytes) -> str:
    """sha256 over the previous entry's hash (hex ASCII) followed by the body bytes."""
    return hashlib.sha256(prev_hash.encode("ascii") + body).hexdigest()


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """A short id for a public key: the first 16 hex digits of sha256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def verify_signature(public_key: Ed25519PublicKey, entry_hash: str, signature: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature, validate=True), entry_hash.encode("ascii"))
    except (InvalidSignature, ValueError):
        return False
    return True


def digest(blob: bytes | None) -> str | None:
    """The fingerprint digest stored in entries: sha256 of the fingerprint blob."""
    return hashlib.sha256(blob).hexdigest() if blob else None


# ---- the key --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Signer:
    """This installation's signing key with its id and public PEM."""

    key: Ed25519PrivateKey
    key_id: str
    public_pem: str

    def sign(self, entry_hash: str) -> str:
        return base64.b64encode(self.key.sign(entry_hash.encode("ascii"))).decode("ascii")


def load_or_create_key(data_dir: Path) -> Signer:
    """The installation's Ed25519 key from the data dir, made on first use (PEM, mode 0600).

    Creation writes a temp file and hard-links it into place, so two processes starting at
    once never see half a key and exactly one key wins.
    """
    path = Path(data_dir) / KEY_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            with atomic_write(path, private=True, exclusive=True) as f:
                f.write(pem)
        except FileExistsError:  # another process made the key first: use theirs
            return load_or_create_key(data_dir)
        except OSError as exc:
            raise LedgerError(f"cannot create the ledger key {path}: {exc.strerror}; check the "
                              "data dir is writable") from exc
        return _signer(key)
    except OSError as exc:
        raise LedgerError(f"cannot read the ledger key {path}: {exc.strerror}; check its "
                          "permissions") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise LedgerError(
            f"{path} is not a readable Ed25519 key; restore it from your backup, or move it "
            "away to start a new key (entries signed by the old key stay verifiable)") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise LedgerError(f"{path} is not an Ed25519 key; restore the right file or move it away")
    return _signer(key)


def _signer(key: Ed25519PrivateKey) -> Signer:
    pub = key.public_key()
    return Signer(key, key_id_of(pub), public_pem(pub))
