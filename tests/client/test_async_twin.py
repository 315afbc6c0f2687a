"""AsyncSeedreamAPI behaves as SeedreamAPI: same bodies, same checks, same answers, same errors."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from seedream_client.models import ImageGenerationResponse, TaskDetailResponse

from seedream import (
    AsyncSeedreamAPI,
    RateLimitError,
    RequestValidationError,
    SeedreamAPI,
    ServerError,
    UnexpectedResponseError,
)
from seedream.testing._spec_cases import response_example

from .helpers import SENTINEL_KEY, Recorder, json_response

T = TypeVar("T")


def _run(make: Callable[[AsyncSeedreamAPI], Awaitable[T]], recorder: Recorder) -> T:
    async def main() -> T:
        async with AsyncSeedreamAPI(SENTINEL_KEY, transport=recorder.transport) as api:
            return await make(api)

    return asyncio.run(main())


def test_the_twins_offer_the_same_methods_with_the_same_parameters() -> None:
    for name in ("build_body", "create_generation", "create_generation_from_body", "get_task", "close"):
        sync_sig = inspect.signature(getattr(SeedreamAPI, name))
        async_sig = inspect.signature(getattr(AsyncSeedreamAPI, name))
        assert list(sync_sig.parameters) == list(async_sig.parameters), name
        if name != "build_body":
            assert inspect.iscoroutinefunction(getattr(AsyncSeedreamAPI, name)), name
    init_sync = inspect.signature(SeedreamAPI.__init__).parameters
    init_async = inspect.signature(AsyncSeedreamAPI.__init__).parameters
    assert list(init_sync) == list(init_async)


def test_the_async_client_sends_the_same_request_as_the_sync_one() -> None:
    sync_rec, async_rec = Recorder(), Recorder()
    kwargs: dict[str, Any] = {"n": 2, "size": "2560x1440", "quality": "2K", "output_format": "png", "web_search": True}
    with SeedreamAPI(SENTINEL_KEY, transport=sync_rec.transport) as api:
        sync_created = api.create_generation("a fox", **kwargs)
        sync_task = api.get_task("task-unified-1")
    async_created, async_task = _run(
        lambda a: asyncio.gather(a.create_generation("a fox", **kwargs), a.get_task("task-unified-1")), async_rec
    )
    assert isinstance(async_created, ImageGenerationResponse) and isinstance(async_task, TaskDetailResponse)
    assert async_created == sync_created and async_task == sync_task
    for s, a in zip(sync_rec.requests, async_rec.requests, strict=True):
        assert (s.method, s.url, s.content) == (a.method, a.url, a.content)
        assert s.headers["authorization"] == a.headers["authorization"]


def test_the_async_client_refuses_invalid_bodies_before_sending() -> None:
    recorder = Recorder()

    async def bad(api: AsyncSeedreamAPI) -> None:
        for call in (
            lambda: api.create_generation("a lake", size="2559x1440"),
            lambda: api.create_generation("a lake", callback_url="https://192.168.1.2/cb"),
            lambda: api.create_generation_from_body({"model": "doubao-seedream-5.0-lite", "prompt": "x", "n": 16}),
            lambda: api.get_task(""),
        ):
            with pytest.raises(RequestValidationError):
                await call()

    _run(bad, recorder)
    assert recorder.count == 0


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (json_response(429, response_example("createImageGeneration", 429), {"retry-after": "3"}), RateLimitError),
        (httpx.Response(520, content=b"oops"), ServerError),
        (httpx.Response(200, content=b"<html>"), UnexpectedResponseError),
    ],
)
def test_the_async_client_raises_the_same_errors(reply: httpx.Response, error: type[Exception]) -> None:
    async def call(api: AsyncSeedreamAPI) -> Any:
        return await api.create_generation("a lake")

    with pytest.raises(error):
        _run(call, Recorder(reply))


def test_the_async_client_closes_its_own_httpx_client() -> None:
    async def main() -> httpx.AsyncClient:
        api = AsyncSeedreamAPI(SENTINEL_KEY, transport=Recorder().transport)
        await api.close()
        return api.http_client

    assert asyncio.run(main()).is_closed
