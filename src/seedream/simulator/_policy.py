"""Which outbound destinations (reference images, callbacks) the simulator may contact.

The rule: loopback only with ``allow_loopback``; private, link-local and other
internal addresses never; public hosts only when ``outbound == "public"``.
``outbound == "none"`` sends nothing anywhere. Host names are resolved (and
every address re-judged) only for public destinations, just before use.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from .. import _rules
from ._config import SimulatorConfig

__all__ = ["Verdict", "is_loopback_host", "judge", "judge_resolved", "loopback_http_url"]


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    kind: str  # loopback | internal | public | invalid
    reason: str


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


async def judge_resolved(url: str, config: SimulatorConfig) -> Verdict:
    """:func:`judge`, then for a public host name every address it resolves to must be public too."""
    verdict = judge(url, config)
    if not verdict.allowed or verdict.kind != "public":
        return verdict
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
        return verdict  # a literal public address
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError as exc:
        return Verdict(False, "public", f"cannot resolve host: {exc.strerror or exc}")
    for info in infos:
        address = str(info[4][0])
        if _rules.is_internal_host(address):
            return Verdict(False, "internal", "host resolves to an internal address")
    return verdict


def loopback_http_url(url: str) -> str:
    """The same URL over plain http (for loopback test receivers without TLS)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "https":
        return url
    return urlunsplit(("http", *parts[1:]))
