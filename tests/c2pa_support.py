"""Signing test images with real C2PA manifests (c2pa-python), under a test CA made here.

`sign_jpeg(src_bytes, dest, when=...)` writes a JPEG carrying a manifest whose
`c2pa.created` action says it was captured at `when`, signed ES256 by a "Test Camera"
certificate issued by a throwaway root (made with `cryptography`, as a camera maker's
would be). The library validates such a file as `Valid` (signature and hashes hold) but
not `Trusted` (the root is on no trust list).
"""

from __future__ import annotations

import io
from pathlib import Path

import c2pa
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.certs import cert_pem, key_pem, root_and_leaf


def camera_signer() -> tuple[bytes, bytes]:
    """(certificate chain PEM, private key PEM) of a camera signing certificate and its root."""
    ca, leaf, key = root_and_leaf(
        "PicGuard Test Camera Co", "Test Camera Root", "Test Camera",
        usage=x509.KeyUsage(True, False, False, False, False, False, False, False, False),
        purpose=ExtendedKeyUsageOID.EMAIL_PROTECTION, purpose_critical=False)
    return cert_pem(leaf) + cert_pem(ca), key_pem(key)


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
