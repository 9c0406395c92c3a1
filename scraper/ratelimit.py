"""Per-host politeness: at most one request start per host every `interval` seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class HostRateLimiter:
    """Thread-safe. Each caller reserves the next free slot for its host, then sleeps
    outside the lock until that slot, so waiting on one host never blocks another."""

    _PRUNE_AT = 1024  # forget hosts whose slot is in the past once this many are tracked

    def __init__(
        self,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = max(0.0, float(interval))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def wait(self, host: str) -> float:
        """Block until `host` may be contacted; returns the seconds waited."""
        if self.interval <= 0:
            return 0.0
        key = host.lower()
        with self._lock:
            now = self._clock()
            start = max(now, self._next.get(key, now))
            self._next[key] = start + self.interval
            if len(self._next) > self._PRUNE_AT:
                self._next = {h: t for h, t in self._next.items() if t > now}
        delay = start - now
        if delay > 0:
            self._sleep(delay)
        return delay
