from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from seedream import AsyncSeedream, AsyncSeedreamAPI, Seedream, SeedreamAPI
from seedream._ledger import Ledger
from seedream._retry import RetryPolicy

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


class _Blocking:
    """An :class:`AsyncSeedream` driven through the sync client's calls: each coroutine run to its end on one loop.

    So one test of a behaviour runs both sides (``make_client`` is parametrised over them).
    """

    def __init__(self, client: AsyncSeedream, runner: asyncio.Runner) -> None:
        self._client = client
        self._runner = runner

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._client, name)
        if not inspect.iscoroutinefunction(value):
            return value

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            return self._runner.run(value(*args, **kwargs))

        return call


@pytest.fixture(params=["sync", "async"])
def make_client(request: pytest.FixtureRequest, ledger: Ledger, sleeps: Sleeps) -> Iterator[Callable[..., Seedream]]:
    """Make the client of one side: the sync :class:`Seedream`, or :class:`AsyncSeedream` behind :class:`_Blocking`."""
    made: list[Callable[[], object]] = []
    runner = asyncio.Runner()

    def make(server: ScriptedServer, **kwargs: Any) -> Seedream:
        transport = server.transport()
        kwargs.setdefault("retry", RetryPolicy())
        common: dict[str, Any] = {
            "base_url": BASE_URL,
            "ledger": ledger,
            "download_transport": transport,
            "clock": sleeps.clock,
        }
        if request.param == "sync":
            client = Seedream(
                api=SeedreamAPI(SENTINEL_KEY, base_url=BASE_URL, transport=transport), sleep=sleeps, **common, **kwargs
            )
            made.append(client.close)
            return client
        aapi = AsyncSeedreamAPI(SENTINEL_KEY, base_url=BASE_URL, transport=transport)
        aclient = AsyncSeedream(api=aapi, sleep=sleeps.asleep, **common, **kwargs)
        made.append(lambda: runner.run(aclient.close()))
        return cast(Seedream, _Blocking(aclient, runner))

    yield make
    for close in made:
        close()
    runner.close()
