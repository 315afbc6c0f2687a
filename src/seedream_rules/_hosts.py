"""Which hosts are internal: one classification of addresses, used by every host check.

The callback rule ("Callback to internal IP addresses is prohibited") and the
simulator's outbound policy both ask :func:`host_class`. Names are never
resolved here (no DNS at validation time). Literal addresses are judged by
what they reach: IPv6 forms that embed an IPv4 address (IPv4-mapped,
IPv4-compatible, SIIT ``::ffff:0:a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4
``2002::/16``) count as that IPv4 address; tunnel and local-use prefixes
whose far end cannot be judged from the address (Teredo ``2001::/32``, NAT64
local-use ``64:ff9b:1::/48``) are internal, as is everything the IANA
special-purpose registries mark not globally reachable (checked here
explicitly as well, so the answer does not depend on the Python version).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Literal
from urllib.parse import unquote

__all__ = ["HostClass", "address_class", "embedded_ipv4", "host_class", "is_internal_host", "is_loopback_host"]

HostClass = Literal["loopback", "internal", "public", "name"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
# Not globally reachable (IANA IPv4/IPv6 special-purpose address registries), beyond is_global's list in 3.11.
_NOT_PUBLIC_V4 = tuple(
    _V4(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",  # 240/4 holds 255.255.255.255
    )
)  # fmt: skip
# The registry's exceptions inside 192.0.0.0/24: PCP and TURN anycast are globally reachable.
_GLOBAL_V4 = (ipaddress.IPv4Address("192.0.0.9"), ipaddress.IPv4Address("192.0.0.10"))
_NOT_PUBLIC_V6 = tuple(
    _V6(n)
    for n in (
        "::/128", "::1/128", "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20", "5f00::/16",
        "64:ff9b:1::/48", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    )
)  # fmt: skip
# Prefixes whose low 32 bits are an IPv4 address the packet ends up at (RFC 4291 2.5.5, RFC 6052, RFC 2765).
_LOW32_PREFIXES = (_V6("::/96"), _V6("::ffff:0:0/96"), _V6("::ffff:0:0:0/96"), _V6("64:ff9b::/96"))
_TEREDO = _V6("2001::/32")
_NAT64_LOCAL = _V6("64:ff9b:1::/48")

_LEGACY_IPV4 = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}")
_NOT_A_HOST = re.compile(r"[^a-z0-9._~:\-]")  # after decoding: anything a DNS name or IP literal cannot hold
_NOT_AN_IP = re.compile(r"[^0-9a-fx.:]")  # a character no IP literal (any notation) can hold


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and reaches (mapped, compatible, SIIT, NAT64, 6to4), if any."""
    for prefix in _LOW32_PREFIXES:
        if address in prefix:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def address_class(address: IPAddress) -> Literal["loopback", "internal", "public"]:
    """``loopback``, ``internal`` (private, link-local, reserved, multicast, ...) or ``public``."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            address = ipaddress.IPv6Address(int(address))  # drop the zone id
        if address.is_loopback:
            return "loopback"
        if address in _TEREDO or address in _NAT64_LOCAL:
            return "internal"
        inner = embedded_ipv4(address)
        if inner is not None:
            judged = address_class(inner)
            # Only the mapped form is that IPv4 host itself; elsewhere a loopback v4 is just internal.
            return judged if judged != "loopback" or address.ipv4_mapped is not None else "internal"
        if any(address in net for net in _NOT_PUBLIC_V6) or not address.is_global or address.is_site_local:
            return "internal"
        return "public"
    if address.is_loopback:
        return "loopback"
    if address in _GLOBAL_V4:
        return "public"
    if any(address in net for net in _NOT_PUBLIC_V4) or not address.is_global or address.is_multicast:
        return "internal"
    return "public"


def _literal(host: str) -> tuple[IPAddress, bool] | None:
    """(address, written in standard notation?) for an IP literal, None for a name."""
    if _NOT_AN_IP.search(host):
        return None  # a host name: skip the (slow, exception-raising) literal parsers
    try:
        return ipaddress.ip_address(host), True
    except ValueError:
        pass
    # Forms most resolvers still accept: 2130706433, 0x7f000001, 0177.0.0.1, 127.1.
    # Parsed, never resolved (inet_aton does no DNS); the regex keeps it to digits.
    if _LEGACY_IPV4.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host)), False
        except OSError:
            return None
    return None


def host_class(host: str) -> HostClass:
    """What a URL's host is: ``loopback``, ``internal``, ``public`` (literal addresses) or ``name``.

    ``localhost`` and ``*.localhost`` are loopback; an empty host is internal.
    Percent-encoding is decoded first, brackets and a zone id (``%eth0``)
    removed, a trailing dot ignored.
    """
    decoded = unquote(host)
    disguised = decoded != host  # percent-encoded
    host = decoded.strip().rstrip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host = host.split("%", 1)[0]
    if not host:
        return "internal"
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback"
    if _NOT_A_HOST.search(host):
        return "internal"  # decodes to something no host name holds ("%5B::1%5D"): not judgeable, so refused
    found = _literal(host)
    if found is None:
        return "name"
    address, standard = found
    judged = address_class(address)
    # Loopback is a destination tests may allow: only in plain notation. Disguised forms are just internal.
    if judged == "loopback" and (disguised or not standard):
        return "internal"
    return judged


def is_internal_host(host: str) -> bool:
    """True for ``localhost`` and literal addresses that are loopback or otherwise not public (no DNS)."""
    return host_class(host) in ("loopback", "internal")


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and literal loopback addresses (IPv4-mapped ones included)."""
    return host_class(host) == "loopback"
