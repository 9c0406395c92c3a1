"""A real RFC 3161 Time-Stamp Authority on 127.0.0.1 for tests: OpenSSL's `ts -reply`.

`LocalTsa(tmp)` makes a test root CA and a TSA certificate (critical extendedKeyUsage
timeStamping) with `cryptography`, writes an OpenSSL TSA config, and serves
`application/timestamp-query` POSTs from an http.server thread, each answered by
`openssl ts -reply`. `offline = True` makes it answer 503 (a TSA that cannot be reached).
Tokens carry the TSA certificate and its root (`-chain`), leaf first as OpenSSL writes
them: not DER's sorted SET OF, which rfc3161-client's strict parser rejects unless
PicGuard re-orders the set (daemon.provenance.tsa.sort_certificates).
"""

from __future__ import annotations

import http.server
import subprocess
import tempfile
import threading
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.certs import cert_pem, key_pem, root_and_leaf

OPENSSL_CONF = """\
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def make_tsa_certs(folder: Path, cn: str = "PicGuard Test TSA") -> tuple[Path, Path, Path]:
    """(ca.pem, tsa.pem, tsa.key) in `folder`: a root CA and a timeStamping leaf it signed."""
    ca, leaf, key = root_and_leaf(
        "PicGuard Test TSA", f"{cn} Root", cn,
        usage=x509.KeyUsage(True, True, False, False, False, False, False, False, False),
        purpose=ExtendedKeyUsageOID.TIME_STAMPING, purpose_critical=True, days=3650)
    (folder / "ca.pem").write_bytes(cert_pem(ca))
    (folder / "tsa.pem").write_bytes(cert_pem(leaf))
    (folder / "tsa.key").write_bytes(key_pem(key))
    return folder / "ca.pem", folder / "tsa.pem", folder / "tsa.key"


class LocalTsa:
    """An OpenSSL-backed TSA served over HTTP on 127.0.0.1 (use as a context manager)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ca_pem, self.tsa_pem, self.tsa_key = make_tsa_certs(self.folder)
        (self.folder / "serial").write_text("01\n")
        self.conf = self.folder / "openssl-tsa.cnf"
        self.conf.write_text(OPENSSL_CONF.format(dir=self.folder))
        self.offline = False
        self.requests = 0
        self.issued = 0
        self._lock = threading.Lock()
        tsa = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with tsa._lock:
                    tsa.requests += 1
                    if tsa.offline:
                        self.send_error(503, "TSA down")
                        return
                    reply = tsa._reply(body)
                    tsa.issued += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:  # noqa: ANN002 - quiet in tests
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsr"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _reply(self, query: bytes) -> bytes:
        with tempfile.TemporaryDirectory(dir=self.folder) as tmp:
            q, r = Path(tmp) / "q.tsq", Path(tmp) / "r.tsr"
            q.write_bytes(query)
            subprocess.run(["openssl", "ts", "-reply", "-config", str(self.conf),
                            "-queryfile", str(q), "-out", str(r), "-chain", str(self.ca_pem)],
                           check=True, capture_output=True, timeout=30)
            return r.read_bytes()

    def __enter__(self) -> LocalTsa:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
