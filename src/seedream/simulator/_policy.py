"""Which outbound destinations (reference images, callbacks) the simulator may contact.

The rule: loopback only with ``allow_loopback``; private, link-local and other
internal addresses never; public hosts only when ``outbound == "public"``.
``outbound == "none"`` sends nothing anywhere.

A host name is resolved once, just before use; every address it resolves to
must be of the kind its name was judged, and the request then connects to
exactly the checked address (:func:`pinned`: the URL carries the IP, Host
and TLS SNI the name). Nothing resolves the name a second time, so a resolver
that answers a public address first and 127.0.0.1 next (DNS rebinding) never
gets its second answer used. Each redirect hop is judged the same way.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from .. import _rules
from ._config import SimulatorConfig

__all__ = ["Verdict", "is_loopback_host", "judge", "judge_resolved", "loopback_http_url", "pinned", "resolve"]


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    kind: str  # loopback | internal | public | invalid
    reason: str
    address: str | None = None  # judge_resolved: the checked address to connect to


def is_loopback_host(host: str) -> bool:
    # The one host classification (seedream_rules), shared with the client's callback rule.
    return _rules.is_loopback_host(host)


def judge(url: str, config: SimulatorConfig) -> Verdict:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return Verdict(False, "invalid", "not a usable URL")
    if parts.scheme.lower() not in ("http", "https") or not host:
        return Verdict(False, "invalid", "not an http(s) URL with a host")
    if is_loopback_host(host):
        if config.outbound == "none":
            return Verdict(False, "loopback", "outbound traffic is off (outbound='none')")
        if not config.allow_loopback:
            return Verdict(False, "loopback", "loopback needs allow_loopback")
        return Verdict(True, "loopback", "loopback allowed for tests")
    if _rules.is_internal_host(host):
        return Verdict(False, "internal", "internal addresses are never contacted")
    if config.outbound != "public":
        return Verdict(False, "public", f"public hosts are off (outbound={config.outbound!r})")
    return Verdict(True, "public", "public host")


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order (the one resolution an outbound request gets)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _address_kind(address: str) -> str:
    if is_loopback_host(address):
        return "loopback"
    return "internal" if _rules.is_internal_host(address) else "public"


async def judge_resolved(url: str, config: SimulatorConfig) -> Verdict:
    """:func:`judge`, then the host resolved once: every address must be of the kind judged, and
    ``address`` is the one to connect to (:func:`pinned`), so a second lookup cannot change the answer."""
    verdict = judge(url, config)
    if not verdict.allowed:
        return verdict
    try:
        parsed = httpx.URL(url)
        host, port = parsed.raw_host.decode("ascii"), parsed.port or (443 if parsed.scheme == "https" else 80)
    except (httpx.InvalidURL, UnicodeError):
        return Verdict(False, "invalid", "not a usable URL")
    try:
        addresses = [str(ipaddress.ip_address(host))]  # a literal: nothing to resolve
    except ValueError:
        try:
            addresses = await resolve(host, port)
        except (OSError, UnicodeError, ValueError) as exc:  # ValueError: a name getaddrinfo will not take
            return Verdict(False, verdict.kind, f"cannot resolve host: {getattr(exc, 'strerror', None) or exc}")
    if not addresses:
        return Verdict(False, verdict.kind, "host resolves to no address")
    for address in addresses:
        kind = _address_kind(address)
        if kind != verdict.kind:
            return Verdict(False, kind, f"host resolves to a {kind} address")
    return replace(verdict, address=addresses[0])


def pinned(url: str, address: str) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
    """(URL, headers, extensions) that reach ``address`` while the server sees the URL's host (Host and TLS SNI)."""
    parsed = httpx.URL(url)
    host = parsed.raw_host.decode("ascii")
    return parsed.copy_with(host=address), {"host": parsed.netloc.decode("ascii")}, {"sni_hostname": host}


def loopback_http_url(url: str) -> str:
    """The same URL over plain http (for loopback test receivers without TLS)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "https":
        return url
    return urlunsplit(("http", *parts[1:]))
