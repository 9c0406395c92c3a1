"""Signing test images with real C2PA manifests (c2pa-python), under a test CA made here.

`sign_jpeg(src_bytes, dest, when=...)` writes a JPEG carrying a manifest whose
`c2pa.created` action says it was captured at `when`, signed ES256 by a "Test Camera"
certificate issued by a throwaway root (made with `cryptography`, as a camera maker's
would be). The library validates such a file as `Valid` (signature and hashes hold) but
not `Trusted` (the root is on no trust list).
"""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PicGuard Test Camera Co")])


def camera_signer() -> tuple[bytes, bytes]:
    """(certificate chain PEM, private key PEM) of a camera signing certificate and its root."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("Test Camera Root"))
          .issuer_name(_name("Test Camera Root")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(_name("Test Camera")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                         False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    chain = leaf.public_bytes(pem) + ca.public_bytes(pem)
    return chain, key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())


def sign_jpeg(src: bytes, dest: Path, when: str = "2024-03-04T05:06:07Z") -> Path:
    """Write `src` (JPEG bytes) to `dest` with a signed C2PA manifest saying it was captured
    at `when` by "TestCam 1.0"."""
    chain, key = camera_signer()
    manifest = {
        "claim_generator_info": [{"name": "TestCam", "version": "1.0"}],
        "title": dest.name, "format": "image/jpeg",
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [{
            "action": "c2pa.created", "when": when,
            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
        }]}}],
    }
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, key,
                                                       None))
    out = io.BytesIO()
    with c2pa.Builder(manifest) as builder:
        builder.sign(signer, "image/jpeg", io.BytesIO(src), out)
    dest.write_bytes(out.getvalue())
    return dest
