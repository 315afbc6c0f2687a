"""JSON Schema string checks with the meaning the spec gives them: ``pattern`` and ``format: uri``.

A schema ``pattern`` is an ECMA-262 regular expression, where ``$`` (no
multiline flag) matches only at the very end. Python's ``$`` also matches
before a final ``\\n``, so ``re.search("^(auto|...)$", "auto\\n")`` succeeds:
:func:`pattern` translates each unescaped ``$`` outside a character class to
``\\Z`` once, and every pattern check (generated validators, the simulator's
jsonschema) searches with the translation.

``format: uri`` is RFC 3986's ``URI`` rule matched against the whole value,
plus what the grammar leaves open: an IP literal must be a real IPv6 address
(or IPvFuture) and a port at most 65535. Standard library only.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache

__all__ = ["is_uri", "pattern"]


def _translate(source: str) -> str:
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\":
            out.append(source[i : i + 2])
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            if source[i + 1 : i + 2] == "]":  # a leading "]" is a literal inside the class
                out.append("[]")
                i += 2
                continue
        elif char == "$":
            char = r"\Z"
        out.append(char)
        i += 1
    return "".join(out)


@cache
def pattern(source: str) -> re.Pattern[str]:
    """The compiled Python form of the ECMA-262 ``pattern`` ``source`` (``$`` is end of string); use ``.search``."""
    return re.compile(_translate(source))


_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
# Character classes only ("%" included), so every part is one fast run; that each "%" starts a
# pct-encoded triplet is checked once over the whole value (_BAD_PERCENT).
_PCHAR = rf"[{_UNRESERVED}{_SUB_DELIMS}:@%]"
_PATH_CHAR = rf"[{_UNRESERVED}{_SUB_DELIMS}:@%/]"
_URI = re.compile(
    rf"""
    [A-Za-z][A-Za-z0-9+.\-]*:                                   # scheme
    (?:
        //(?:[{_UNRESERVED}{_SUB_DELIMS}:%]*@)?                  # userinfo
        (?P<host>\[(?P<literal>[^\]]*)\]|[{_UNRESERVED}{_SUB_DELIMS}%]*)
        (?::(?P<port>[0-9]*))?
        (?:/{_PATH_CHAR}*)?                                     # path-abempty
      | /(?:{_PCHAR}+{_PATH_CHAR}*)?                            # path-absolute
      | {_PCHAR}+{_PATH_CHAR}*                                  # path-rootless
      |                                                         # path-empty
    )
    (?:\?[{_UNRESERVED}{_SUB_DELIMS}:@%/?]*)?                    # query
    (?:\#[{_UNRESERVED}{_SUB_DELIMS}:@%/?]*)?                    # fragment
    """,
    re.VERBOSE,
)
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_IPVFUTURE = re.compile(rf"[vV][0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+")
_MAX_PORT = 65535


def is_uri(value: str) -> bool:
    """True iff ``value`` is an absolute URI (RFC 3986 ``URI``) with a usable IP literal and port."""
    match = _URI.fullmatch(value)
    if match is None or _BAD_PERCENT.search(value):
        return False
    literal = match.group("literal")
    if literal is not None and not _IPVFUTURE.fullmatch(literal):
        if "%" in literal:
            return False  # a zone id is not RFC 3986 (RFC 6874 is not supported by the API either)
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return False
    port = match.group("port")
    if port:
        digits = port.lstrip("0")
        if len(digits) > 5 or (digits and int(digits) > _MAX_PORT):
            return False
    return True
