"""Options shared by the whole test tree (a root conftest, so they work from the repo root too)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--thorough",
        action="store_true",
        default=False,
        help="reliability tests: run the large counts (also SEEDREAM_THOROUGH=1)",
    )


def _is_loopback(host: object) -> bool:
    if host in (None, "localhost", b"localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


LoopbackGuard = Callable[[Callable[[object], BaseException]], None]


@pytest.fixture
def loopback_guard(monkeypatch: pytest.MonkeyPatch) -> LoopbackGuard:
    """Install a process-wide guard: connecting to, or resolving, anything but loopback fails.

    ``resolve_error(host)`` is what a non-loopback name lookup raises: a
    ``socket.gaierror`` to look like an offline machine, or an AssertionError
    to fail the test outright.
    """

    def install(resolve_error: Callable[[object], BaseException]) -> None:
        real_connect, real_connect_ex, real_getaddrinfo = (
            socket.socket.connect,
            socket.socket.connect_ex,
            socket.getaddrinfo,
        )

        def check(address: Any) -> None:
            if isinstance(address, tuple) and not _is_loopback(address[0]):
                raise AssertionError(f"test tried to connect to non-loopback address {address!r}")

        def connect(self: socket.socket, address: Any) -> None:
            check(address)
            real_connect(self, address)

        def connect_ex(self: socket.socket, address: Any) -> int:
            check(address)
            return real_connect_ex(self, address)

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if not _is_loopback(host):
                raise resolve_error(host)
            return real_getaddrinfo(host, *args, **kwargs)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    return install
