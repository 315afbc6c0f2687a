"""pytest plugin (entry point ``seedream`` in group ``pytest11``): fixtures for user projects.

Installing the package makes these available in any pytest run::

    seedream_simulator   a running simulator on 127.0.0.1: ``.base_url``, ``.api_key``, ``.counters()``
    seedream_respx       respx routes answering both operations per the spec, tasks then completing
    @pytest.mark.seedream(...)   options for both (time_scale=, faults=, n_fail=, ...)

Both fixtures also set ``EVOLINK_API_KEY`` and ``SEEDREAM_BASE_URL`` for the
test, so code that builds ``SeedreamAPI()`` or ``Seedream()`` from the
environment talks to them, and ``SEEDREAM_LEDGER`` to a file in the test's
``tmp_path``. ``Seedream`` / ``AsyncSeedream`` clients built in the test keep
the fixture's pace (simulator: its time scale; respx: a virtual clock, so
waiting costs no real time) unless the marker says ``fast=False``.

This module only imports pytest: projects that never use the fixtures pay
nothing. Everything else is imported when a fixture is first requested.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ._fixtures import RespxAPI, RunningSimulator

__all__ = ["pytest_configure", "seedream_respx", "seedream_simulator"]

_MARKER_HELP = (
    "seedream(**options): configure the seedream_simulator / seedream_respx fixtures. "
    "Common: api_key=, n_fail= (first N generation requests fail), fail_status= (default 500), "
    "task_failure= (tasks end failed with this code), fast=False (clients keep their real pace). "
    "Simulator: time_scale=, seed=, "
    "faults={'5xx': rate, '429': rate, 'drop': rate, 'latency': seconds}, credits=, rate_limit=, "
    "and any other SimulatorConfig field. respx: polls= (processing answers before the end), "
    "base_url=, using= ('httpcore' or 'httpx'). See docs/testing.md (Testing your code)."
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER_HELP)


def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, api_key: str, base_url: str) -> None:
    from .._settings import API_KEY_ENV, BASE_URL_ENV, LEDGER_ENV  # here, not at import: the plugin loads in every run

    monkeypatch.setenv(API_KEY_ENV, api_key)
    monkeypatch.setenv(BASE_URL_ENV, base_url)
    # The test's own ledger, never the user's real one in their data directory.
    monkeypatch.setenv(LEDGER_ENV, str(tmp_path / "seedream-ledger.sqlite3"))


@pytest.fixture
def seedream_simulator(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[RunningSimulator]:
    """A simulator serving the API on 127.0.0.1 for this test, configured by ``@pytest.mark.seedream``."""
    from .._settings import ALLOW_INTERNAL_RESULT_HOSTS_ENV
    from ._fixtures import marker_options, pace_clients, start_simulator

    with start_simulator(marker_options(request.node)) as running:
        _environment(monkeypatch, tmp_path, running.api_key, running.base_url)
        pace_clients(monkeypatch, polling=running.polling)
        # Its result links are on 127.0.0.1, which the download policy refuses unless told: told here, visibly.
        monkeypatch.setenv(ALLOW_INTERNAL_RESULT_HOSTS_ENV, "1")
        yield running


@pytest.fixture
def seedream_respx(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[RespxAPI]:
    """respx routes for both operations (and result files) answering per the spec; no socket is opened."""
    from ._fixtures import marker_options, mock_api, pace_clients

    with mock_api(marker_options(request.node)) as api:
        _environment(monkeypatch, tmp_path, api.api_key, api.base_url)
        pace_clients(monkeypatch, clock=api.clock)
        yield api
