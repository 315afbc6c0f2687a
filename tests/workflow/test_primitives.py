"""The paired primitives: the one place the sync and async clients differ, each side proven to do its job."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from seedream._async import _primitives as async_side
from seedream._ledger import Ledger
from seedream._sync import _primitives as sync_side

from .helpers import BASE_URL


def test_both_sides_offer_the_same_names() -> None:
    assert async_side.__all__ == sync_side.__all__
    for name in async_side.__all__:
        assert hasattr(async_side, name) and hasattr(sync_side, name), name


@pytest.mark.parametrize("limit", [1, 3])
def test_the_async_gate_keeps_at_most_limit_calls_in_flight(limit: int) -> None:
    gate = async_side.Gate(limit)
    in_flight, most = 0, 0

    async def call() -> int:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        return 1

    async def main() -> list[int]:
        return await asyncio.gather(*(gate.run(call) for _ in range(10)))

    assert asyncio.run(main()) == [1] * 10
    assert most == limit


@pytest.mark.parametrize("limit", [1, 3])
def test_the_sync_gate_keeps_at_most_limit_calls_in_flight_across_threads(limit: int) -> None:
    gate = sync_side.Gate(limit)
    lock = threading.Lock()
    in_flight, most = 0, 0
    results: list[int] = []

    def call() -> int:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.002)
        with lock:
            in_flight -= 1
        return 1

    threads = [threading.Thread(target=lambda: results.append(gate.run(call))) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [1] * 10
    assert most <= limit


def test_an_ungated_call_runs_as_it_is() -> None:
    assert sync_side.Gate(None).run(lambda: 7) == 7

    async def seven() -> int:
        return 7

    assert asyncio.run(async_side.Gate(None).run(seven)) == 7


def test_sync_ledger_writes_run_on_the_callers_thread_async_ones_on_the_writer_thread(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        caller = threading.get_ident()
        seen: list[int] = []

        def write(value: int) -> int:
            seen.append(threading.get_ident())
            return value

        assert sync_side.ledger_write(ledger, write, 1) == 1
        assert asyncio.run(async_side.ledger_write(ledger, write, 2)) == 2
        assert seen[0] == caller and seen[1] != caller
        local = sync_side.ledger_write(
            ledger, ledger.record_intent, base_url=BASE_URL, params={"prompt": "p"}, directory=None
        )
        assert [e.local_id for e in ledger.entries()] == [local]


def test_only_the_async_side_can_be_cancelled_from_outside() -> None:
    assert async_side.Cancelled is asyncio.CancelledError
    assert not issubclass(sync_side.Cancelled, (Exception, KeyboardInterrupt, SystemExit, asyncio.CancelledError))
