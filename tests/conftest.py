"""Options shared by the whole test tree (a root conftest, so they work from the repo root too)."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# -- the user's own ledger is never touched by a test ------------------------------------------------------------------
# A test that forgets SEEDREAM_LEDGER (or a subprocess, a docs example) would otherwise write into the real
# per-user ledger, and a newer schema there breaks the user's older seedream. Every test process sees a fresh
# data directory; the real ledger is watched and the run fails if it changed anyway.
_REAL_LEDGER: tuple[Path, tuple[int, int] | None] | None = None


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def pytest_configure(config: pytest.Config) -> None:
    global _REAL_LEDGER
    if _REAL_LEDGER is not None or os.environ.get("SEEDREAM_TEST_DATA_HOME"):
        return  # a nested pytest (pytester, a subprocess): the outer run set it up
    import platformdirs

    real = platformdirs.user_data_path("seedream", appauthor=False) / "ledger.sqlite3"
    _REAL_LEDGER = (real, _stamp(real))
    home = tempfile.mkdtemp(prefix="seedream-test-data-")
    os.environ["SEEDREAM_TEST_DATA_HOME"] = os.environ["XDG_DATA_HOME"] = home


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _REAL_LEDGER is None:
        return
    real, before = _REAL_LEDGER
    shutil.rmtree(os.environ["SEEDREAM_TEST_DATA_HOME"], ignore_errors=True)
    if _stamp(real) != before:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nthe user's real ledger {real} was written during the tests: a test escaped the test data home")


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
