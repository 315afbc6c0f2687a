"""Reliability figures (issue 7): shared switches, guards and the secret witness.

- ``--thorough`` (or ``SEEDREAM_THOROUGH=1``) scales every count up for a local
  run; CI runs the default counts. pytest only sees options of conftest files
  it loads at start-up, so pass ``--thorough`` with this folder on the command
  line (``python -m pytest tests/reliability --thorough``), or use the variable.
- Every test here runs under the *secret witness*: DEBUG logging for every
  logger in the process (seedream, httpx, httpcore, uvicorn, ...) goes through
  a handler that looks for the sentinel API key in each record; at teardown
  the files the test wrote and every text the test handed to ``witness.see``
  (exception texts, reprs, CLI output) are searched too. One sweep, all flows.
- A socket guard keeps the test process on loopback: connecting to or
  resolving anything else fails the test.
- Figures each test measures are printed in the terminal summary.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import SENTINEL_KEY

THOROUGH_ENV = "SEEDREAM_THOROUGH"
_FIGURES: dict[str, dict[str, Any]] = {}


@pytest.fixture(scope="session")
def thorough(pytestconfig: pytest.Config) -> bool:
    return bool(pytestconfig.getoption("--thorough", default=False)) or os.environ.get(THOROUGH_ENV, "") not in (
        "",
        "0",
    )


# -- figures -------------------------------------------------------------------------------------------------------


class Figures:
    """What one test measured; printed at the end of the run (and kept as junit properties)."""

    def __init__(self, name: str, record_property: Any) -> None:
        self.name = name
        self._record_property = record_property
        self.values: dict[str, Any] = {}
        self.started = time.perf_counter()

    def __setitem__(self, key: str, value: Any) -> None:
        self.values[key] = value
        self._record_property(key, value)

    def update(self, **values: Any) -> None:
        for key, value in values.items():
            self[key] = value


@pytest.fixture
def figures(request: pytest.FixtureRequest, record_property: Any) -> Iterator[Figures]:
    found = Figures(request.node.name, record_property)
    yield found
    found.values["wall_s"] = round(time.perf_counter() - found.started, 2)
    _FIGURES.setdefault(found.name, {}).update(found.values)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _FIGURES:
        return
    terminalreporter.section("seedream reliability figures")
    for name, values in _FIGURES.items():
        terminalreporter.write_line(name)
        for key, value in values.items():
            terminalreporter.write_line(f"    {key}: {value}")


# -- environment -----------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Never the user's ledger, key or base URL; no proxy may route loopback traffic elsewhere.
    monkeypatch.setenv("SEEDREAM_LEDGER", str(tmp_path / "env-ledger.sqlite3"))
    for name in ("EVOLINK_API_KEY", "SEEDREAM_BASE_URL", *_PROXY_VARIABLES):
        monkeypatch.delenv(name, raising=False)


_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def _loopback_only(loopback_guard: Callable[[Callable[[object], BaseException]], None]) -> None:
    loopback_guard(lambda host: AssertionError(f"test tried to resolve {host!r}"))


# -- the secret witness ----------------------------------------------------------------------------------------------


class _KeyScanningHandler(logging.Handler):
    """Formats every record (message, arguments, traceback) and counts the ones holding the secret."""

    def __init__(self, secret: str) -> None:
        super().__init__(logging.DEBUG)
        self.secret = secret
        self.records = 0
        self.leaks: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        text = self.format(record)
        if self.secret in text:
            self.leaks.append(text[:300])


class SecretWitness:
    """Looks for one secret in DEBUG logs, in texts handed to :meth:`see` and in files under given roots."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.handler = _KeyScanningHandler(secret)
        self.texts_seen = 0
        self.bytes_seen = 0
        self.files_seen = 0
        self.leaks: list[str] = []

    def see(self, *texts: object) -> None:
        for text in texts:
            shown = text if isinstance(text, str) else repr(text)
            self.texts_seen += 1
            self.bytes_seen += len(shown)
            if self.secret in shown:
                self.leaks.append(f"text: {shown[:300]}")

    def see_error(self, error: BaseException) -> None:
        """An exception's str, repr and its whole chain (causes and contexts)."""
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            self.see(str(current), repr(current), *[repr(a) for a in current.args])
            current = current.__cause__ or current.__context__

    def sweep_files(self, root: Path) -> None:
        needle = self.secret.encode()
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                self.files_seen += 1
                data = path.read_bytes()
                self.bytes_seen += len(data)
                if needle in data or needle in path.name.encode():
                    self.leaks.append(f"file: {path}")

    def all_leaks(self) -> list[str]:
        return self.leaks + [f"log: {text}" for text in self.handler.leaks]


@pytest.fixture(autouse=True)
def witness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SecretWitness]:
    watcher = SecretWitness(SENTINEL_KEY)
    root = logging.getLogger()
    previous = root.level
    # pytest's own capture handlers would store every DEBUG record of thousands of requests (slow, and
    # useless in a report): they keep WARNING and above while the witness reads everything.
    others = {handler: handler.level for handler in root.handlers if handler.level < logging.WARNING}
    for handler in others:
        handler.setLevel(logging.WARNING)
    root.addHandler(watcher.handler)
    root.setLevel(logging.DEBUG)
    try:
        yield watcher
    finally:
        root.removeHandler(watcher.handler)
        root.setLevel(previous)
        for handler, level in others.items():
            handler.setLevel(level)
    watcher.sweep_files(tmp_path)
    leaks = watcher.all_leaks()
    if request.node.name in _FIGURES:
        _FIGURES[request.node.name]["secret_witness"] = (
            f"{watcher.handler.records} DEBUG log records, {watcher.texts_seen} texts, "
            f"{watcher.files_seen} files ({watcher.bytes_seen:,} bytes) searched, {len(leaks)} leaks"
        )
    assert not leaks, f"the sentinel API key leaked {len(leaks)} time(s), first: {leaks[:3]}"
