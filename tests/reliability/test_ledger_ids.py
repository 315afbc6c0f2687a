"""A task id, once received, is never lost and never overwritten (issue 10, class 4).

Hostile peers: another *process* holding the ledger's write lock while POSTs
are in flight; a server handing out ids the ledger already holds, answering
a query with another task's id, flapping a task's status backwards, or
breaking a create answer around a good id; ledgers of other schema versions.
Sockets are not the point here, so the API is an ``httpx.MockTransport``
(the CLI runs go over a real server on 127.0.0.1).
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import random
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from seedream import AsyncSeedream, Ledger, LedgerError, Seedream, UnexpectedResponseError
from seedream import _ledger as ledger_module
from seedream._cli import app
from seedream._ledger import JOURNAL_SUFFIX, MIGRATIONS, SCHEMA_VERSION, TaskState

from .conftest import Figures
from .helpers import SENTINEL_KEY

pytestmark = pytest.mark.reliability

BASE = "http://127.0.0.1:9"  # never dialled: every exchange below goes through a MockTransport
FAST: dict[str, Any] = {"busy_timeout": 0.05, "lock_retries": 1}  # bounded waits past the busy timeout, in milliseconds


def _created(task_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "created": 1757165031,
        "id": task_id,
        "model": "doubao-seedream-5.0-lite",
        "object": "image.generation.task",
        "progress": 0,
        "status": "pending",
        "task_info": {"can_cancel": True, "estimated_time": 10},
        "type": "image",
    }
    return {**body, **overrides}


def _task(task_id: str, status: str, **fields: Any) -> dict[str, Any]:
    return {**_created(task_id, status=status), **fields}


class Locker:
    """Another process holding the ledger's write lock (``BEGIN EXCLUSIVE``) on command."""

    SCRIPT = (
        "import sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n"
        "for line in sys.stdin:\n"
        "    command = line.strip()\n"
        "    if command == 'lock':\n"
        "        db.execute('BEGIN EXCLUSIVE')\n"
        "    elif command == 'unlock':\n"
        "        db.execute('COMMIT')\n"
        "    else:\n"
        "        break\n"
        "    print(command, flush=True)\n"
    )

    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", self.SCRIPT, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.locked = False

    def _do(self, command: str) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == command

    def lock(self) -> None:
        self._do("lock")
        self.locked = True

    def unlock(self) -> None:
        if self.locked:
            self._do("unlock")
            self.locked = False

    def close(self) -> None:
        self.unlock()
        self.process.communicate("quit\n", timeout=10)


@pytest.fixture
def locker(tmp_path: Path) -> Iterator[Callable[[Path], Locker]]:
    started: list[Locker] = []

    def start(path: Path) -> Locker:
        Ledger(path).close()  # the schema exists before anyone locks it
        started.append(Locker(path))
        return started[-1]

    yield start
    for one in started:
        one.close()


def _rows(path: Path) -> list[dict[str, Any]]:
    """The ledger as another process sees it right now (no replay, no migration)."""
    db = sqlite3.connect(path)
    try:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM tasks ORDER BY rowid")]
    finally:
        db.close()


def _journal_lines(path: Path) -> int:
    journal = Path(str(path) + JOURNAL_SUFFIX)
    return len(journal.read_bytes().splitlines()) if journal.exists() else 0


# -- lock contention ---------------------------------------------------------------------------------------------------


def test_two_hundred_posts_answered_while_another_process_holds_the_lock_keep_every_id(
    tmp_path: Path, locker: Callable[[Path], Locker], figures: Figures
) -> None:
    path = tmp_path / "ledger.sqlite3"
    other = locker(path)
    count = 200
    arrived = 0

    async def run() -> list[str]:
        nonlocal arrived
        everyone_in = asyncio.Event()

        async def serve(request: httpx.Request) -> httpx.Response:
            nonlocal arrived
            arrived += 1
            index = arrived
            if arrived == count:  # every intent is on disk and every POST in flight: now the lock goes elsewhere
                other.lock()
                everyone_in.set()
            await everyone_in.wait()
            return httpx.Response(200, json=_created(f"task-unified-1757165031-{index:04d}"))

        ledger = Ledger(path, **FAST)
        async with AsyncSeedream(
            SENTINEL_KEY,
            base_url=BASE,
            ledger=ledger,
            transport=httpx.MockTransport(serve),
            max_concurrent_requests=None,
        ) as client:
            responses = await asyncio.gather(*(client.submit(f"prompt {i}") for i in range(count)))
        ledger.close()
        return [str(response.id) for response in responses]

    ids = asyncio.run(run())
    journaled = _journal_lines(path)
    in_database_while_locked = sum(1 for row in _rows(path) if row["task_id"])
    other.unlock()
    with Ledger(path) as reopened:  # the next open replays the journal
        entries = reopened.entries()
    recorded = {e.task_id for e in entries if e.state == TaskState.SUBMITTED}
    assert len(set(ids)) == count and arrived == count
    assert in_database_while_locked == 0 and journaled == count  # the fallback really carried them
    assert recorded == set(ids) and len(entries) == count
    assert _journal_lines(path) == 0
    figures.update(
        posts=count,
        ids_returned=len(ids),
        ids_journaled_while_locked=journaled,
        ids_recorded_after_reopen=len(recorded),
    )


def test_sync_submits_under_a_held_lock_are_replayed_by_the_next_write_of_the_same_process(
    tmp_path: Path, locker: Callable[[Path], Locker], figures: Figures
) -> None:
    path = tmp_path / "ledger.sqlite3"
    other = locker(path)
    posts = 0

    def serve(request: httpx.Request) -> httpx.Response:
        nonlocal posts
        if request.method == "POST":
            posts += 1
            other.lock()  # while the POST is in flight
            return httpx.Response(200, json=_created(f"task-unified-1757165031-s{posts:03d}"))
        return httpx.Response(404)

    ids = []
    # A ledger handed in stays the caller's to close (the client closes only one it opened itself).
    with (
        Ledger(path, **FAST) as ledger,
        Seedream(SENTINEL_KEY, base_url=BASE, ledger=ledger, transport=httpx.MockTransport(serve)) as client,
    ):
        for i in range(20):
            ids.append(str(client.submit(f"prompt {i}").id))  # returns: the id is durable in the journal
            assert _journal_lines(path) >= 1
            other.unlock()  # the next intent's write replays the journal first
        in_database = {e.task_id for e in client.ledger.entries()}
    assert set(ids) <= in_database and _journal_lines(path) == 0
    figures.update(posts=posts, ids_recorded=len(set(ids) & in_database))


class _LockingServer(BaseHTTPRequestHandler):
    """A real API on loopback that hands the ledger's lock to another process while answering a POST."""

    locker: Locker | None = None

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.locker is not None:
            self.locker.lock()
        body = json.dumps(_created("task-unified-1757165031-cli")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def locking_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LockingServer)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        _LockingServer.locker = None


def test_the_cli_prints_and_keeps_the_id_of_a_post_answered_under_a_held_lock(
    tmp_path: Path, locking_server: str, locker: Callable[[Path], Locker], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ledger.sqlite3"
    _LockingServer.locker = other = locker(path)
    monkeypatch.setattr(ledger_module, "BUSY_TIMEOUT_SECONDS", 0.05)
    env = {"EVOLINK_API_KEY": SENTINEL_KEY, "SEEDREAM_BASE_URL": locking_server, "SEEDREAM_LEDGER": str(path)}
    result = CliRunner().invoke(app, ["generate", "a lighthouse", "--no-wait", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["task"]["id"] == "task-unified-1757165031-cli"
    other.unlock()
    listed = CliRunner().invoke(app, ["ledger", "list", "--json"], env=env)
    assert [(row["task_id"], row["state"]) for row in json.loads(listed.stdout)] == [
        ("task-unified-1757165031-cli", "submitted")
    ]

    # The journal unusable too: the error still names the task, in --json and on stderr.
    Path(str(path) + JOURNAL_SUFFIX).unlink(missing_ok=True)
    Path(str(path) + JOURNAL_SUFFIX).mkdir()
    failed = CliRunner().invoke(app, ["generate", "a lighthouse", "--no-wait", "--json"], env=env)
    error = json.loads(failed.stdout)["error"]
    assert failed.exit_code == 1 and error["type"] == "LedgerError"
    assert error["task_id"] == "task-unified-1757165031-cli" and "task-unified-1757165031-cli" in failed.stderr


# -- duplicates, foreign answers, broken answers, flapping -------------------------------------------------------------


def test_ids_the_ledger_already_holds_never_replace_or_delete_a_row(tmp_path: Path, figures: Figures) -> None:
    rng = random.Random(10)
    pool = [f"task-unified-1757165031-dup{i}" for i in range(10)]
    answered: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        answered.append(rng.choice(pool))
        return httpx.Response(200, json=_created(answered[-1]))

    path = tmp_path / "ledger.sqlite3"
    duplicates = 0
    with Seedream(SENTINEL_KEY, base_url=BASE, ledger=path, transport=httpx.MockTransport(serve)) as client:
        owners: dict[str, dict[str, Any]] = {}
        for i in range(100):
            try:
                response = client.submit(f"prompt {i}", directory=tmp_path / f"out{i}")
            except UnexpectedResponseError as error:
                duplicates += 1
                assert error.task_id == answered[-1] and error.task_id in owners
            else:
                task_id = str(response.id)
                client.ledger.record_task(task_id, base_url=BASE, status="completed", results=["https://x/1.png"])
                client.ledger.record_downloaded(task_id, directory=tmp_path / f"out{i}")
                owners[task_id] = client.ledger.get(task_id).to_dict()  # type: ignore[union-attr]
        entries = client.ledger.entries()
        after = {task_id: client.ledger.get(task_id).to_dict() for task_id in owners}  # type: ignore[union-attr]
    flagged = [e for e in entries if e.duplicate_of is not None]
    assert len(entries) == 100 and after == owners  # every earlier row exactly as it was
    assert len(flagged) == duplicates == 100 - len(owners)
    assert {e.state for e in flagged} == {TaskState.UNCONFIRMED} and all(e.task_id is None for e in flagged)
    assert sorted(e.params["prompt"] for e in entries) == sorted(f"prompt {i}" for i in range(100))
    figures.update(posts=100, distinct_ids=len(owners), duplicates_flagged=len(flagged), rows_lost=100 - len(entries))


def test_a_duplicate_replayed_from_the_journal_is_flagged_not_merged(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as ledger:
        first = ledger.record_intent(base_url=BASE, params={"prompt": "first"}, directory=tmp_path)
        second = ledger.record_intent(base_url=BASE, params={"prompt": "second"}, directory=None)
        assert ledger.record_submitted(first, task_id="task-unified-1-x", status="pending", created=1, estimated_time=1)
        before = ledger.get("task-unified-1-x")
    line = {"local_id": second, "task_id": "task-unified-1-x", "status": None, "created": None, "estimated_time": None}
    Path(str(path) + JOURNAL_SUFFIX).write_text(json.dumps(line) + "\n" + json.dumps(line) + "\n")
    with Ledger(path) as ledger:
        entries = {e.local_id: e for e in ledger.entries()}
        assert ledger.get("task-unified-1-x") == before
    assert entries[second].duplicate_of == "task-unified-1-x" and entries[second].state == TaskState.UNCONFIRMED
    assert len(entries) == 2 and _journal_lines(path) == 0


FOREIGN_IDS = (
    "../../etc/passwd",
    "task-unified-1757165031-other",
    "task-unified-1757165031-mine ",
    "TASK-UNIFIED-1757165031-MINE",
    f"task-unified-{SENTINEL_KEY}",
    "",
)


def test_an_answer_about_another_task_is_an_error_and_writes_no_row(tmp_path: Path, figures: Figures) -> None:
    mine = "task-unified-1757165031-mine"
    answer: dict[str, Any] = {}

    def serve(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json=_created(mine))
        return httpx.Response(200, json=answer)

    refused = 0
    path = tmp_path / "ledger.sqlite3"
    with Seedream(SENTINEL_KEY, base_url=BASE, ledger=path, transport=httpx.MockTransport(serve)) as client:
        client.submit("a lighthouse", directory=tmp_path)
        before = client.ledger.entries()
        for foreign in FOREIGN_IDS:
            for status in ("completed", "failed", "processing"):
                answer.clear()
                answer.update(_task(foreign, status, results=["https://x/1.png"], progress=100))
                with pytest.raises(UnexpectedResponseError, match="refused, nothing recorded"):
                    client.get(mine)
                with pytest.raises(UnexpectedResponseError):
                    client.download(mine, tmp_path / "out")
                refused += 2
        after = client.ledger.entries()

        async def run_async() -> None:
            async with AsyncSeedream(
                SENTINEL_KEY, base_url=BASE, ledger=client.ledger, transport=httpx.MockTransport(serve)
            ) as aclient:
                with pytest.raises(UnexpectedResponseError):
                    await aclient.wait(mine, timeout=5)

        asyncio.run(run_async())
        assert client.ledger.entries() == before
    assert after == before and [e.task_id for e in after] == [mine] and after[0].state == TaskState.SUBMITTED
    assert not list((tmp_path / "out").glob("*.png")) if (tmp_path / "out").exists() else True
    figures.update(foreign_answers=refused + 1, rows_before=len(before), rows_after=len(after), rows_lost=0)


@pytest.mark.parametrize(
    "broken",
    [{"progress": "50%"}, {"task_info": {"can_cancel": True, "estimated_time": 1.5}}, {"created": "yesterday"}],
    ids=["progress-50%", "float-estimate", "string-created"],
)
def test_a_create_answer_broken_around_a_good_id_records_the_id_then_raises(
    tmp_path: Path, broken: dict[str, Any]
) -> None:
    task_id = "task-unified-1757165031-broken"
    served: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        served.append(request.method)
        if request.method == "POST":
            return httpx.Response(200, json=_created(task_id, **broken))
        return httpx.Response(200, json=_task(task_id, "processing", progress=50))

    path = tmp_path / "ledger.sqlite3"
    with Seedream(SENTINEL_KEY, base_url=BASE, ledger=path, transport=httpx.MockTransport(serve)) as client:
        with pytest.raises(UnexpectedResponseError) as caught:
            client.submit("a lighthouse", directory=tmp_path)
        assert caught.value.task_id == task_id
        [entry] = client.ledger.entries()
        assert (entry.task_id, entry.state) == (task_id, TaskState.SUBMITTED)
        assert entry.error_message is not None and "UnexpectedResponseError" in entry.error_message
        assert [e.task_id for e in client.ledger.resumable(base_url=BASE)] == [task_id]  # resume will follow it

    async def run_async() -> None:
        async with AsyncSeedream(
            SENTINEL_KEY, base_url=BASE, ledger=tmp_path / "async.sqlite3", transport=httpx.MockTransport(serve)
        ) as aclient:
            with pytest.raises(UnexpectedResponseError) as caught:
                await aclient.submit("a lighthouse")
            assert caught.value.task_id == task_id
            assert [e.task_id for e in aclient.ledger.entries()] == [task_id]

    asyncio.run(run_async())
    assert served == ["POST", "POST"]  # never replayed


def test_the_cli_json_error_of_a_broken_create_answer_carries_the_task_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = json.dumps(_created("task-unified-1757165031-cli", progress="50%")).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {
            "EVOLINK_API_KEY": SENTINEL_KEY,
            "SEEDREAM_BASE_URL": f"http://127.0.0.1:{server.server_address[1]}",
            "SEEDREAM_LEDGER": str(tmp_path / "ledger.sqlite3"),
        }
        result = CliRunner().invoke(app, ["generate", "a lighthouse", "--json"], env=env)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    error = json.loads(result.stdout)["error"]
    assert result.exit_code == 1 and error["type"] == "UnexpectedResponseError"
    assert error["task_id"] == "task-unified-1757165031-cli" and "seedream wait task-unified-1757165031-cli" in (
        result.stderr
    )


def test_states_only_move_forward_whatever_the_polls_say(tmp_path: Path, figures: Figures) -> None:
    rng = random.Random(4)
    task_id = "task-unified-1757165031-flap"
    statuses: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json=_created(task_id))
        # Up to completed first, then anything: processing after completed, failed after completed, ...
        opening = ["pending", "processing", "completed"]
        status = opening[len(statuses)] if len(statuses) < 3 else rng.choice([*opening, "failed", "cancelled"])
        statuses.append(status)
        body = _task(task_id, status, results=["https://x/1.png"], progress=rng.randint(0, 100))
        return httpx.Response(200, json=body)

    order = ledger_module._RANK
    seen: list[str] = []
    with Seedream(
        SENTINEL_KEY, base_url=BASE, ledger=tmp_path / "l.sqlite3", transport=httpx.MockTransport(serve)
    ) as client:
        client.submit("a lighthouse")
        for _ in range(200):
            client.get(task_id)
            seen.append(client.ledger.get(task_id).state)  # type: ignore[union-attr]
        client.ledger.record_downloaded(task_id, directory=tmp_path)
        for _ in range(50):
            client.get(task_id)
            seen.append(client.ledger.get(task_id).state)  # type: ignore[union-attr]
    ranks = [order[TaskState(state)] for state in seen]
    assert ranks == sorted(ranks) and seen[-1] == TaskState.DOWNLOADED
    assert seen[2:200] == [TaskState.COMPLETED] * 198  # completed stayed completed, whatever came after
    assert statuses[3:].count("processing") > 10 and statuses[3:].count("failed") > 10  # the server really flapped
    figures.update(polls=len(statuses), states_seen=sorted(set(seen)), backward_moves=0)


# -- schema versions ---------------------------------------------------------------------------------------------------


def _v1_ledger(path: Path) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(MIGRATIONS[0][1])
    db.execute(
        "INSERT INTO tasks (local_id, task_id, state, base_url, params, intent_at, updated_at)"
        " VALUES ('a', 'task-unified-1-old', 'submitted', 'https://api.evolink.ai', '{\"prompt\": \"p\"}', 1, 1)"
    )
    db.execute("PRAGMA user_version = 1")
    db.close()


def _user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def test_an_older_ledger_is_migrated_step_by_step_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    _v1_ledger(path)
    with Ledger(path) as ledger:
        [entry] = ledger.entries()
    assert (entry.task_id, entry.params, entry.duplicate_of) == ("task-unified-1-old", {"prompt": "p"}, None)
    assert (entry.idempotency_key, entry.body_sha256) == (None, None)  # sent before keys: never replayable
    assert _user_version(path) == SCHEMA_VERSION == 5
    db = sqlite3.connect(path)
    try:  # migration 3 added the batch lines table, 4 the drift table, 5 the idempotency support table
        assert db.execute("SELECT count(*) FROM batch_lines").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM drift").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM idempotency_support").fetchone()[0] == 0
    finally:
        db.close()
    assert [number for number, _ in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))


def test_a_failing_migration_leaves_the_version_and_the_rows_as_they_were(tmp_path: Path) -> None:
    path = tmp_path / "v1-odd.sqlite3"
    _v1_ledger(path)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("ALTER TABLE tasks ADD COLUMN duplicate_of TEXT")  # migration 2 cannot add it again
    db.close()
    with pytest.raises(LedgerError, match="duplicate"):
        Ledger(path)
    assert _user_version(path) == 1 and len(_rows(path)) == 1


def test_unknown_newer_or_inconsistent_ledgers_are_refused_and_never_stamped(tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.sqlite3"
    db = sqlite3.connect(unknown, isolation_level=None)
    db.execute("CREATE TABLE tasks (id TEXT)")
    db.close()
    with pytest.raises(LedgerError, match="no schema version"):
        Ledger(unknown)
    assert _user_version(unknown) == 0

    newer = tmp_path / "newer.sqlite3"
    db = sqlite3.connect(newer, isolation_level=None)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(LedgerError, match="newer"):
        Ledger(newer)
    assert _user_version(newer) == SCHEMA_VERSION + 1

    lying = tmp_path / "lying.sqlite3"
    db = sqlite3.connect(lying, isolation_level=None)
    db.executescript(MIGRATIONS[0][1])
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")  # claims the latest, lacks its column
    db.close()
    with pytest.raises(LedgerError, match="duplicate_of"):
        Ledger(lying)


# -- one place ---------------------------------------------------------------------------------------------------------


def test_every_statement_that_writes_a_task_id_is_in_one_function() -> None:
    tree = ast.parse(inspect.getsource(ledger_module))
    writers: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                sql = " ".join(inner.value.split()).upper()
                if ("INSERT INTO TASKS" in sql and "TASK_ID" in sql) or "SET TASK_ID" in sql:
                    writers.setdefault(node.name, []).append(sql[:60])
    assert set(writers) == {"_write_task_id"}, writers
    assert len(writers["_write_task_id"]) >= 2  # the two writes: a new row, and an intent row getting its id


@pytest.mark.parametrize(
    "bad_id",
    ["../../etc/passwd", "task-unified-a/b", "task-unified-1-a.b", "task-unified-" + "x" * 1_000_000, "task-unified-"],
    ids=["path", "slash", "dot", "megabyte", "prefix-only"],
)
def test_a_create_answer_with_an_id_of_another_shape_is_refused_and_recorded_as_unconfirmed(
    tmp_path: Path, bad_id: str
) -> None:
    def serve(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_created(bad_id))

    with Seedream(
        SENTINEL_KEY, base_url=BASE, ledger=tmp_path / "l.sqlite3", transport=httpx.MockTransport(serve)
    ) as client:
        with pytest.raises(UnexpectedResponseError, match="unusable task id") as caught:
            client.submit("a lighthouse")
        [entry] = client.ledger.entries()
    assert caught.value.task_id is None and len(str(caught.value)) < 1_000
    assert (entry.task_id, entry.state) == (None, TaskState.UNCONFIRMED)
    assert entry.error_message is not None and repr(bad_id)[:20] in entry.error_message  # what could be kept
