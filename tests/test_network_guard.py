"""The loopback guard the simulator and reliability tests rely on really stops outside traffic."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest


def test_guard_refuses_non_loopback_connects_and_lookups_before_any_packet(
    loopback_guard: Callable[[Callable[[object], BaseException]], None],
) -> None:
    loopback_guard(lambda host: socket.gaierror(f"no lookup of {host!r}"))
    with pytest.raises(socket.gaierror, match=r"example\.com"):
        socket.getaddrinfo("example.com", 443)
    with socket.socket() as sock, pytest.raises(AssertionError, match="non-loopback"):
        sock.connect(("192.0.2.1", 9))  # TEST-NET-1: refused by the guard before connect() runs
    assert socket.getaddrinfo("127.0.0.1", 80)  # loopback still resolves
