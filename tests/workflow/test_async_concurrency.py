"""Many tasks on one AsyncSeedream: requests capped per client, ledger guarantees kept with writes off the loop."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from seedream._async._api import AsyncSeedreamAPI
from seedream._async._workflow import AsyncSeedream
from seedream._errors import ConfigurationError
from seedream._ledger import Ledger, TaskState

from .helpers import BASE_URL, SENTINEL_KEY, Sleeps, json_response, png_bytes, task_body

PNG = png_bytes()


class CountingServer:
    """Gives every POST its own task, answers every GET completed, serves a PNG per task; counts requests in flight."""

    def __init__(self, ledger_path: str | None = None, hold_until: int | None = None) -> None:
        self.hold_until = hold_until  # hold each request until this many are in flight (at most 5 s)
        self.in_flight = {"api": 0, "files": 0}
        self.peak = {"api": 0, "files": 0}
        self.posts = 0
        self.ledger_path = ledger_path
        self.seen_at_post: list[set[str]] = []  # states in the ledger (as another process sees it) at each POST

    async def handler(self, request: httpx.Request) -> httpx.Response:
        kind = "files" if request.url.path.startswith("/files/") else "api"
        self.in_flight[kind] += 1
        self.peak[kind] = max(self.peak[kind], self.in_flight[kind])
        try:
            if self.hold_until is None:
                await asyncio.sleep(0.002)  # stay in flight while the other tasks run up to their own requests
            else:
                for _ in range(5000):
                    if self.peak[kind] >= self.hold_until:
                        break
                    await asyncio.sleep(0.001)
            return self._answer(request)
        finally:
            self.in_flight[kind] -= 1

    def _answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST":
            self.posts += 1
            task_id = f"task-unified-1757165031-{self.posts:08d}"
            if self.ledger_path is not None:
                with Ledger(self.ledger_path) as view:
                    self.seen_at_post.append(
                        {e.state for e in view.entries() if e.params.get("prompt") == body_prompt(request)}
                    )
            body = task_body("pending", task_id=task_id) | {"usage": {"credits_reserved": 1.8}}
            return json_response(200, body)
        if path.startswith("/v1/tasks/"):
            task_id = path.rsplit("/", 1)[1]
            return json_response(
                200, task_body("completed", task_id=task_id, progress=100, results=[f"{BASE_URL}/files/{task_id}.png"])
            )
        return httpx.Response(200, content=PNG, headers={"content-type": "image/png"})


def body_prompt(request: httpx.Request) -> str:
    import json

    prompt: str = json.loads(request.content)["prompt"]
    return prompt


def client(server: CountingServer, ledger: Ledger | str, **kwargs: Any) -> AsyncSeedream:
    transport = httpx.MockTransport(server.handler)
    sleeps = Sleeps()
    return AsyncSeedream(
        base_url=BASE_URL,
        ledger=ledger,
        api=AsyncSeedreamAPI(SENTINEL_KEY, base_url=BASE_URL, transport=transport),
        download_transport=transport,
        sleep=sleeps.asleep,
        clock=sleeps.clock,
        **kwargs,
    )


def test_requests_in_flight_never_exceed_the_cap_for_api_calls_and_downloads(ledger: Ledger, tmp_path: Path) -> None:
    server = CountingServer()

    async def run() -> int:
        async with client(server, ledger, max_concurrent_requests=3) as seedream:
            done = await asyncio.gather(*(seedream.generate(f"cat {i}", directory=tmp_path) for i in range(24)))
            return sum(len(g.files) for g in done)

    assert asyncio.run(run()) == 24
    assert server.peak == {"api": 3, "files": 3}  # the cap is reached (work overlaps) and never passed


def test_no_cap_lets_every_request_through_at_once(ledger: Ledger, tmp_path: Path) -> None:
    server = CountingServer(hold_until=24)

    async def run() -> None:
        async with client(server, ledger, max_concurrent_requests=None) as seedream:
            await asyncio.gather(*(seedream.submit(f"cat {i}") for i in range(24)))

    asyncio.run(run())
    assert server.peak["api"] == 24


@pytest.mark.parametrize("value", [0, -1, 2.5, True, "8"])
def test_bad_request_cap_is_refused_naming_the_field(value: object, ledger: Ledger) -> None:
    with pytest.raises(ConfigurationError, match="max_concurrent_requests"):
        AsyncSeedream(SENTINEL_KEY, base_url=BASE_URL, ledger=ledger, max_concurrent_requests=value)  # type: ignore[arg-type]


def test_concurrent_submits_each_find_their_intent_on_disk_and_return_with_their_id_on_disk(
    ledger: Ledger,
) -> None:
    server = CountingServer(ledger_path=ledger.path)
    on_disk_at_return: list[tuple[str | None, str]] = []

    async def one(seedream: AsyncSeedream, i: int) -> None:
        response = await seedream.submit(f"lighthouse {i}")
        with Ledger(ledger.path) as other_process_view:
            entry = other_process_view.get(str(response.id))
        assert entry is not None
        on_disk_at_return.append((entry.task_id, entry.state))

    async def run() -> None:
        async with client(server, ledger) as seedream:
            await asyncio.gather(*(one(seedream, i) for i in range(30)))

    asyncio.run(run())
    assert server.seen_at_post == [{TaskState.INTENT}] * 30
    assert len(on_disk_at_return) == 30
    assert {state for _, state in on_disk_at_return} == {TaskState.SUBMITTED}


class StallingLedger(Ledger):
    """A ledger whose intent writes wait for ``release`` (on the writer thread), to cancel a submit mid-write."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writing = threading.Event()
        self.release = threading.Event()

    def record_intent(self, **kwargs: Any) -> str:
        self.writing.set()
        self.release.wait(10)
        return super().record_intent(**kwargs)


def test_a_submit_cancelled_while_its_intent_is_written_sends_nothing_and_leaves_a_rejected_row(
    tmp_path: Path,
) -> None:
    server = CountingServer()
    stalling = StallingLedger(tmp_path / "stalling.sqlite3")

    async def run() -> None:
        async with client(server, stalling) as seedream:
            submit = asyncio.ensure_future(seedream.submit("a lighthouse"))
            while not stalling.writing.is_set():
                await asyncio.sleep(0.001)
            submit.cancel()
            with pytest.raises(asyncio.CancelledError):
                await submit
            stalling.release.set()

    try:
        asyncio.run(run())
        stalling.close()  # finishes the writes already handed over
        with Ledger(stalling.path) as view:
            [entry] = view.entries()
    finally:
        stalling.release.set()
        stalling.close()
    assert server.posts == 0
    assert entry.state == TaskState.REJECTED
    assert entry.error_message is not None and "cancelled before the request left" in entry.error_message
