"""The task ledger: a local SQLite record of every paid task, so that no crash loses one.

Every generation request pre-charges credits, and its results live 24 hours
on the vendor's side. The ledger (stdlib :mod:`sqlite3`, WAL journal, full
fsync on commit) is written at each step that matters:

1. ``intent``      before the POST leaves: base URL, request parameters, output directory
2. ``submitted``   as soon as the POST answers with a task id (before ``submit`` returns)
   or ``rejected`` when the POST provably created nothing (4xx, connection refused),
   or ``unconfirmed`` when it may have (read timeout, 5xx): look in the EvoLink dashboard
3. ``completed``   result URLs and their expiry (first seen completed + 24 h), or ``failed``/``cancelled``
4. ``downloaded``  every image saved; each file with its path, sha256, size and pixel size

Every write is its own committed transaction, durable when the call returns.
The sync client writes on its own thread. The async client must not block its
event loop on an fsync (0.3-5 ms each, hundreds of tasks in flight), so it
hands its writes to one writer thread with :meth:`Ledger.awrite`: the writer
commits whatever is queued together (group commit, one fsync for many, each
write in its own savepoint so one failure spoils no other) and each awaiting
caller resumes only once its write is on disk.

A row left at ``intent`` means the process died between writing it and the
POST's answer: the task may or may not exist. ``resume`` (see
``seedream._workflow``) waits for and downloads every ``submitted`` or
``completed`` task of the same base URL whose links have not expired.

Location: ``$SEEDREAM_LEDGER`` if set, else ``ledger.sqlite3`` in the user
data directory (``platformdirs.user_data_path("seedream")``, e.g.
``~/.local/share/seedream/`` on Linux). No secret is stored: never the API
key or headers; the query strings of ``callback_url`` and ``image_urls``
(which often carry tokens or signatures) are replaced by ``?<redacted>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit, urlunsplit

from ._download import SavedFile
from ._errors import LedgerError

__all__ = [
    "LEDGER_ENV",
    "LINK_LIFETIME_SECONDS",
    "MAX_WRITES_PER_COMMIT",
    "BatchLineRecord",
    "Ledger",
    "LedgerEntry",
    "LedgerFile",
    "TaskState",
    "default_ledger_path",
    "redact_params",
]

#: Environment variable naming the ledger file.
LEDGER_ENV = "SEEDREAM_LEDGER"
#: How long result links live after the task completes.
LINK_LIFETIME_SECONDS = 24 * 3600
_SCHEMA_VERSION = 1
_BUSY_TIMEOUT_MS = 10_000
#: Most writes the writer thread commits in one transaction (bounds how long one commit holds the lock).
MAX_WRITES_PER_COMMIT = 256

P = ParamSpec("P")
T = TypeVar("T")


class TaskState(StrEnum):
    """Where a ledger row stands (the API's own ``status`` is kept beside it)."""

    INTENT = "intent"
    REJECTED = "rejected"
    UNCONFIRMED = "unconfirmed"
    SUBMITTED = "submitted"
    COMPLETED = "completed"
    DOWNLOADED = "downloaded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


_RESUMABLE = (TaskState.SUBMITTED, TaskState.COMPLETED)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    local_id        TEXT PRIMARY KEY,
    task_id         TEXT UNIQUE,
    state           TEXT NOT NULL,
    status          TEXT,
    progress        INTEGER,
    base_url        TEXT NOT NULL,
    params          TEXT NOT NULL,
    directory       TEXT,
    intent_at       REAL NOT NULL,
    submitted_at    REAL,
    updated_at      REAL NOT NULL,
    created         INTEGER,
    estimated_time  INTEGER,
    completed_at    REAL,
    links_expire_at REAL,
    result_urls     TEXT NOT NULL DEFAULT '[]',
    error_code      TEXT,
    error_message   TEXT
);
CREATE INDEX IF NOT EXISTS tasks_state ON tasks (state, base_url);
CREATE TABLE IF NOT EXISTS files (
    task_id     TEXT NOT NULL,
    idx         INTEGER NOT NULL,
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    media_type  TEXT NOT NULL,
    width       INTEGER,
    height      INTEGER,
    saved_at    REAL NOT NULL,
    PRIMARY KEY (task_id, idx)
);
"""

# Batch lines (``seedream batch``): which ledger row each line of a batch file became. Its own table, created if
# absent, so older ledgers gain it without a schema version change and older seedreams ignore it. ``local_id`` is
# written before that row's intent (see seedream._batch): a line whose ``local_id`` has no ``tasks`` row never
# left this process.
_BATCH_SCHEMA = """
CREATE TABLE IF NOT EXISTS batch_lines (
    batch_id    TEXT NOT NULL,
    line_key    TEXT NOT NULL,
    line_no     INTEGER NOT NULL,
    line_hash   TEXT NOT NULL,
    local_id    TEXT NOT NULL,
    assigned_at REAL NOT NULL,
    PRIMARY KEY (batch_id, line_key)
);
"""


def default_ledger_path() -> Path:
    """``$SEEDREAM_LEDGER``, else ``ledger.sqlite3`` in the user data directory."""
    configured = os.environ.get(LEDGER_ENV)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return platformdirs.user_data_path("seedream", appauthor=False) / "ledger.sqlite3"


def _redact_url(url: object) -> object:
    if not isinstance(url, str):
        return url
    # Total: urlsplit, .hostname and .port each raise ValueError on some input (bad brackets, port 99999).
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "<unparseable URL redacted>"
    try:
        port = parts.port
    except ValueError:
        port = None  # out of range or not a number: dropped rather than stored as given
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    query = "<redacted>" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_params(body: Mapping[str, Any]) -> dict[str, Any]:
    """The request body as stored: user info, query strings and fragments of URLs removed."""
    params = dict(body)
    if "callback_url" in params:
        params["callback_url"] = _redact_url(params["callback_url"])
    if isinstance(params.get("image_urls"), list):
        params["image_urls"] = [_redact_url(url) for url in params["image_urls"]]
    return params


def _clean_base_url(base_url: str) -> str:
    redacted = _redact_url(base_url.rstrip("/"))
    return redacted if isinstance(redacted, str) else ""


@dataclass(frozen=True)
class LedgerFile:
    index: int
    path: str
    sha256: str
    size: int
    media_type: str
    width: int | None
    height: int | None
    saved_at: float


@dataclass(frozen=True)
class LedgerEntry:
    """One row of the ledger, with its saved files."""

    local_id: str
    task_id: str | None
    state: str
    status: str | None
    progress: int | None
    base_url: str
    params: dict[str, Any]
    directory: str | None
    intent_at: float
    submitted_at: float | None
    updated_at: float
    created: int | None
    estimated_time: int | None
    completed_at: float | None
    links_expire_at: float | None
    result_urls: list[str]
    error_code: str | None
    error_message: str | None
    files: list[LedgerFile] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "files"}
        data["files"] = [vars(item) for item in self.files]
        return data


class Ledger:
    """The ledger at ``path`` (default :func:`default_ledger_path`; ``":memory:"`` for a throwaway one).

    Safe to share between threads of one process and between processes.
    ``clock`` (unix seconds) is injectable for tests.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._in_batch = False  # set by the writer thread, under the lock, while it runs a group commit
        self._handoff = threading.Lock()  # guards _closed and _writer; never held across I/O (event loops take it)
        self._closed = False
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        if path is None:
            path = default_ledger_path()
        self.path = str(path) if str(path) == ":memory:" else str(Path(path).expanduser().resolve())
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        except (sqlite3.Error, OSError) as exc:
            raise LedgerError(f"cannot open the ledger at {self.path}: {exc}") from None
        try:
            self._setup()
        except LedgerError:
            self._db.close()
            raise

    def _setup(self) -> None:
        with self._guard():
            self._db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")  # a paid task must survive a power cut too
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > _SCHEMA_VERSION:
                raise LedgerError(
                    f"the ledger at {self.path} has schema {version}, newer than this seedream understands "
                    f"({_SCHEMA_VERSION}); upgrade seedream or point SEEDREAM_LEDGER elsewhere"
                )
            self._db.executescript(_SCHEMA)
            self._db.executescript(_BATCH_SCHEMA)
            self._db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    @contextmanager
    def _guard(self) -> Iterator[None]:
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise LedgerError(f"ledger {self.path}: {exc}") from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._guard():
            if self._in_batch:  # inside the writer's group commit: it owns the transaction and the savepoint
                yield self._db
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def defer(self, write: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Hand ``write`` (one of this ledger's ``record_*`` methods) to the writer thread; the future resolves once
        it is durable.

        Writes handed over at about the same time share one commit. A write,
        once handed over, always runs: its future cannot be cancelled (a
        task id must not be lost because the ``submit`` that got it was).
        """
        done: Future[T] = Future()
        done.set_running_or_notify_cancel()  # a running future cannot be cancelled
        with self._handoff:
            if self._closed:
                raise LedgerError(f"ledger {self.path}: closed")
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_loop, name="seedream-ledger-writer", daemon=True)
                self._writer.start()
            self._queue.put(_Write(done, write, args, kwargs))
        return done

    async def awrite(self, write: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """:meth:`defer`, awaited: for event loops, which must not block on an fsync."""
        return await asyncio.wrap_future(self.defer(write, *args, **kwargs))

    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while len(batch) < MAX_WRITES_PER_COMMIT:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._commit_batch(batch)
            if stop:
                return

    def _commit_batch(self, batch: list[_Write]) -> None:
        """One transaction for the whole batch, a savepoint per write; results are released after COMMIT."""
        outcomes: list[tuple[_Write, Any, BaseException | None]] = []
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                error = LedgerError(f"ledger {self.path}: {exc}")
                for item in batch:
                    item.done.set_exception(error)
                return
            self._in_batch = True
            try:
                for item in batch:
                    self._db.execute("SAVEPOINT ledger_write")
                    try:
                        result = item.write(*item.args, **item.kwargs)
                    except Exception as exc:
                        self._db.execute("ROLLBACK TO ledger_write")
                        self._db.execute("RELEASE ledger_write")
                        outcomes.append((item, None, exc))
                    else:
                        self._db.execute("RELEASE ledger_write")
                        outcomes.append((item, result, None))
                self._db.execute("COMMIT")
            except BaseException as exc:  # the commit itself failed: nothing of the batch is on disk
                if self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back already
                        self._db.execute("ROLLBACK")
                error = exc if isinstance(exc, LedgerError) else LedgerError(f"ledger {self.path}: {exc}")
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(error)
                return
            finally:
                self._in_batch = False
        for item, result, failure in outcomes:
            if failure is None:
                item.done.set_result(result)
            else:
                item.done.set_exception(failure)

    def close(self) -> None:
        """Finish every write already handed to the writer thread, then close the database."""
        with self._handoff:
            if self._closed:
                return
            self._closed = True
            writer = self._writer
        if writer is not None:
            self._queue.put(None)
            writer.join()
        with self._lock:
            self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writes ---------------------------------------------------------------

    def record_intent(
        self,
        *,
        base_url: str,
        params: Mapping[str, Any],
        directory: str | os.PathLike[str] | None,
        local_id: str | None = None,
    ) -> str:
        """Write the row before the POST is sent; returns its local id (``local_id``, else a new one)."""
        local_id = local_id or uuid.uuid4().hex
        now = self._clock()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO tasks (local_id, state, base_url, params, directory, intent_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    local_id,
                    TaskState.INTENT,
                    _clean_base_url(base_url),
                    json.dumps(redact_params(params), sort_keys=True),
                    _directory(directory),
                    now,
                    now,
                ),
            )
        return local_id

    def record_submitted(
        self,
        local_id: str,
        *,
        task_id: str,
        status: str | None,
        created: int | None,
        estimated_time: int | None,
    ) -> None:
        """The POST answered with ``task_id``."""
        now = self._clock()
        with self._transaction() as db:
            # The same id already known (a row from `wait ID`): keep one row, the one with the parameters.
            db.execute("DELETE FROM tasks WHERE task_id = ? AND local_id != ?", (task_id, local_id))
            db.execute(
                "UPDATE tasks SET task_id = ?, state = ?, status = ?, created = ?, estimated_time = ?,"
                " submitted_at = ?, updated_at = ? WHERE local_id = ?",
                (task_id, TaskState.SUBMITTED, status, created, estimated_time, now, now, local_id),
            )

    def record_submit_failed(self, local_id: str, *, may_exist: bool, error: str) -> None:
        """The POST failed: ``rejected`` if it created nothing, else ``unconfirmed``."""
        state = TaskState.UNCONFIRMED if may_exist else TaskState.REJECTED
        with self._transaction() as db:
            db.execute(
                "UPDATE tasks SET state = ?, error_message = ?, updated_at = ? WHERE local_id = ?",
                (state, error[:500], self._clock(), local_id),
            )

    def record_task(
        self,
        task_id: str,
        *,
        base_url: str,
        status: str | None,
        progress: int | None = None,
        results: Sequence[str] | None = None,
        estimated_time: int | None = None,
        created: int | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> None:
        """What a poll (or a confirmed callback) said about ``task_id``; adds a row for a task not seen before."""
        now = self._clock()
        with self._transaction() as db:
            row = db.execute("SELECT state, completed_at FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO tasks (local_id, task_id, state, base_url, params, intent_at, submitted_at,"
                    " updated_at) VALUES (?, ?, ?, ?, '{}', ?, ?, ?)",
                    (uuid.uuid4().hex, task_id, TaskState.SUBMITTED, _clean_base_url(base_url), now, now, now),
                )
                state, completed_at = TaskState.SUBMITTED.value, None
            else:
                state, completed_at = row
            new_state = _state_for(status, state)
            updates: dict[str, Any] = {"state": new_state, "status": status, "updated_at": now}
            if progress is not None:
                updates["progress"] = progress
            if estimated_time is not None:
                updates["estimated_time"] = estimated_time
            if created is not None:
                updates["created"] = created
            if results is not None:
                updates["result_urls"] = json.dumps(list(results))
            if status == "completed" and completed_at is None:
                updates["completed_at"] = now
                updates["links_expire_at"] = now + LINK_LIFETIME_SECONDS
            if error_code is not None or error_message is not None:
                updates["error_code"] = error_code
                updates["error_message"] = (error_message or "")[:500]
            assignments = ", ".join(f"{column} = ?" for column in updates)
            db.execute(f"UPDATE tasks SET {assignments} WHERE task_id = ?", (*updates.values(), task_id))

    def record_file(self, saved: SavedFile) -> None:
        """One image saved (replaces an earlier record of the same index)."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO files (task_id, idx, path, sha256, bytes, media_type, width, height, saved_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    saved.task_id,
                    saved.index,
                    str(saved.path),
                    saved.sha256,
                    saved.size,
                    saved.media_type,
                    saved.width,
                    saved.height,
                    self._clock(),
                ),
            )

    def record_downloaded(self, task_id: str, *, directory: str | os.PathLike[str]) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE tasks SET state = ?, directory = ?, updated_at = ? WHERE task_id = ?",
                (TaskState.DOWNLOADED, _directory(directory), self._clock(), task_id),
            )

    def record_directory(self, task_id: str, directory: str | os.PathLike[str]) -> None:
        with self._transaction() as db:
            db.execute("UPDATE tasks SET directory = ? WHERE task_id = ?", (_directory(directory), task_id))

    def record_expired(self, task_id: str, reason: str) -> None:
        """The results (or the task itself) are gone for good."""
        with self._transaction() as db:
            db.execute(
                "UPDATE tasks SET state = ?, error_message = ?, updated_at = ? WHERE task_id = ?",
                (TaskState.EXPIRED, reason[:500], self._clock(), task_id),
            )

    # -- batch lines (seedream._batch) -------------------------------------------

    def record_batch_line(self, batch_id: str, line_key: str, *, line_no: int, line_hash: str, local_id: str) -> None:
        """Line ``line_key`` of batch ``batch_id`` is (to be) the ledger row ``local_id``; replaces an earlier one."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO batch_lines (batch_id, line_key, line_no, line_hash, local_id, assigned_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (batch_id, line_key, line_no, line_hash, local_id, self._clock()),
            )

    def batch_lines(self, batch_id: str) -> dict[str, BatchLineRecord]:
        """Every line recorded for ``batch_id``, by line key, each with its ledger row (None if never written)."""
        with self._guard():
            rows = self._db.execute(
                "SELECT line_key, line_no, line_hash, local_id FROM batch_lines WHERE batch_id = ?", (batch_id,)
            ).fetchall()
            records: dict[str, BatchLineRecord] = {}
            for line_key, line_no, line_hash, local_id in rows:
                task = self._db.execute(f"SELECT {_COLUMNS} FROM tasks WHERE local_id = ?", (local_id,)).fetchone()
                entry = None if task is None else self._entry(task)
                records[line_key] = BatchLineRecord(line_key, line_no, line_hash, local_id, entry)
            return records

    # -- reads ----------------------------------------------------------------

    def get(self, task_id: str) -> LedgerEntry | None:
        with self._guard():
            row = self._db.execute(f"SELECT {_COLUMNS} FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
            return None if row is None else self._entry(row)

    def entries(self, *, limit: int | None = None, states: Sequence[str] | None = None) -> list[LedgerEntry]:
        """Rows, newest first."""
        query = f"SELECT {_COLUMNS} FROM tasks"
        args: list[Any] = []
        if states:
            query += f" WHERE state IN ({', '.join('?' * len(states))})"
            args.extend(states)
        query += " ORDER BY intent_at DESC, rowid DESC"
        if limit is not None:
            query += " LIMIT ?"
            args.append(limit)
        with self._guard():
            return [self._entry(row) for row in self._db.execute(query, args).fetchall()]

    def resumable(self, *, base_url: str) -> list[LedgerEntry]:
        """Tasks of ``base_url`` not yet downloaded whose links have not expired, oldest first."""
        now = self._clock()
        with self._guard():
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM tasks WHERE base_url = ? AND state IN (?, ?)"
                " AND (links_expire_at IS NULL OR links_expire_at > ?) ORDER BY intent_at, rowid",
                (_clean_base_url(base_url), *_RESUMABLE, now),
            ).fetchall()
            return [self._entry(row) for row in rows]

    def stale(self, *, base_url: str) -> list[LedgerEntry]:
        """Tasks of ``base_url`` that can no longer be finished: unknown outcome, or links expired undownloaded."""
        now = self._clock()
        with self._guard():
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM tasks WHERE base_url = ? AND (state IN (?, ?)"
                " OR (state IN (?, ?) AND links_expire_at IS NOT NULL AND links_expire_at <= ?))"
                " ORDER BY intent_at, rowid",
                (_clean_base_url(base_url), TaskState.INTENT, TaskState.UNCONFIRMED, *_RESUMABLE, now),
            ).fetchall()
            return [self._entry(row) for row in rows]

    def _entry(self, row: Sequence[Any]) -> LedgerEntry:
        data = dict(zip(_COLUMN_NAMES, row, strict=True))
        data["params"] = json.loads(data["params"])
        data["result_urls"] = json.loads(data["result_urls"])
        files: list[LedgerFile] = []
        if data["task_id"] is not None:
            files = [
                LedgerFile(*file_row)
                for file_row in self._db.execute(
                    "SELECT idx, path, sha256, bytes, media_type, width, height, saved_at FROM files"
                    " WHERE task_id = ? ORDER BY idx",
                    (data["task_id"],),
                ).fetchall()
            ]
        return LedgerEntry(**data, files=files)


@dataclass(frozen=True)
class BatchLineRecord:
    """A batch line's association: the ledger row it became (``entry`` None: the row was never written)."""

    line_key: str
    line_no: int
    line_hash: str
    local_id: str
    entry: LedgerEntry | None


@dataclass(frozen=True)
class _Write:
    """A write handed to the writer thread, and where its result goes."""

    done: Future[Any]
    write: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


_COLUMN_NAMES = (
    "local_id",
    "task_id",
    "state",
    "status",
    "progress",
    "base_url",
    "params",
    "directory",
    "intent_at",
    "submitted_at",
    "updated_at",
    "created",
    "estimated_time",
    "completed_at",
    "links_expire_at",
    "result_urls",
    "error_code",
    "error_message",
)
_COLUMNS = ", ".join(_COLUMN_NAMES)


def _directory(directory: str | os.PathLike[str] | None) -> str | None:
    return None if directory is None else str(Path(directory).expanduser().resolve())


def _state_for(status: str | None, current: str) -> str:
    if current in (TaskState.DOWNLOADED, TaskState.EXPIRED):
        return current  # final on our side whatever the API says now
    if status == "completed":
        return TaskState.COMPLETED
    if status == "failed":
        return TaskState.FAILED
    if status == "cancelled":
        return TaskState.CANCELLED
    return TaskState.SUBMITTED
