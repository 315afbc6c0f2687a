from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Iterator
from typing import Any, cast

import pytest

from seedream import AsyncSeedreamAPI, SeedreamAPI

from .helpers import SENTINEL_KEY, Recorder


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The user's real key or base URL must never leak into a test (or a test into them).
    monkeypatch.delenv("EVOLINK_API_KEY", raising=False)
    monkeypatch.delenv("SEEDREAM_BASE_URL", raising=False)
    # Real-socket tests talk to 127.0.0.1 only; no proxy may route them anywhere else.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


class _Blocking:
    """An :class:`AsyncSeedreamAPI` behind the sync client's calls (each coroutine run to its end on one loop)."""

    def __init__(self, client: AsyncSeedreamAPI, runner: asyncio.Runner) -> None:
        self._client = client
        self._runner = runner

    def __repr__(self) -> str:
        return repr(self._client)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._client, name)
        if not inspect.iscoroutinefunction(value):
            return value

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            return self._runner.run(value(*args, **kwargs))

        return call


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, recorder: Recorder) -> Iterator[SeedreamAPI]:
    """The guarded client of one side: every test taking ``api`` runs on both."""
    if request.param == "sync":
        with SeedreamAPI(SENTINEL_KEY, transport=recorder.transport) as client:
            yield client
        return
    with asyncio.Runner() as runner:
        aclient = AsyncSeedreamAPI(SENTINEL_KEY, transport=recorder.transport)
        yield cast(SeedreamAPI, _Blocking(aclient, runner))
        runner.run(aclient.close())
