"""`picguard serve`: the app under waitress on 127.0.0.1, with the scheduler, stopped cleanly."""

from __future__ import annotations

import dataclasses
import logging
import signal
import socket
import sys
from collections.abc import Callable

import waitress

from daemon.config import Settings
from daemon.monitor.parsepool import ParsePool
from daemon.store.faults import damaged_message, quick_check
from daemon.web.app import create_app
from daemon.web.instance import DataDirLock
from daemon.web.tokens import load_or_create_token

log = logging.getLogger(__name__)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class _Stop(KeyboardInterrupt):
    """Raised in the main thread by SIGTERM so `serve` unwinds like on Ctrl-C.

    A KeyboardInterrupt on purpose: waitress's event loop re-raises only those (and
    SystemExit); a plain Exception raised while it closes a connection is logged and
    swallowed, and the daemon would go on running after being told to stop."""


def _bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port (port 0: any free port), not yet listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows: never share a port with another
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
    else:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("localhost" if host == "localhost" else host, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve(settings: Settings, announce: Callable[[str], None] = print) -> None:
    """Run until Ctrl-C or SIGTERM; then stop the scheduler (letting a running job finish)."""
    if settings.host not in LOOPBACK:
        raise ValueError(
            f"PicGuard only listens on this computer (127.0.0.1), not on {settings.host!r}: "
            "any web page could otherwise reach it")
    # Bind first: with --port 0 the OS picks the port, and the app (whose Host check needs
    # the real port) is then built from settings that say it, never patched afterwards.
    lock = DataDirLock(settings.data_dir).acquire()  # one daemon per data dir (web.instance)
    problem = quick_check(settings.db_path)  # a damaged file is refused, never written to
    if problem:
        lock.release()
        raise ValueError(damaged_message(settings.db_path, problem))
    try:
        sock = _bind(settings.host, settings.port)
    except OSError:
        lock.release()
        raise
    settings = dataclasses.replace(settings, port=sock.getsockname()[1])
    lock.describe(settings.host, settings.port)
    app = create_app(settings)
    parts = app.extensions["picguard"]
    server = waitress.create_server(app, sockets=[sock], threads=8, ident="picguard",
                                    clear_untrusted_proxy_headers=True)
    token = load_or_create_token(settings.token_path)
    monitor = parts["monitor"]
    # pushed pages are parsed in worker processes, so concurrent pushes use every core
    parse_pool = parts["parse_pool"] = ParsePool().start()

    def _on_term(signum, frame):  # noqa: ANN001 - signal handler signature
        # once stopping, a second SIGTERM must not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise _Stop()

    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _on_term)
        monitor.start()
        announce(f"PicGuard is running at http://127.0.0.1:{settings.port}/")
        announce(f"Pairing token (paste into the extension's options): {token}")
        # the token rides in the fragment: browsers never send it to a server or into a log
        announce(f"Dashboard: http://127.0.0.1:{settings.port}/#token={token}")
        announce(f"Data dir: {settings.data_dir}")
        announce("Press Ctrl-C to stop.")
        sys.stdout.flush()
        server.run()  # returns (not raises) when waitress itself caught the interrupt
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM as _Stop, outside waitress's loop
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        announce("Stopping: finishing the running job...")
        monitor.stop(wait=True)
        server.close()
        parse_pool.close()
        parts["pipeline"].store.close()
        signal.signal(signal.SIGTERM, previous)
        lock.release()
        announce("PicGuard stopped.")
