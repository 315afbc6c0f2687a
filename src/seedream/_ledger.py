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

**A task id is never lost.** Every write of a task id goes through one
function (:meth:`Ledger._write_task_id`). When another process holds the
write lock past the busy timeout (retried :data:`LOCK_RETRIES` times more),
or SQLite fails otherwise, the id goes to an append-only journal next to the
ledger (``<ledger>.pending-ids``, one JSON line per id, ``flock``-ed and
fsynced before the call returns) that the next open (or the next write of
this process) replays into the database. An id the ledger already holds for
another request is never merged over that row: the new request's row is
kept, flagged ``unconfirmed`` with ``duplicate_of`` set. A row's state only
moves forward (``intent`` < ``rejected``/``unconfirmed`` < ``submitted`` <
``completed``/``failed``/``cancelled`` < ``downloaded``/``expired``): a poll
answering ``processing`` after ``completed`` changes nothing. Every text
stored is redacted (``seedream._redaction``).

Schema changes are numbered migrations (:data:`MIGRATIONS`); ``user_version``
is set to a migration's number in the transaction that ran it, a ledger of a
newer or unknown version is refused and never stamped.

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
import logging
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
from ._drift import DriftRecord
from ._errors import LedgerError
from ._idempotency import IdempotencySupport, body_digest
from ._redaction import cut, redact
from ._settings import LEDGER_ENV

try:  # POSIX: the journal is locked while appended to and while replayed
    import fcntl
except ImportError:  # pragma: no cover - Windows: appends are still whole lines, replay is not locked
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "JOURNAL_SUFFIX",
    "LEDGER_ENV",
    "LINK_LIFETIME_SECONDS",
    "LOCK_RETRIES",
    "MAX_WRITES_PER_COMMIT",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "BatchLineRecord",
    "Ledger",
    "LedgerEntry",
    "LedgerFile",
    "TaskState",
    "default_ledger_path",
    "redact_params",
]

#: Environment variable naming the ledger file.
#: How long result links live after the task completes.
LINK_LIFETIME_SECONDS = 24 * 3600
#: How long one attempt waits for another process's write lock.
BUSY_TIMEOUT_SECONDS = 10.0
#: Attempts after the first before a task id goes to the journal instead.
LOCK_RETRIES = 1
#: The journal of task ids not yet in the database: ``<ledger path>`` + this.
JOURNAL_SUFFIX = ".pending-ids"
#: Most writes the writer thread commits in one transaction (bounds how long one commit holds the lock).
MAX_WRITES_PER_COMMIT = 256

logger = logging.getLogger("seedream.ledger")
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
#: Forward order of states: a write never moves a row to a lower rank (equal ranks do not replace each other).
_RANK = {
    TaskState.INTENT: 0,
    TaskState.REJECTED: 1,
    TaskState.UNCONFIRMED: 1,
    TaskState.SUBMITTED: 2,
    TaskState.COMPLETED: 3,
    TaskState.FAILED: 3,
    TaskState.CANCELLED: 3,
    TaskState.DOWNLOADED: 4,
    TaskState.EXPIRED: 4,
}
_SCHEMA_V1 = """
CREATE TABLE tasks (
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
CREATE INDEX tasks_state ON tasks (state, base_url);
CREATE TABLE files (
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
# Batch lines (``seedream batch``): which ledger row each line of a batch file became. Its own table (migration 3),
# so older seedreams reading a newer ledger's tasks table see no change. ``local_id`` is
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

# Drift seen in the API's answers, one row per (operation, JSON pointer, kind): its own table, like batch lines.
# ``example`` is redacted twice over (seedream._expectations.redact, then as every ledger text).
_DRIFT_SCHEMA = """
CREATE TABLE IF NOT EXISTS drift (
    operation   TEXT NOT NULL,
    pointer     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    example     TEXT NOT NULL,
    rule        TEXT NOT NULL,
    status      INTEGER NOT NULL,
    task_id     TEXT,
    first_seen  REAL NOT NULL,
    last_seen   REAL NOT NULL,
    count       INTEGER NOT NULL,
    PRIMARY KEY (operation, pointer, kind)
);
"""

_IDEMPOTENCY_SCHEMA = """
ALTER TABLE tasks ADD COLUMN idempotency_key TEXT;
ALTER TABLE tasks ADD COLUMN body_sha256 TEXT;
CREATE TABLE IF NOT EXISTS idempotency_support (
    base_url    TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    evidence    TEXT NOT NULL,
    checked_at  REAL NOT NULL
);
"""

#: Numbered schema migrations, applied in order to a ledger whose ``user_version`` is below their number.
#: Never edit a released one: add the next.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, _SCHEMA_V1),
    # 2: a request whose answer repeated a task id the ledger already held keeps its own row, flagged.
    (2, "ALTER TABLE tasks ADD COLUMN duplicate_of TEXT;"),
    # 3: which ledger row each line of a batch file became (seedream batch).
    (3, _BATCH_SCHEMA),
    # 4: drift the client saw in the API's answers (seedream._drift, `seedream drift`).
    (4, _DRIFT_SCHEMA),
    # 5: each request's Idempotency-Key and the digest of its body as sent (seedream._idempotency); what the probe
    # established about each base URL's support.
    (5, _IDEMPOTENCY_SCHEMA),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


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
    duplicate_of: str | None = None  # the task id this request's answer repeated (another row holds it)
    idempotency_key: str | None = None  # sent with the request (None: written by an older seedream)
    body_sha256: str | None = None  # seedream._idempotency.body_digest of the body as sent
    files: list[LedgerFile] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "files"}
        data["files"] = [vars(item) for item in self.files]
        return data


class Ledger:
    """The ledger at ``path`` (default :func:`default_ledger_path`; ``":memory:"`` for a throwaway one).

    Safe to share between threads of one process and between processes.
    ``clock`` (unix seconds) is injectable for tests, as are ``busy_timeout``
    (seconds one attempt waits for another process's write lock) and
    ``lock_retries`` (attempts after the first, before a task id goes to the
    journal); None means :data:`BUSY_TIMEOUT_SECONDS` and :data:`LOCK_RETRIES`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        busy_timeout: float | None = None,
        lock_retries: int | None = None,
    ) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._in_batch = False  # set by the writer thread, under the lock, while it runs a group commit
        self._handoff = threading.Lock()  # guards _closed and _writer; never held across I/O (event loops take it)
        self._closed = False
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._busy_timeout = max(0.0, float(BUSY_TIMEOUT_SECONDS if busy_timeout is None else busy_timeout))
        self._lock_retries = max(0, int(LOCK_RETRIES if lock_retries is None else lock_retries))
        self._replaying = False
        if path is None:
            path = default_ledger_path()
        self.path = str(path) if str(path) == ":memory:" else str(Path(path).expanduser().resolve())
        #: Where task ids go when the database cannot take them (None for an in-memory ledger).
        self.journal_path: str | None = None if self.path == ":memory:" else self.path + JOURNAL_SUFFIX
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
            )
        except (sqlite3.Error, OSError) as exc:
            raise LedgerError(f"cannot open the ledger at {self.path}: {exc}") from None
        try:
            self._setup()
            self._pending = self.journal_path is not None and _nonempty(self.journal_path)
            self._replay_pending()
        except BaseException:  # a refused schema, a lock held past every retry: never leave the connection open
            self._db.close()
            raise

    def _setup(self) -> None:
        with self._guard():
            self._db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")  # a paid task must survive a power cut too
            version = self._version()
            if version < SCHEMA_VERSION:
                self._begin()
                try:
                    self._migrate(self._version())  # again under the lock: another process may have migrated
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            self._check_columns()

    def _version(self) -> int:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"the ledger at {self.path} has schema {version}, newer than this seedream understands "
                f"({SCHEMA_VERSION}); upgrade seedream or point SEEDREAM_LEDGER elsewhere"
            )
        return version

    def _migrate(self, version: int) -> None:
        if version == 0:
            tables = [row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            if tables:  # not empty, yet never stamped by any seedream: nothing is known about its shape
                raise LedgerError(
                    f"the ledger at {self.path} has tables ({', '.join(sorted(tables)[:5])}) but no schema version: "
                    "it was not written by seedream; point SEEDREAM_LEDGER elsewhere (it was left unchanged)"
                )
        for number, script in MIGRATIONS:
            if number <= version:
                continue
            for statement in _statements(script):
                self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version = {number}")  # in the same transaction as the migration

    def _check_columns(self) -> None:
        present = {row[1] for row in self._db.execute("PRAGMA table_info(tasks)")}
        missing = [name for name in _COLUMN_NAMES if name not in present]
        if missing:
            raise LedgerError(
                f"the ledger at {self.path} claims schema {SCHEMA_VERSION} but its tasks table lacks "
                f"{', '.join(missing)}; point SEEDREAM_LEDGER elsewhere (it was left unchanged)"
            )

    def _begin(self, retries: int | None = None) -> None:
        """``BEGIN IMMEDIATE``, tried again ``lock_retries`` times when another process holds the write lock."""
        retries = self._lock_retries if retries is None else retries
        for attempt in range(retries + 1):
            try:
                self._db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if attempt == retries or not _is_busy(exc):
                    raise
                time.sleep(min(0.5, 0.05 * (attempt + 1)))

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
            self._replay_pending()
            self._begin()
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
        """One transaction for the whole batch, a savepoint per write; results are released after COMMIT.

        A task id whose write cannot be committed (the lock is held elsewhere, the commit failed) goes to the
        journal instead: its caller still gets a durable id.
        """
        outcomes: list[tuple[_Write, Any, BaseException | None]] = []
        with self._lock:
            try:
                self._replay_pending()
                self._begin()
            except sqlite3.Error as exc:
                self._settle_failed(batch, LedgerError(f"ledger {self.path}: {exc}"))
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
                self._in_batch = False
                error = exc if isinstance(exc, LedgerError) else LedgerError(f"ledger {self.path}: {exc}")
                self._settle_failed([item for item in batch if not item.done.done()], error)
                return
            finally:
                self._in_batch = False
        for item, result, failure in outcomes:
            if failure is None:
                item.done.set_result(result)
            elif self._journals(item):
                self._settle_failed([item], failure)
            else:
                item.done.set_exception(failure)

    def _journals(self, item: _Write) -> bool:
        return getattr(item.write, "__func__", None) is Ledger.record_submitted and item.write.__self__ is self  # type: ignore[attr-defined]

    def _settle_failed(self, items: list[_Write], error: BaseException) -> None:
        for item in items:
            if not self._journals(item):
                item.done.set_exception(error)
                continue
            try:
                item.done.set_result(self._journal_submitted(*item.args, cause=error, **item.kwargs))
            except LedgerError as journal_error:
                item.done.set_exception(journal_error)

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

    # -- the one place task ids and states are written -------------------------------------------------------------

    def _write_task_id(
        self,
        db: sqlite3.Connection,
        task_id: str,
        *,
        local_id: str | None,
        base_url: str | None = None,
        status: str | None = None,
        created: int | None = None,
        estimated_time: int | None = None,
        note: str | None = None,
    ) -> bool:
        """Give ``task_id`` to the row ``local_id`` (a submit's answer), or to a new row (``local_id`` None: a task
        first seen by a query). Every task id enters the ledger here.

        Returns False when the id already belongs to another row: that row is left as it is, and the row of
        ``local_id`` is flagged ``unconfirmed`` with ``duplicate_of`` (both kept, nothing overwritten).
        Idempotent: giving a row the id it already has changes nothing (a journal replayed twice).
        """
        task_id = redact(task_id)
        now = self._clock()
        owner = db.execute("SELECT local_id FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
        if local_id is None:
            if owner is None:
                _execute(
                    db,
                    "INSERT INTO tasks (local_id, task_id, state, base_url, params, intent_at, submitted_at,"
                    " updated_at) VALUES (?, ?, ?, ?, '{}', ?, ?, ?)",
                    (uuid.uuid4().hex, task_id, TaskState.SUBMITTED, _clean_base_url(base_url or ""), now, now, now),
                )
            return True
        if owner is not None and owner[0] == local_id:
            return True
        row = db.execute("SELECT state, task_id FROM tasks WHERE local_id = ?", (local_id,)).fetchone()
        if row is None:  # the intent row is gone (a journal replayed into another ledger file): keep the id anyway
            _execute(
                db,
                "INSERT INTO tasks (local_id, state, base_url, params, intent_at, updated_at)"
                " VALUES (?, ?, ?, '{}', ?, ?)",
                (local_id, TaskState.INTENT, _clean_base_url(base_url or ""), now, now),
            )
            row = (TaskState.INTENT.value, None)
        if owner is not None or row[1] is not None:
            other = owner[0] if owner is not None else local_id
            _execute(
                db,
                "UPDATE tasks SET state = ?, duplicate_of = ?, error_message = ?, updated_at = ? WHERE local_id = ?",
                (
                    _forward(row[0], TaskState.UNCONFIRMED),
                    task_id,
                    f"the server answered with task id {task_id}, which the ledger already holds for another "
                    f"request (row {other}); that row was kept as it was. This request may have created a "
                    "charged task of its own: check the EvoLink dashboard",
                    now,
                    local_id,
                ),
            )
            return False
        _execute(
            db,
            "UPDATE tasks SET task_id = ?, state = ?, status = ?, created = ?, estimated_time = ?,"
            " submitted_at = ?, updated_at = ?, error_message = COALESCE(?, error_message) WHERE local_id = ?",
            (
                task_id,
                _forward(row[0], TaskState.SUBMITTED),
                status,
                created,
                estimated_time,
                now,
                now,
                None if note is None else cut(note, 500),
                local_id,
            ),
        )
        return True

    def _advance(self, db: sqlite3.Connection, where: str, key: str, state: str, updates: Mapping[str, Any]) -> bool:
        """Move the row (``where`` = ``local_id`` or ``task_id``) to ``state`` with ``updates``, only forward.

        Returns False (and writes nothing) when ``state`` would move the row back or sideways: a poll saying
        ``processing`` after ``completed``, a ``failed`` after ``downloaded``.
        """
        row = db.execute(f"SELECT state FROM tasks WHERE {where} = ?", (key,)).fetchone()
        if row is None:
            return False
        if _forward(row[0], state) != state:
            logger.debug("ledger: %s stays %s (an answer said %s)", key, row[0], state)
            return False
        values = {"state": state, **updates, "updated_at": self._clock()}
        assignments = ", ".join(f"{column} = ?" for column in values)
        _execute(db, f"UPDATE tasks SET {assignments} WHERE {where} = ?", (*values.values(), key))
        return True

    # -- the journal of task ids the database could not take ----------------------------------------------------

    def _journal_submitted(
        self,
        local_id: str,
        *,
        task_id: str,
        status: str | None,
        created: int | None,
        estimated_time: int | None,
        note: str | None = None,
        cause: BaseException,
    ) -> bool:
        """Append the id to the journal, fsynced; replayed into the database at the next chance."""
        if self.journal_path is None:
            raise LedgerError(
                f"task {task_id} was created but could not be recorded: {cause}", task_id=task_id
            ) from None
        entry = {
            "local_id": local_id,
            "task_id": task_id,
            "status": status,
            "created": created,
            "estimated_time": estimated_time,
            "note": note,
            "at": self._clock(),
        }
        line = (redact(json.dumps(entry, sort_keys=True)) + "\n").encode()
        try:
            _append_durably(self.journal_path, line)
        except OSError as exc:
            raise LedgerError(
                f"task {task_id} was created but could not be recorded: {cause}; the journal "
                f"{self.journal_path} failed too: {exc}",
                task_id=task_id,
            ) from None
        self._pending = True
        logger.warning(
            "ledger %s busy or failing (%s): task %s kept in %s until the ledger can take it",
            self.path,
            cut(str(cause), 120),
            task_id,
            self.journal_path,
        )
        return True

    def _replay_pending(self) -> int:
        """Move journaled ids into the database (under its write lock and the journal's); how many were read.

        A journal that cannot be replayed now (the lock is still held) stays for later; nothing is raised.
        """
        if not self._pending or self._replaying or self._in_batch or self.journal_path is None:
            return 0
        with self._lock:
            self._replaying = True
            try:
                return self._replay(self.journal_path)
            except (sqlite3.Error, LedgerError, OSError) as exc:
                logger.debug("ledger %s: journal not replayed yet (%s)", self.path, exc)
                return 0
            finally:
                self._replaying = False

    def _replay(self, journal: str) -> int:
        try:
            fd = os.open(journal, os.O_RDWR)
        except FileNotFoundError:
            self._pending = False
            return 0
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            data = b""
            while chunk := os.read(fd, 1 << 16):
                data += chunk
            entries = []
            for raw in data.splitlines():
                try:
                    entry = json.loads(raw)
                except ValueError:  # a torn last line of a crashed append: its id was never confirmed to anyone
                    continue
                if isinstance(entry, dict) and isinstance(entry.get("task_id"), str):
                    entries.append(entry)
            if entries:
                self._begin(retries=0)  # one wait only: a journal still locked out is tried again later
                try:
                    for entry in entries:
                        self._write_task_id(
                            self._db,
                            entry["task_id"],
                            local_id=entry.get("local_id") if isinstance(entry.get("local_id"), str) else None,
                            status=_text_or_none(entry.get("status")),
                            created=_int_or_none(entry.get("created")),
                            estimated_time=_int_or_none(entry.get("estimated_time")),
                            note=_text_or_none(entry.get("note")),
                        )
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            os.ftruncate(fd, 0)  # only once the ids are committed; a crash before this replays them again
            os.fsync(fd)
            self._pending = False
            return len(entries)
        finally:
            os.close(fd)  # closing drops the flock

    # -- writes ---------------------------------------------------------------

    def record_intent(
        self,
        *,
        base_url: str,
        params: Mapping[str, Any],
        directory: str | os.PathLike[str] | None,
        local_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        """Write the row before the POST is sent; returns its local id (``local_id``, else a new one).

        ``idempotency_key`` is the key the POST will carry; the digest of ``params`` as given (before redaction)
        is kept beside it, so a replay can tell whether the stored request is still the one sent.
        """
        local_id = local_id or uuid.uuid4().hex
        now = self._clock()
        with self._transaction() as db:
            _execute(
                db,
                "INSERT INTO tasks (local_id, state, base_url, params, directory, intent_at, updated_at,"
                " idempotency_key, body_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    local_id,
                    TaskState.INTENT,
                    _clean_base_url(base_url),
                    json.dumps(redact_params(params), sort_keys=True),
                    _directory(directory),
                    now,
                    now,
                    idempotency_key,
                    body_digest(params),
                ),
            )
        return local_id

    def record_replay_of(self, local_id: str, task_id: str) -> None:
        """The POST of ``local_id`` was answered with another row's task as an idempotent replay: it created nothing.

        The row ends ``rejected`` (nothing of its own to wait for) with the task it was a replay of in its message.
        """
        message = f"idempotent replay: the gateway answered with task {redact(task_id)}, created nothing"
        with self._transaction() as db:
            self._advance(db, "local_id", local_id, TaskState.REJECTED, {"error_message": message})

    def record_idempotency_support(self, support: IdempotencySupport) -> None:
        """Remember what a probe established about ``support.base_url`` (replaces the earlier verdict)."""
        with self._transaction() as db:
            _execute(
                db,
                "INSERT OR REPLACE INTO idempotency_support (base_url, state, evidence, checked_at)"
                " VALUES (?, ?, ?, ?)",
                (
                    _clean_base_url(support.base_url),
                    support.state,
                    cut(support.evidence, 1000),
                    self._clock() if support.checked_at is None else support.checked_at,
                ),
            )

    def idempotency_support(self, base_url: str | None = None) -> list[IdempotencySupport]:
        """What probes established, per base URL (only ``base_url``'s when given; nothing recorded: empty)."""
        query = "SELECT base_url, state, evidence, checked_at FROM idempotency_support"
        args: tuple[str, ...] = ()
        if base_url is not None:
            query += " WHERE base_url = ?"
            args = (_clean_base_url(base_url),)
        with self._guard():
            rows = self._db.execute(query + " ORDER BY base_url", args).fetchall()
        return [IdempotencySupport(row[0], row[1], row[2], row[3]) for row in rows]

    def record_submitted(
        self,
        local_id: str,
        *,
        task_id: str,
        status: str | None,
        created: int | None,
        estimated_time: int | None,
        note: str | None = None,
    ) -> bool:
        """The POST answered with ``task_id``: durable when this returns (in the database, else the journal).

        False when the ledger already held ``task_id`` for another request (see :meth:`_write_task_id`).
        ``note`` is kept as the row's message (what was wrong with an answer that still carried the id).
        """
        fields = {"task_id": task_id, "status": status, "created": created, "estimated_time": estimated_time}
        try:
            with self._transaction() as db:
                return self._write_task_id(db, local_id=local_id, note=note, **fields)  # type: ignore[arg-type]
        except LedgerError as error:
            if self._in_batch:
                raise  # the writer thread journals it once its savepoint is rolled back
            return self._journal_submitted(local_id, note=note, cause=error, **fields)  # type: ignore[arg-type]

    def record_submit_failed(self, local_id: str, *, may_exist: bool, error: str) -> None:
        """The POST failed: ``rejected`` if it created nothing, else ``unconfirmed``."""
        state = TaskState.UNCONFIRMED if may_exist else TaskState.REJECTED
        with self._transaction() as db:
            self._advance(db, "local_id", local_id, state, {"error_message": cut(error, 500)})

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
        """What a poll (or a confirmed callback) said about ``task_id``; adds a row for a task not seen before.

        Only moves the row forward: an answer that would move it back is ignored.
        """
        now = self._clock()
        with self._transaction() as db:
            self._write_task_id(db, task_id, local_id=None, base_url=base_url)
            current, completed_at = db.execute(
                "SELECT state, completed_at FROM tasks WHERE task_id = ?", (redact(task_id),)
            ).fetchone()
            new_state = _state_for(status, current)
            updates: dict[str, Any] = {"status": status}
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
                updates["error_message"] = cut(error_message or "", 500)
            self._advance(db, "task_id", redact(task_id), new_state, updates)

    def record_file(self, saved: SavedFile) -> None:
        """One image saved (replaces an earlier record of the same index)."""
        with self._transaction() as db:
            _execute(
                db,
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
            self._advance(db, "task_id", task_id, TaskState.DOWNLOADED, {"directory": _directory(directory)})

    def record_directory(self, task_id: str, directory: str | os.PathLike[str]) -> None:
        with self._transaction() as db:
            _execute(db, "UPDATE tasks SET directory = ? WHERE task_id = ?", (_directory(directory), task_id))

    def record_expired(self, task_id: str, reason: str) -> None:
        """The results (or the task itself) are gone for good."""
        with self._transaction() as db:
            self._advance(db, "task_id", task_id, TaskState.EXPIRED, {"error_message": cut(reason, 500)})

    # -- drift (seedream._drift) ------------------------------------------------

    def record_drift(self, sightings: Sequence[DriftRecord]) -> None:
        """Sightings of drift (one answer's): new rows, or each row's last sighting, example and count moved on."""
        with self._transaction() as db:
            for seen in sightings:
                _execute(
                    db,
                    "INSERT INTO drift (operation, pointer, kind, example, rule, status, task_id, first_seen,"
                    " last_seen, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (operation, pointer, kind)"
                    " DO UPDATE SET example = excluded.example, rule = excluded.rule, status = excluded.status,"
                    " task_id = coalesce(excluded.task_id, drift.task_id),"
                    " first_seen = min(drift.first_seen, excluded.first_seen),"
                    " last_seen = max(drift.last_seen, excluded.last_seen), count = drift.count + excluded.count",
                    (
                        seen.operation,
                        seen.pointer,
                        seen.kind,
                        cut(seen.example, 200),
                        cut(seen.rule, 500),
                        seen.status,
                        seen.task_id,
                        seen.first_seen,
                        seen.last_seen,
                        seen.count,
                    ),
                )

    def drift(self) -> list[DriftRecord]:
        """Every drift recorded, the most recently seen first."""
        with self._guard():
            rows = self._db.execute(
                "SELECT operation, pointer, kind, example, rule, status, task_id, first_seen, last_seen, count"
                " FROM drift ORDER BY last_seen DESC, operation, pointer, kind"
            ).fetchall()
        return [DriftRecord(*row) for row in rows]

    def clear_drift(self) -> int:
        """Forget every drift recorded; returns how many rows went."""
        with self._transaction() as db:
            return int(db.execute("DELETE FROM drift").rowcount)

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
        self._replay_pending()
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
        self._replay_pending()
        with self._guard():
            return [self._entry(row) for row in self._db.execute(query, args).fetchall()]

    def resumable(self, *, base_url: str) -> list[LedgerEntry]:
        """Tasks of ``base_url`` not yet downloaded whose links have not expired, oldest first."""
        self._replay_pending()
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
        self._replay_pending()
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
    "duplicate_of",
    "idempotency_key",
    "body_sha256",
)
_COLUMNS = ", ".join(_COLUMN_NAMES)


def _directory(directory: str | os.PathLike[str] | None) -> str | None:
    return None if directory is None else str(Path(directory).expanduser().resolve())


def _forward(current: str, new: str) -> str:
    """``new`` if it moves a row forward (or keeps its state), else ``current``."""
    if new == current:
        return new
    return new if _RANK.get(TaskState(new), 0) > _RANK.get(_state(current), 0) else current


def _state(value: str) -> TaskState:
    try:
        return TaskState(value)
    except ValueError:
        return TaskState.INTENT


def _execute(db: sqlite3.Connection, sql: str, args: Sequence[Any]) -> None:
    """Every write's statement: each text it stores redacted (a server may have echoed the key into any)."""
    db.execute(sql, [redact(arg) if isinstance(arg, str) else arg for arg in args])


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _statements(script: str) -> list[str]:
    return [statement.strip() for statement in script.split(";") if statement.strip()]


def _nonempty(path: str) -> bool:
    try:
        return os.path.getsize(path) > 0
    except OSError:
        return False


def _append_durably(path: str, line: bytes) -> None:
    """One whole line appended and fsynced under an exclusive lock (the directory too when the file is new)."""
    created = not os.path.exists(path)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        written = os.write(fd, line)
        if written != len(line):
            raise OSError(f"short write to {path} ({written} of {len(line)} bytes)")
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        with contextlib.suppress(OSError):  # not every platform can open a directory
            dir_fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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
