"""SSRF guard, rate limiter and content sniffing, without any network traffic.

Host names are resolved through a stubbed getaddrinfo; only IP literals and
`localhost` reach the real resolver (both answered locally).
"""

from __future__ import annotations

import socket

import pytest

from scraper.fetch import (
    BadContentTypeError,
    BadSchemeError,
    BadURLError,
    BlockedAddressError,
    DNSError,
    is_public_address,
)
from scraper.netguard import AddressPolicy, classify_address, default_port, split_checked
from scraper.ratelimit import HostRateLimiter
from scraper.sniff import check_image_type, check_page_type, sniff_image


@pytest.mark.parametrize(
    ("ip", "kind"),
    [
        ("8.8.8.8", "public"),
        ("93.184.215.14", "public"),
        ("2606:4700::1111", "public"),
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.0.10", "private"),
        ("100.64.0.1", "private"),  # carrier-grade NAT
        ("fc00::1", "private"),  # unique-local
        ("fd12:3456::1", "private"),
        ("169.254.1.1", "link_local"),
        ("fe80::1", "link_local"),
        ("fe80::1%eth0", "link_local"),
        ("224.0.0.1", "multicast"),  # is_global is True for this one in Python: checked explicitly
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to classify, not to bind
        ("::", "unspecified"),
        ("169.254.169.254", "metadata"),
        ("169.254.170.2", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),  # Alibaba Cloud
        ("168.63.129.16", "metadata"),  # Azure, a public-looking address
        ("::ffff:127.0.0.1", "ipv4_mapped"),
        ("::ffff:8.8.8.8", "ipv4_mapped"),  # refused whatever it maps to
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("64:ff9b::808:808", "public"),  # NAT64 of 8.8.8.8
        ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved"),  # Teredo
        ("::7f00:1", "reserved"),  # IPv4-compatible, deprecated
        ("192.0.2.1", "reserved"),  # documentation
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("not-an-ip", "invalid"),
    ],
)
def test_classify_address(ip: str, kind: str) -> None:
    assert classify_address(ip) == kind
    assert is_public_address(ip) is (kind == "public")


def test_policy_switches() -> None:
    strict = AddressPolicy.build(allow_private=False)
    with pytest.raises(BlockedAddressError, match="loopback"):
        strict.check_address("localhost", "127.0.0.1")
    allow = AddressPolicy.build(allow_private=True)
    allow.check_address("localhost", "127.0.0.1")
    allow.check_address("nas", "192.168.1.2")
    never = ("169.254.169.254", "fe80::1", "::ffff:127.0.0.1", "0.0.0.0", "224.0.0.1")  # noqa: S104
    for kind_ip in never:
        with pytest.raises(BlockedAddressError):
            allow.check_address("x", kind_ip)
    listed = AddressPolicy.build(allow_private=False, allowed_hosts={"127.0.0.1", "[::1]"})
    listed.check_address("127.0.0.1", "127.0.0.1")
    listed.check_address("::1", "::1")
    with pytest.raises(BlockedAddressError):
        listed.check_address("localhost", "127.0.0.1")  # the allowlist is by host name
    with pytest.raises(BlockedAddressError, match="metadata"):
        AddressPolicy.build(allowed_hosts={"169.254.169.254"}).check_address(
            "169.254.169.254", "169.254.169.254"
        )


def test_env_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PICGUARD_ALLOW_PRIVATE_HOSTS", "1")
    assert AddressPolicy.build().allow_private is True
    assert AddressPolicy.build(allow_private=False).allow_private is False  # explicit wins
    monkeypatch.setenv("PICGUARD_ALLOW_PRIVATE_HOSTS", "0")
    assert AddressPolicy.build().allow_private is False
    monkeypatch.delenv("PICGUARD_ALLOW_PRIVATE_HOSTS")
    assert AddressPolicy.build().allow_private is False


@pytest.mark.parametrize("value", ["1", "true", "TRUE", " yes ", "on", "0", "false", "no",
                                   "", "2", "enable"])
def test_env_switch_reads_the_same_everywhere(monkeypatch: pytest.MonkeyPatch, tmp_path,
                                              value: str) -> None:
    """The fetcher's policy and the daemon's settings agree on every spelling."""
    from daemon.config import load_settings

    monkeypatch.setenv("PICGUARD_ALLOW_PRIVATE_HOSTS", value)
    expected = value.strip().lower() in {"1", "true", "yes", "on"}
    assert AddressPolicy.build().allow_private is expected
    assert load_settings(tmp_path).allow_private_hosts is expected


@pytest.fixture()
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def fake(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        if host in table:
            return [
                (
                    socket.AF_INET6 if ":" in ip else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (ip, port),
                )
                for ip in table[host]
            ]
        if host.replace(".", "").replace(":", "").isalnum() and not host.endswith(".example"):
            return real(host, port, *args, **kwargs)  # type: ignore[arg-type]  # literals, localhost
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return table


def _fetchable(url: str, allow_private: bool = False) -> None:
    """What the fetcher checks before each request: the URL's form, then its addresses."""
    parts = split_checked(url)
    AddressPolicy.build(allow_private).resolve(parts.hostname or "", default_port(parts))


def test_urls_are_checked_before_any_request(fake_dns: dict[str, list[str]]) -> None:
    fake_dns["ae01.alicdn.example"] = ["47.246.1.1"]
    fake_dns["evil.example"] = ["47.246.1.1", "127.0.0.1"]
    fake_dns["meta.example"] = ["169.254.169.254"]
    assert _fetchable("https://ae01.alicdn.example/kf/S1.jpg") is None
    with pytest.raises(BlockedAddressError, match="127.0.0.1"):
        _fetchable("https://evil.example/a.jpg")
    with pytest.raises(BlockedAddressError, match="metadata"):
        _fetchable("http://meta.example/latest/meta-data/")
    with pytest.raises(BlockedAddressError):
        _fetchable("http://localhost:8765/api/v1/status")
    _fetchable("http://localhost:8765/api/v1/status", allow_private=True)
    with pytest.raises(DNSError):
        _fetchable("https://gone.example/a.jpg")
    with pytest.raises(BadSchemeError):
        _fetchable("gopher://127.0.0.1:6379/_FLUSHALL")
    with pytest.raises(BadURLError):
        _fetchable("https://admin:pw@ae01.alicdn.example/x")
    with pytest.raises(BadURLError):
        _fetchable(None)  # type: ignore[arg-type]


def test_rate_limiter_reserves_slots_per_host() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)

    limiter = HostRateLimiter(1.5, clock=lambda: now[0], sleep=sleep)
    assert limiter.wait("ae01.alicdn.com") == 0.0
    assert limiter.wait("ae01.alicdn.com") == 1.5  # second call waits one interval
    assert limiter.wait("AE01.alicdn.com") == 3.0  # host names are case-insensitive
    assert limiter.wait("ae04.alicdn.com") == 0.0  # another host is not held up
    now[0] += 10
    assert limiter.wait("ae01.alicdn.com") == 0.0
    assert slept == [1.5, 3.0]
    assert HostRateLimiter(0).wait("x") == 0.0


def test_sniffing() -> None:
    assert sniff_image(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff_image(b"\x89PNG\r\n\x1a\nrest") == "image/png"
    assert sniff_image(b"GIF89a....") == "image/gif"
    assert sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff_image(b"\x00\x00\x00\x1cftypavif\x00\x00") == "image/avif"
    assert sniff_image(b"\x00\x00\x00\x1cftypheic\x00\x00") == "image/heic"
    assert sniff_image(b"<html>") is None
    assert check_image_type("image/webp", None) == "image/webp"
    assert check_image_type("application/octet-stream", b"\xff\xd8\xff\xdb") == "image/jpeg"
    assert check_image_type(None, b"\x89PNG\r\n\x1a\n") == "image/png"
    for declared, body in (
        ("text/html", None),
        ("image/svg+xml", None),
        ("image/jpeg", b"  <!doctype html><title>captcha</title>"),
        ("application/octet-stream", b"%PDF-1.7"),
        ("application/json", None),
    ):
        with pytest.raises(BadContentTypeError):
            check_image_type(declared, body)
    assert check_page_type("text/html; charset=utf-8", None) == "text/html"
    assert check_page_type(None, b"<!doctype html>") == "text/html"
    with pytest.raises(BadContentTypeError):
        check_page_type("image/png", None)
