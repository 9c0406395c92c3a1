"""requests/urllib3 plumbing for the fetcher: guarded connections and a capped Retry.

The guard in netguard.py is checked before each request, but a host's DNS can
change between that check and the connection (DNS rebinding). So the
connections themselves resolve the host, check every address with the same
policy, and connect only to a checked address. TLS still verifies the host name.
"""

from __future__ import annotations

import socket
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    MaxRetryError,
    NewConnectionError,
    ResponseError,
)
from urllib3.exceptions import TimeoutError as U3TimeoutError
from urllib3.util import connection as u3connection
from urllib3.util.retry import Retry

from .fetcherrors import ConnectFailedError
from .netguard import AddressPolicy

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class _GuardedConnectionMixin:
    """Replaces urllib3's _new_conn: resolve, check every address, connect to a checked one."""

    policy: AddressPolicy  # set on the per-Fetcher subclass

    def _new_conn(self) -> socket.socket:
        conn: Any = self
        infos = self.policy.resolve(conn._dns_host, conn.port)  # raises FetchError subclasses
        error: Exception = NewConnectionError(conn, f"no address to connect to for {conn.host}")
        for info in infos:
            address = info[4][0]
            try:
                return u3connection.create_connection(
                    (address, conn.port),
                    conn.timeout,
                    source_address=conn.source_address,
                    socket_options=conn.socket_options,
                )
            except TimeoutError as exc:
                error = ConnectTimeoutError(
                    conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})"
                )
                error.__cause__ = exc
            except OSError as exc:
                error = NewConnectionError(conn, f"Failed to establish a new connection: {exc}")
        raise error


def guarded_pool_classes(policy: AddressPolicy) -> dict[str, type]:
    """HTTP/HTTPS pool classes whose connections obey `policy` (one set per Fetcher)."""
    http_conn = type(
        "GuardedHTTPConnection", (_GuardedConnectionMixin, HTTPConnection), {"policy": policy}
    )
    https_conn = type(
        "GuardedHTTPSConnection", (_GuardedConnectionMixin, HTTPSConnection), {"policy": policy}
    )
    return {
        "http": type(
            "GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}
        ),
        "https": type(
            "GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}
        ),
    }


class GuardedAdapter(HTTPAdapter):
    """An HTTPAdapter whose pools use guarded connections."""

    def __init__(self, policy: AddressPolicy, max_retries: Retry, pool_maxsize: int) -> None:
        self._pool_classes = guarded_pool_classes(policy)
        super().__init__(max_retries=max_retries, pool_maxsize=pool_maxsize, pool_block=False)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        # A fresh dict on this manager only; urllib3's module-level default is left alone.
        self.poolmanager.pool_classes_by_scheme = dict(self._pool_classes)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        # Proxies would connect somewhere the guard never checked: refuse them.
        raise ConnectFailedError(
            "PicGuard's fetcher does not use proxies; unset the proxy setting", url=proxy
        )


class CappedRetry(Retry):
    """urllib3 Retry that honours Retry-After up to a cap, and gives up beyond it.

    A server asking for an hour's wait should not tie up a fetch worker for an
    hour: the 429 comes back to the caller, whose scheduler tries again later.
    """

    RETRY_AFTER_CAP = 30.0

    def get_retry_after(self, response: Any) -> float | None:
        try:
            return super().get_retry_after(response)
        except InvalidHeader:  # an unreadable Retry-After: fall back to our own backoff
            return None

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        if response is not None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.RETRY_AFTER_CAP:
                raise MaxRetryError(
                    _pool, url or "", ResponseError(f"Retry-After of {wait:.0f}s is too long")
                )
        return super().increment(method, url, response, error, _pool, _stacktrace)


def make_retry(retries: int, backoff_factor: float) -> CappedRetry:
    """429 and 5xx retried with exponential backoff; Retry-After honoured (capped)."""
    return CappedRetry(
        total=retries,
        connect=min(retries, 2),
        read=min(retries, 1),
        status=retries,
        other=0,
        redirect=False,  # redirects are followed (and checked) by the Fetcher itself
        allowed_methods=frozenset({"GET", "HEAD"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_factor,
        backoff_max=10.0,
        raise_on_status=False,
        raise_on_redirect=False,
        respect_retry_after_header=True,
    )


def has_timeout(exc: BaseException) -> bool:
    """True when a timeout hides somewhere in requests' wrapped exception chain."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, U3TimeoutError | TimeoutError):
            return True
        if isinstance(item, BaseException):
            stack.extend([item.__cause__, item.__context__, getattr(item, "reason", None)])
            stack.extend(item.args)
    return False
