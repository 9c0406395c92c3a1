"""Parsing pushed pages in worker processes, so concurrent pushes use every core.

Parsing a large listing page is pure-Python work (about two thirds of a push's CPU) and holds
the GIL: in one process, 16 pushes at once queue behind each other on one core. `serve`
hands ingest a ParsePool; each parse runs in one of a few spawned worker processes (spawn:
the same on Linux, macOS and Windows), and the daemon's threads only wait. A pool that
breaks (a worker killed) is replaced, and the page is parsed in-process meanwhile: a push
is never lost to the pool.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import scraper

log = logging.getLogger(__name__)


def _worker_init() -> None:
    # Ctrl-C in the terminal reaches the whole process group: the daemon stops the workers
    # itself (close), so they ignore it instead of each printing a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _warm() -> bool:
    return True  # unpickling this call in the worker imported the scraper


class ParsePool:
    """`parse(html, url, mtop=...)` with the signature of scraper.parse_page, in workers."""

    def __init__(self, workers: int | None = None):
        # PICGUARD_PARSE_WORKERS=0 parses in the daemon's own threads (bench/load.py compares)
        if workers is None:
            workers = int(os.environ.get("PICGUARD_PARSE_WORKERS") or min(4, os.cpu_count() or 1))
        self.workers = max(0, workers)
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_worker_init)
            return self._pool

    def start(self) -> ParsePool:
        """Spawn the workers now (at daemon start, in the background), not on the first push."""
        if self.workers:
            pool = self._executor()
            for _ in range(self.workers):
                pool.submit(_warm)
        return self

    def parse(self, html: str, url: str, mtop: dict[str, Any] | None = None) -> scraper.Listing:
        """scraper.parse_page in a worker; ParseError and other page errors come back as is."""
        if not self.workers:
            return scraper.parse_page(html, url, mtop=mtop)
        pool = self._executor()
        try:
            return pool.submit(scraper.parse_page, html, url, mtop).result()
        except BrokenProcessPool:
            log.warning("a page-parsing worker died; starting new ones")
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            return scraper.parse_page(html, url, mtop=mtop)

    def close(self) -> None:
        """Stop the workers (at daemon shutdown)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
