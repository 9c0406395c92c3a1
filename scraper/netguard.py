"""SSRF guard: which URLs and addresses the fetcher may reach.

A listing can name any image URL and any web page can talk to the daemon, so
every host is resolved and every address it resolves to is checked before a
connection is made (and again at connect time, see transport.py). Loopback and
private addresses are admitted only by an explicit switch; link-local,
multicast, unspecified, IPv4-mapped, reserved and cloud-metadata addresses never.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import SplitResult, urlsplit

from .fetcherrors import BadSchemeError, BadURLError, BlockedAddressError, DNSError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ENV_ALLOW_PRIVATE = "PICGUARD_ALLOW_PRIVATE_HOSTS"

# Cloud instance-metadata endpoints (AWS/GCP/Azure/Oracle/DigitalOcean, AWS ECS,
# AWS IPv6, Alibaba Cloud, Azure wireserver, Oracle legacy).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "fd00:ec2::254",
        "100.100.100.200",
        "168.63.129.16",
        "192.0.0.192",
    )
)
METADATA_HOSTNAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_PRIVATE_NETS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "fc00::/7",
        "fec0::/10",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Address classes an explicit switch (env or allowlist) may admit.
_ADMISSIBLE = frozenset({"loopback", "private"})
_CLASS_WORDS = MappingProxyType(
    {
        "loopback": "a loopback address (this computer)",
        "private": "a private network address",
        "link_local": "a link-local address",
        "multicast": "a multicast address",
        "unspecified": "the unspecified address",
        "reserved": "a reserved or non-routable address",
        "metadata": "a cloud metadata address",
        "ipv4_mapped": "an IPv4-mapped IPv6 address",
        "invalid": "not an IP address",
    }
)


def classify_address(ip: str | IPAddress) -> str:
    """One of: public, loopback, private, link_local, multicast, unspecified,
    reserved, metadata, ipv4_mapped, invalid."""
    if isinstance(ip, str):
        try:
            ip = ipaddress.ip_address(ip.split("%", 1)[0].strip("[]"))
        except ValueError:
            return "invalid"
    if ip in METADATA_ADDRESSES:
        return "metadata"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "ipv4_mapped"
        embedded = ip.sixtofour
        if ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:  # 6to4 / NAT64 carry an IPv4 address: judge that one
            return classify_address(embedded)
        if ip.teredo is not None:
            return "reserved"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_multicast:
        return "multicast"
    if ip.is_link_local:
        return "link_local"
    if any(ip in net for net in _PRIVATE_NETS):
        return "private"
    if not ip.is_global or ip.is_reserved:
        return "reserved"
    return "public"


def is_public_address(ip: str | IPAddress) -> bool:
    """True only for globally routable unicast addresses that are not metadata endpoints."""
    return classify_address(ip) == "public"


# The spellings that turn the switch on, everywhere it is read (the daemon's settings use
# this same function): anything else, including "0", "false" and "", leaves it off.
ENV_TRUE = frozenset({"1", "true", "yes", "on"})


def env_allows_private(environ: Mapping[str, str] | None = None) -> bool:
    """True when PICGUARD_ALLOW_PRIVATE_HOSTS is on (tests and the demo fetch from 127.0.0.1)."""
    value = (os.environ if environ is None else environ).get(ENV_ALLOW_PRIVATE, "")
    return value.strip().lower() in ENV_TRUE


@dataclass(frozen=True)
class AddressPolicy:
    """What may be reached. Immutable, so one instance is safely shared by threads."""

    allow_private: bool = False
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def build(cls, allow_private: bool | None = None, allowed_hosts: object = ()) -> AddressPolicy:
        """allow_private=None reads PICGUARD_ALLOW_PRIVATE_HOSTS (=1 admits loopback/private)."""
        hosts = frozenset(str(h).strip("[]").lower() for h in (allowed_hosts or ()))  # type: ignore[union-attr]
        flag = env_allows_private() if allow_private is None else bool(allow_private)
        return cls(allow_private=flag, allowed_hosts=hosts)

    def check_address(self, host: str, ip: str) -> None:
        """Raise BlockedAddressError unless `host` may be reached at `ip`."""
        kind = classify_address(ip)
        if kind == "public":
            return
        if kind in _ADMISSIBLE and (self.allow_private or host.lower() in self.allowed_hosts):
            return
        hint = ""
        if kind in _ADMISSIBLE:
            hint = f" (set {ENV_ALLOW_PRIVATE}=1 to allow this for tests or the demo)"
        raise BlockedAddressError(
            f"refused to connect to {host}: {ip} is {_CLASS_WORDS.get(kind, kind)}, "
            f"and PicGuard never fetches from such addresses{hint}",
            url=host,
        )

    def resolve(self, host: str, port: int) -> list[tuple]:
        """getaddrinfo results for host:port, every address checked; raises on any bad one.

        A host that resolves to both a public and a private address is refused
        as a whole: that is how DNS-rebinding attacks look.
        """
        name = host.strip("[]").rstrip(".").lower()
        if name in METADATA_HOSTNAMES:
            raise BlockedAddressError(
                f"refused to connect to {host}: it is a cloud metadata host, "
                "and PicGuard never fetches from such hosts",
                url=host,
            )
        try:
            infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise DNSError(
                f"could not find the server {host} (DNS: {exc.strerror or exc})", url=host
            ) from None
        except (UnicodeError, ValueError):
            raise BadURLError(f"the host name {host!r} is not valid", url=host) from None
        if not infos:
            raise DNSError(f"could not find the server {host} (no addresses)", url=host)
        for info in infos:
            self.check_address(name, str(info[4][0]))
        return infos


def split_checked(url: object) -> SplitResult:
    """The URL's parts, or BadURLError/BadSchemeError: http(s), a host, no credentials."""
    if not isinstance(url, str) or not url.strip():
        raise BadURLError("no URL was given", url=None)
    url = url.strip()
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        raise BadURLError(f"this is not a valid URL: {url[:200]}", url=url) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise BadSchemeError(
            f"only http and https URLs are fetched, not {parts.scheme or 'scheme-less'} URLs: "
            f"{url[:200]}",
            url=url,
        )
    if not parts.hostname:
        raise BadURLError(f"the URL has no host: {url[:200]}", url=url)
    if parts.username is not None or parts.password is not None:
        raise BadURLError("URLs with a user name or password are not fetched", url=url)
    return parts


def default_port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme.lower() == "https" else 80)
