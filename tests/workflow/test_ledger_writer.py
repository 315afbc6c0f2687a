"""The ledger's writer thread (``Ledger.awrite``): durable on return, group commits, failures kept apart, never lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from seedream._errors import LedgerError
from seedream._ledger import Ledger, TaskState

BASE = "http://127.0.0.1:9"


def intent(ledger: Ledger, prompt: str) -> asyncio.Future[str]:
    return asyncio.ensure_future(
        ledger.awrite(ledger.record_intent, base_url=BASE, params={"prompt": prompt}, directory=None)
    )


def test_an_awaited_write_returns_its_result_and_is_on_disk(ledger: Ledger) -> None:
    async def run() -> str:
        local_id = await ledger.awrite(ledger.record_intent, base_url=BASE, params={"prompt": "a"}, directory=None)
        await ledger.awrite(
            ledger.record_submitted, local_id, task_id="task-1", status="pending", created=1, estimated_time=9
        )
        return local_id

    local_id = asyncio.run(run())
    with Ledger(ledger.path) as other_process_view:
        [entry] = other_process_view.entries()
    assert (entry.local_id, entry.task_id, entry.state) == (local_id, "task-1", TaskState.SUBMITTED)


def test_writes_made_together_share_commits(ledger: Ledger) -> None:
    commits: list[str] = []
    ledger._db.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)

    async def run() -> None:
        await asyncio.gather(*(intent(ledger, f"p{i}") for i in range(100)))

    asyncio.run(run())
    ledger._db.set_trace_callback(None)
    assert len(ledger.entries()) == 100
    assert 1 <= len(commits) < 50  # one fsync per commit: far fewer than one per write


def test_a_failing_write_fails_alone_and_the_rest_of_its_commit_stands(ledger: Ledger) -> None:
    async def run() -> list[object]:
        writes = [intent(ledger, f"p{i}") for i in range(10)]
        unstorable = ledger.awrite(ledger.record_intent, base_url=BASE, params={"prompt": object()}, directory=None)
        return await asyncio.gather(*writes, unstorable, return_exceptions=True)

    results = asyncio.run(run())
    assert isinstance(results[-1], TypeError)  # not JSON-serialisable: raised to its own caller
    assert all(isinstance(r, str) for r in results[:-1])
    assert sorted(e.params["prompt"] for e in ledger.entries()) == sorted(f"p{i}" for i in range(10))


def test_cancelling_the_caller_does_not_drop_a_handed_over_write(ledger: Ledger) -> None:
    async def run() -> None:
        write = intent(ledger, "paid for")
        await asyncio.sleep(0)  # handed over
        write.cancel()
        with pytest.raises(asyncio.CancelledError):
            await write

    asyncio.run(run())
    ledger.close()  # drains the writer
    with Ledger(ledger.path) as other_process_view:
        assert [e.params["prompt"] for e in other_process_view.entries()] == ["paid for"]


def test_close_finishes_pending_writes_then_refuses_new_ones(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    futures = [
        ledger.defer(ledger.record_intent, base_url=BASE, params={"prompt": f"p{i}"}, directory=None) for i in range(20)
    ]
    ledger.close()
    assert all(f.done() and f.exception() is None for f in futures)
    with pytest.raises(LedgerError, match="closed"):
        ledger.defer(ledger.record_intent, base_url=BASE, params={"prompt": "late"}, directory=None)
    with Ledger(tmp_path / "l.sqlite3") as reopened:
        assert len(reopened.entries()) == 20


def test_sync_and_writer_thread_writes_mix_on_one_ledger(ledger: Ledger) -> None:
    async def run() -> None:
        writes = [intent(ledger, f"async {i}") for i in range(20)]
        ledger.record_intent(base_url=BASE, params={"prompt": "sync"}, directory=None)
        await asyncio.gather(*writes)

    asyncio.run(run())
    prompts = {e.params["prompt"] for e in ledger.entries()}
    assert prompts == {"sync"} | {f"async {i}" for i in range(20)}
