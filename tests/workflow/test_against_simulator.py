"""The high-level client against the embedded simulator on 127.0.0.1 (real HTTP, small time scale)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from seedream import AsyncSeedream, Seedream
from seedream._errors import APITimeoutError, LinkExpiredError, ServerError, TaskFailedError
from seedream._ledger import Ledger, TaskState
from seedream._polling import PollPolicy
from seedream._rules import output_size
from seedream.simulator import SimulatorConfig, create_app, run_simulator
from seedream.simulator._server import RunningSimulator

from .helpers import SENTINEL_KEY

SCALE = 0.02
POLLING = PollPolicy().scaled(SCALE)


def config(**overrides: Any) -> SimulatorConfig:
    return SimulatorConfig.for_tests(api_keys=(SENTINEL_KEY,), time_scale=SCALE, **overrides)


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator(config()) as server:
        yield server


def client_for(server: RunningSimulator, ledger: Ledger, **kwargs: Any) -> Seedream:
    kwargs.setdefault("polling", POLLING)
    # The simulator serves results on 127.0.0.1: the internal-host policy is lifted for it, explicitly.
    return Seedream(SENTINEL_KEY, base_url=server.base_url, ledger=ledger, allow_internal_result_hosts=True, **kwargs)


def post_count(server: RunningSimulator) -> int:
    return sum(server.counters()["requests"].get("POST /v1/images/generations", {}).values())


def test_generate_two_images_end_to_end(simulator: RunningSimulator, ledger: Ledger, tmp_path: Path) -> None:
    with client_for(simulator, ledger) as client:
        result = client.generate("two views of a lighthouse", n=2, size="16:9", quality="2K", directory=tmp_path)
    assert [f.index for f in result.files] == [0, 1]
    assert all((f.width, f.height) == output_size("16:9", "2K") for f in result.files)
    assert all(f.path.is_file() and f.path.parent == tmp_path.resolve() for f in result.files)
    assert simulator.counters()["tasks_created"] == 1 and post_count(simulator) == 1
    entry = ledger.get(str(result.task.id))
    assert entry is not None and entry.state == TaskState.DOWNLOADED
    assert {f.sha256 for f in entry.files} == {f.sha256 for f in result.files}


def test_post_is_not_replayed_after_a_read_timeout_per_the_simulator_counters(ledger: Ledger) -> None:
    # Every request is held 50 simulated s (1 s real): the client's 0.25 s read timeout fires first.
    with run_simulator(config(fault_latency=50.0)) as server:
        client = client_for(server, ledger, timeout=httpx.Timeout(0.25, connect=5.0))
        with client, pytest.raises(APITimeoutError) as caught:
            client.submit("a lighthouse")
        assert caught.value.request_sent is True
        deadline = time.monotonic() + 5
        while post_count(server) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)  # the simulator counts the request when its (late) answer is done
        time.sleep(0.1)
        assert post_count(server) == 1
    assert ledger.entries()[0].state == TaskState.UNCONFIRMED


def test_post_is_not_replayed_after_a_5xx_once_the_server_acted(ledger: Ledger) -> None:
    with run_simulator(config(fault_5xx=1.0, seed=3)) as server:
        with client_for(server, ledger) as client, pytest.raises(ServerError):
            client.submit("a lighthouse")
        assert post_count(server) == 1


def test_retry_after_from_the_simulator_is_honoured(ledger: Ledger) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    # One request per 10 simulated seconds (0.2 s real): the second request meets 429 + Retry-After.
    with run_simulator(config(rate_limit=1, rate_limit_window=10.0)) as server:
        with client_for(server, ledger, sleep=sleep) as client:
            response = client.submit("a lighthouse")
            detail = client.get(response)
        statuses = server.counters()["requests"]["GET /v1/tasks/{task_id}"]
    assert detail.id == response.id
    assert statuses.get("429") == 1 and statuses.get("200") == 1
    assert len(slept) == 1 and 0 < slept[0] <= 0.2 + 1e-6  # the header's value, not a backoff guess


def test_expired_link_names_the_task(ledger: Ledger, tmp_path: Path) -> None:
    with run_simulator(config(link_lifetime=1.0)) as server:  # links die 0.02 s after completion
        with client_for(server, ledger) as client:
            task = client.wait(client.submit("a lighthouse"))
            time.sleep(0.1)
            with pytest.raises(LinkExpiredError, match=str(task.id)):
                client.download(task, tmp_path / "out")
        assert server.counters()["files"]["expired"] == 1
    entry = ledger.get(str(task.id))
    assert entry is not None and entry.state == TaskState.EXPIRED
    assert list((tmp_path / "out").iterdir()) == []


def test_failed_task_raises_with_the_vendor_code(simulator: RunningSimulator, ledger: Ledger, tmp_path: Path) -> None:
    with client_for(simulator, ledger) as client, pytest.raises(TaskFailedError) as caught:
        client.generate("[sim:fail=content_policy_violation] a lighthouse", directory=tmp_path)
    assert caught.value.code == "content_policy_violation" and caught.value.retryable is False


def test_forged_callback_is_checked_against_the_api(simulator: RunningSimulator, ledger: Ledger) -> None:
    with client_for(simulator, ledger) as client:
        response = client.submit("[sim:duration=500] a slow lighthouse")
        forged = {"id": response.id, "status": "completed", "progress": 100, "results": ["https://evil.example/x"]}
        confirmed = client.confirm_callback(forged)
    assert str(confirmed.status) in ("pending", "processing")


def test_async_client_in_process_over_asgi(ledger: Ledger, tmp_path: Path) -> None:
    async def run() -> list[tuple[int | None, int | None]]:
        with create_app(config()) as app:
            transport = httpx.ASGITransport(app=app)
            async with AsyncSeedream(
                SENTINEL_KEY,
                base_url="http://127.0.0.1:9",  # only a Host header: ASGITransport never opens a socket
                ledger=ledger,
                transport=transport,
                download_transport=transport,
                allow_internal_result_hosts=True,  # the simulator's result links name 127.0.0.1
                polling=POLLING,
            ) as client:
                result = await client.generate("two lighthouses", n=2, directory=tmp_path)
                return [(f.width, f.height) for f in result.files]

    assert asyncio.run(run()) == [output_size(None, None)] * 2
