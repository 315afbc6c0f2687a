"""A wait ends at its own deadline even when the query it rides in serves a wait with more time left.

Waits on one client share batch queries (``seedream._async._poller``). A peer on 127.0.0.1 answers each task
query at once ("processing") and stalls every batch query, so the second polls of a short and a long wait meet
in one stalled query. The short wait must end at its own deadline, as its own timeout, whichever of the two
flies the query; the long one at its own. Sync (two threads) and async (two tasks), each order of start.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from seedream import AsyncSeedream, Ledger, Seedream, WaitTimeoutError
from seedream._polling import PollPolicy

from .conftest import Figures
from .helpers import SENTINEL_KEY

pytestmark = pytest.mark.reliability

SHORT, LONG = 1.5, 5.0
SLACK_SECONDS = 1.0  # as in test_hostile_peers: each wait ends within its bound + this
#: Second polls fall due together (first poll at once, then the same short interval, one shared slot).
POLICY = PollPolicy(jitter=0.0, min_interval=0.2, default_estimate=0.2, first_poll_slack=0.0, batch_window=1.0)


class _StallingBatches(BaseHTTPRequestHandler):
    release: threading.Event
    batch_queries: list[list[str]]

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        task_id = self.path.rsplit("/", 1)[1]
        body = {
            "id": task_id,
            "status": "processing",
            "progress": 10,
            "created": 1757165031,
            "model": "doubao-seedream-5.0-lite",
            "object": "image.generation.task",
            "type": "image",
            "task_info": {"can_cancel": False, "estimated_time": 0},
        }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.batch_queries.append(json.loads(self.rfile.read(length))["task_ids"])
        self.release.wait(30)  # never answers while the test runs


@pytest.fixture
def stalling_peer() -> Iterator[tuple[str, list[list[str]]]]:
    release, queries = threading.Event(), []
    handler = type("Handler", (_StallingBatches,), {"release": release, "batch_queries": queries})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", queries
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join()


TASKS = ("task-unified-1757165031-short0000001", "task-unified-1757165031-long00000001")


def _sync(base_url: str, ledger: Ledger, order: tuple[str, ...]) -> dict[str, tuple[float, str]]:
    ended: dict[str, tuple[float, str]] = {}
    with Seedream(SENTINEL_KEY, base_url=base_url, ledger=ledger, polling=POLICY) as client:

        def one(name: str) -> None:
            bound, task_id = (SHORT, TASKS[0]) if name == "short" else (LONG, TASKS[1])
            started = time.monotonic()
            try:
                client.wait(task_id, timeout=bound)
                how = "returned"
            except WaitTimeoutError:
                how = "WaitTimeoutError"
            ended[name] = (time.monotonic() - started, how)

        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(one, name) for name in order]
            for future in futures:
                future.result()
    return ended


def _async(base_url: str, ledger: Ledger, order: tuple[str, ...]) -> dict[str, tuple[float, str]]:
    ended: dict[str, tuple[float, str]] = {}

    async def main() -> None:
        async with AsyncSeedream(SENTINEL_KEY, base_url=base_url, ledger=ledger, polling=POLICY) as client:

            async def one(name: str) -> None:
                bound, task_id = (SHORT, TASKS[0]) if name == "short" else (LONG, TASKS[1])
                started = time.monotonic()
                try:
                    await client.wait(task_id, timeout=bound)
                    how = "returned"
                except WaitTimeoutError:
                    how = "WaitTimeoutError"
                ended[name] = (time.monotonic() - started, how)

            await asyncio.gather(*(one(name) for name in order))

    asyncio.run(main())
    return ended


@pytest.mark.parametrize("order", [("short", "long"), ("long", "short")], ids=["short-first", "long-first"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_wait_ends_at_its_own_deadline_though_a_longer_wait_shares_its_stalled_query(
    stalling_peer: tuple[str, list[list[str]]], tmp_path: Path, figures: Figures, mode: str, order: tuple[str, ...]
) -> None:
    base_url, batch_queries = stalling_peer
    with Ledger(tmp_path / "ledger.sqlite3") as ledger:
        ended = (_sync if mode == "sync" else _async)(base_url, ledger, order)
    figures.update(bounds_s=[SHORT, LONG], ended={k: (round(s, 2), how) for k, (s, how) in ended.items()})
    assert any(sorted(ids) == sorted(TASKS) for ids in batch_queries), batch_queries  # the two did share one
    assert ended["short"][1] == ended["long"][1] == "WaitTimeoutError", ended
    assert ended["short"][0] < SHORT + SLACK_SECONDS, ended
    assert ended["long"][0] < LONG + SLACK_SECONDS, ended
