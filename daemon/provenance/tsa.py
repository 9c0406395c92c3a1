"""RFC 3161 on the wire and offline: ask a Time-Stamp Authority for a token, check a token.

What is stamped is a ledger entry: the message is `prev_hash (64 hex, ASCII) + body`, so the
token's SHA-256 message imprint is exactly that entry's `entry_hash`. A token therefore says
"this TSA saw entry N, and through the hash chain every entry before it, at gen_time".
The ASN.1 and CMS work is `rfc3161-client`'s; the trust anchors are the Mozilla roots
(certifi) plus any PEM the seller drops into `tsa-roots/` in the data dir (freetsa.org's
root, or a company TSA's).
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests
from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

TSA_ROOTS_DIR = "tsa-roots"
QUERY_TYPE = "application/timestamp-query"
# A TSA reply is a few KB; anything much larger is not one.
MAX_REPLY_BYTES = 256 * 1024


class TsaError(RuntimeError):
    """A TSA could not give a usable token; the message says why in plain words."""


@dataclass(frozen=True)
class Token:
    """A TSA's answer: the DER TimeStampResp (certificate set in DER order), and what it says."""

    der: bytes
    gen_time: str
    serial: str
    tsa_name: str | None


@dataclass
class TokenCheck:
    """The offline check of one token: ok, untrusted (valid signature, unknown root) or bad."""

    status: str
    message: str
    gen_time: str | None = None
    tsa_name: str | None = None
    root: str | None = None


def entry_message(prev_hash: str, body: bytes) -> bytes:
    """The bytes a ledger entry's token imprints: sha256 of them is the entry_hash."""
    return prev_hash.encode("ascii") + body


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tsa_name(resp) -> str | None:  # noqa: ANN001 - rfc3161_client's response type
    try:
        name = resp.tst_info.name
    except Exception:  # noqa: BLE001 - the name is optional in a token
        return None
    value = getattr(name, "value", None)
    if isinstance(value, x509.Name):  # "DigiCert SHA256 RSA4096 Timestamp Responder 2025 1"
        common = value.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        return str(common[0].value) if common else value.rfc4514_string()
    return str(value) if value else None


def _tlv(buf: bytes, i: int) -> tuple[int, int, int]:
    """(tag, content start, end) of the DER element at `i` (low tag numbers only)."""
    tag, first = buf[i], buf[i + 1]
    if first < 0x80:
        return tag, i + 2, i + 2 + first
    n = first & 0x7F
    size = int.from_bytes(buf[i + 2:i + 2 + n], "big")
    if n == 0 or i + 2 + n + size > len(buf):
        raise ValueError("bad DER length")
    return tag, i + 2 + n, i + 2 + n + size


def sort_certificates(der: bytes) -> bytes:
    """The reply with its CMS certificate set in DER order (sorted SET OF).

    OpenSSL-based TSAs write the chain leaf first, which strict DER parsers (rfc3161-client's)
    reject. The set is outside what the TSA signs, and sorting keeps every length, so this
    changes no signature and no other byte. Anything unexpected: returned unchanged.
    """
    buf = bytearray(der)
    try:
        _, i, _ = _tlv(buf, 0)                    # TimeStampResp
        _, _, i = _tlv(buf, i)                    # PKIStatusInfo: skip
        tag, i, _ = _tlv(buf, i)                  # ContentInfo
        _, _, i = _tlv(buf, i)                    # contentType: skip
        _, i, _ = _tlv(buf, i)                    # [0] EXPLICIT content
        _, i, _ = _tlv(buf, i)                    # SignedData
        for _skip in range(3):                    # version, digestAlgorithms, encapContentInfo
            _, _, i = _tlv(buf, i)
        tag, start, end = _tlv(buf, i)            # [0] IMPLICIT certificates, when present
        if tag != 0xA0:
            return der
        items, j = [], start
        while j < end:
            _, _, k = _tlv(buf, j)
            items.append(bytes(buf[j:k]))
            j = k
        if j != end:
            return der
        buf[start:end] = b"".join(sorted(items))
    except (IndexError, ValueError):
        return der
    return bytes(buf)


def request_token(url: str, message: bytes, timeout: float = 15.0,
                  session: requests.Session | None = None) -> Token:
    """Ask the TSA at `url` to stamp `message` (SHA-256 imprint, nonce, its certificates).

    The answer is checked before it is kept: granted, our imprint, our nonce. Raises TsaError.
    """
    req = (TimestampRequestBuilder().data(message).hash_algorithm(HashAlgorithm.SHA256)
           .nonce(nonce=True).cert_request(cert_request=True).build())
    http = session or requests
    try:
        reply = http.post(url, data=req.as_bytes(), headers={"Content-Type": QUERY_TYPE},
                          timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        raise TsaError(f"{url} could not be reached ({type(exc).__name__}); will retry") from exc
    if reply.status_code != 200:
        raise TsaError(f"{url} answered HTTP {reply.status_code}; will retry")
    if len(reply.content) > MAX_REPLY_BYTES:
        raise TsaError(f"{url} sent {len(reply.content)} bytes: not a timestamp reply")
    der = sort_certificates(reply.content)
    try:
        resp = decode_timestamp_response(der)
    except Exception as exc:  # noqa: BLE001 - the parser raises ValueError or its own kinds
        raise TsaError(f"{url} did not send an RFC 3161 reply ({exc})") from exc
    if PKIStatus(resp.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TsaError(f"{url} refused the request (status {resp.status}: "
                       f"{' '.join(resp.status_string) or 'no reason given'})")
    info = resp.tst_info
    if info.message_imprint.message != hashlib.sha256(message).digest():
        raise TsaError(f"{url} stamped something else than what was sent (imprint differs)")
    if info.nonce != req.nonce:
        raise TsaError(f"{url} answered another request (nonce differs)")
    return Token(der, _iso(info.gen_time), format(info.serial_number, "x"),
                 _tsa_name(resp))


def load_roots(data_dir: Path | None = None) -> list[x509.Certificate]:
    """Trust anchors: the Mozilla roots (certifi) and PEM files in DATA_DIR/tsa-roots/."""
    roots: list[x509.Certificate] = []
    try:
        import certifi

        with warnings.catch_warnings():  # a few old Mozilla roots have odd serial numbers
            warnings.simplefilter("ignore")
            roots += x509.load_pem_x509_certificates(Path(certifi.where()).read_bytes())
    except (ImportError, OSError, ValueError):
        pass
    if data_dir is not None:
        for pem in sorted((Path(data_dir) / TSA_ROOTS_DIR).glob("*.pem")):
            try:
                roots += x509.load_pem_x509_certificates(pem.read_bytes())
            except (OSError, ValueError):
                continue  # an unreadable file anchors nothing; verify then says "untrusted"
    return roots


def _verify_with(resp, digest: bytes, roots: list[x509.Certificate]) -> x509.Certificate:  # noqa: ANN001
    """The root that anchored the token (VerificationError when none does)."""
    last: Exception | None = None
    for root in roots:
        try:
            VerifierBuilder(roots=[root]).build().verify(resp, digest)
            return root
        except (VerificationError, ValueError) as exc:
            last = exc
    raise VerificationError(str(last) if last else "no root certificate to check against")


def check_token(der: bytes, entry_hash: str, roots: list[x509.Certificate]) -> TokenCheck:
    """Check a stored token offline against the entry hash it should imprint.

    ok: the imprint is the entry's hash and the TSA's signature chains to a trusted root;
    untrusted: same, but the chain ends in a root not trusted here (add it to tsa-roots/);
    bad: not a token, not this entry, or a signature that does not verify.
    """
    try:
        resp = decode_timestamp_response(der)
        info = resp.tst_info
    except Exception as exc:  # noqa: BLE001
        return TokenCheck("bad", f"not a readable RFC 3161 token ({exc})")
    gen_time, name = _iso(info.gen_time), _tsa_name(resp)
    digest = bytes.fromhex(entry_hash)
    if info.message_imprint.message != digest:
        return TokenCheck("bad", "the token imprints another hash than this ledger entry's",
                          gen_time, name)
    # Try the roots the token's own chain ends in first: far fewer than the whole store.
    embedded = [x509.load_der_x509_certificate(c) for c in resp.signed_data.certificates]
    by_der = {r.tbs_certificate_bytes: r for r in roots}
    trusted = [by_der[c.tbs_certificate_bytes] for c in embedded if c.tbs_certificate_bytes
               in by_der]
    issuers = {c.issuer for c in embedded}
    trusted += [r for r in roots if r.subject in issuers and r not in trusted]
    if not trusted and not any(c.issuer == c.subject for c in embedded):
        issuer = ", ".join(sorted(i.rfc4514_string() for i in issuers)) or "unknown"
        return TokenCheck("untrusted", f"the TSA's certificate was issued by {issuer}, which is "
                          f"not a trusted root here; add its PEM to {TSA_ROOTS_DIR}/ in the data "
                          "dir if you trust it", gen_time, name)
    try:
        root = _verify_with(resp, digest, trusted)
        return TokenCheck("ok", "the TSA's signature verifies to a trusted root", gen_time,
                          name, root.subject.rfc4514_string())
    except VerificationError as trusted_error:
        selfsigned = [c for c in embedded if c.issuer == c.subject]
        try:
            root = _verify_with(resp, digest, selfsigned)
        except VerificationError:
            return TokenCheck("bad", "the TSA's signature does not verify "
                              f"({str(trusted_error)[:160]})",
                              gen_time, name)
        return TokenCheck("untrusted", "the TSA's signature verifies, but to a root that is not "
                          f"trusted here ({root.subject.rfc4514_string()}); add its PEM to "
                          f"{TSA_ROOTS_DIR}/ in the data dir if you trust it", gen_time, name,
                          root.subject.rfc4514_string())
