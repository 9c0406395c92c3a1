"""`picguard serve`: the app under waitress on 127.0.0.1, with the scheduler, stopped cleanly."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable

import waitress

from daemon.config import Settings
from daemon.web.app import create_app
from daemon.web.tokens import load_or_create_token

log = logging.getLogger(__name__)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class _Stop(Exception):
    """Raised in the main thread by SIGTERM so `serve` unwinds like on Ctrl-C."""


def serve(settings: Settings, announce: Callable[[str], None] = print) -> None:
    """Run until Ctrl-C or SIGTERM; then stop the scheduler (letting a running job finish)."""
    if settings.host not in LOOPBACK:
        raise ValueError(
            f"PicGuard only listens on this computer (127.0.0.1), not on {settings.host!r}: "
            "any web page could otherwise reach it")
    app = create_app(settings)
    parts = app.extensions["picguard"]
    server = waitress.create_server(app, host=settings.host, port=settings.port, threads=8,
                                    ident="picguard", clear_untrusted_proxy_headers=True)
    settings.port = server.effective_port  # --port 0 picks a free port; the Host check follows
    token = load_or_create_token(settings.token_path)
    monitor = parts["monitor"]

    def _on_term(signum, frame):  # noqa: ANN001 - signal handler signature
        raise _Stop()

    previous = signal.signal(signal.SIGTERM, _on_term)
    monitor.start()
    announce(f"PicGuard is running at http://127.0.0.1:{settings.port}/")
    announce(f"Pairing token (paste into the extension's options): {token}")
    announce(f"Data dir: {settings.data_dir}")
    announce("Press Ctrl-C to stop.")
    sys.stdout.flush()
    try:
        server.run()
    except (KeyboardInterrupt, _Stop):
        announce("Stopping: finishing the running job...")
    finally:
        monitor.stop(wait=True)
        server.close()
        parts["pipeline"].store.close()
        signal.signal(signal.SIGTERM, previous)
        announce("PicGuard stopped.")
