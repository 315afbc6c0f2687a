from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from seedream._client import SeedreamAPI
from seedream._ledger import Ledger
from seedream._retry import RetryPolicy
from seedream._workflow import Seedream

from .helpers import BASE_URL, SENTINEL_KEY, ScriptedServer, Sleeps


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Never touch the user's ledger or the real API from a test.
    monkeypatch.setenv("SEEDREAM_LEDGER", str(tmp_path / "env-ledger.sqlite3"))
    monkeypatch.delenv("SEEDREAM_BASE_URL", raising=False)
    monkeypatch.delenv("EVOLINK_API_KEY", raising=False)
    # Every server here (scripted, simulator) serves result links on 127.0.0.1, which downloads refuse unless told.
    monkeypatch.setenv("SEEDREAM_ALLOW_INTERNAL_RESULT_HOSTS", "1")


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.sqlite3") as opened:
        yield opened


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(ledger: Ledger, sleeps: Sleeps) -> Iterator[Callable[..., Seedream]]:
    made: list[Seedream] = []

    def make(server: ScriptedServer, **kwargs: Any) -> Seedream:
        transport = server.transport()
        api = SeedreamAPI(SENTINEL_KEY, base_url=BASE_URL, transport=transport)
        kwargs.setdefault("retry", RetryPolicy())
        client = Seedream(
            base_url=BASE_URL,
            ledger=ledger,
            api=api,
            download_transport=transport,
            sleep=sleeps,
            clock=sleeps.clock,
            **kwargs,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
