"""The client's drift monitor: every answer judged against the spec and the expectations profile, drift recorded.

The guarded client (``SeedreamAPI``/``AsyncSeedreamAPI``) owns one
:class:`DriftMonitor` (``api.drift_monitor``; None turns it off). The shared
answer-parsing path (``_responses._decoded`` for 200 bodies,
``_errors.error_for_status`` for error answers) hands it the JSON it parsed
anyway, so nothing is decoded twice; :func:`seedream._expectations.check_body`
runs its compiled check, and a clean answer costs that check and nothing more.

Each deviation (operation, JSON pointer, kind, a redacted example value) is
kept in an in-process registry with first and last seen and a count, logged
once per (operation, pointer, kind) at WARNING on ``seedream.drift``, and
handed to the optional ``sink``: the high-level ``Seedream`` client wires that
to its ledger (table ``drift``, see ``seedream drift``).

Drift is reported, never raised: the monitor catches every error of its own
(a failing check or sink is logged and the answer is used as it is), so it can
never break a call or lose a paid task.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Final

import httpx

from ._expectations import Deviation, check_body
from ._redaction import cut

__all__ = ["BATCH", "CREATE", "CREDITS", "LIST", "TASK", "DriftMonitor", "DriftRecord", "describe"]

logger = logging.getLogger("seedream.drift")

CREATE: Final = "createImageGeneration"
TASK: Final = "getTaskDetail"
BATCH: Final = "batchQueryTasks"
LIST: Final = "listTasks"
CREDITS: Final = "getCredits"
_TASK_PATH: Final = "/v1/tasks/"
#: Tasks whose drift the monitor remembers (for ``WaitTimeoutError``); the oldest are forgotten first.
_TASKS_KEPT: Final = 1024
_ID_LIMIT: Final = 120  # a drifted id may be anything: kept short
_TEXT_LIMIT: Final = 300
_JSON: Final = "application/json"


@dataclass(frozen=True, slots=True)
class DriftRecord:
    """One kind of drift as seen so far: where, what, an example, when first and last, how often."""

    operation: str
    pointer: str
    kind: str
    example: str  # redacted (seedream._expectations.redact): never a URL's path or query, never free text
    rule: str
    status: int  # HTTP status of the last answer it was seen in
    task_id: str | None  # the task of the last answer it was seen in, when known
    first_seen: float  # unix seconds
    last_seen: float
    count: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.operation, self.pointer, self.kind)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def describe(record: DriftRecord | Deviation) -> str:
    """``createImageGeneration /status unknown-enum ("queued"; expected enum [...])``."""
    where = record.pointer or "(answer)"
    return f"{record.operation} {where} {record.kind} ({record.example}; expected {record.rule})"


Sink = Callable[[list[DriftRecord]], None]


class DriftMonitor:
    """In-process registry of the drift seen in the API's answers, with an optional ``sink`` (the ledger).

    ``sink`` gets the sightings of one answer, a :class:`DriftRecord` each
    (``count`` 1, ``first_seen`` = ``last_seen``); the registry aggregates. Thread-safe.
    ``clock``: unix seconds, injectable for tests.
    """

    def __init__(self, *, sink: Sink | None = None, clock: Callable[[], float] = time.time) -> None:
        self.sink = sink
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[tuple[str, str, str], DriftRecord] = {}
        self._by_task: OrderedDict[str, set[tuple[str, str, str]]] = OrderedDict()
        self._failure_logged = False

    # -- the hook ------------------------------------------------------------------------------

    def observe(self, operation: str, response: httpx.Response, body: Any) -> None:
        """Judge one answer (``body``: its parsed JSON, or the raw bytes when it did not parse). Never raises."""
        try:
            status = response.status_code
            media = response.headers.get("content-type")
            # The API's own header, byte for byte, needs no parsing (None: not judged; absent is not judged either).
            found = check_body(operation, status, body, content_type=None if media == _JSON else media)
            if found:
                self._record(found, status, _task_of(operation, body, response))
        except Exception:  # the monitor must never break a call
            self._failed()

    def _record(self, found: list[Deviation], status: int, task_id: str | None) -> None:
        now = self._clock()
        new: list[DriftRecord] = []
        sightings = []
        with self._lock:
            for deviation in found:
                key = deviation.key
                # cut() redacts registered secrets too: an echoed key can look like an identifier.
                example, rule = cut(deviation.example, _TEXT_LIMIT), cut(deviation.rule, _TEXT_LIMIT)
                seen = DriftRecord(*key, example, rule, status, task_id, first_seen=now, last_seen=now, count=1)
                sightings.append(seen)
                old = self._records.get(key)
                if old is None:
                    self._records[key] = seen
                    new.append(seen)
                else:
                    self._records[key] = replace(
                        seen, first_seen=old.first_seen, count=old.count + 1, task_id=task_id or old.task_id
                    )
                if task_id is not None:
                    self._by_task.setdefault(task_id, set()).add(key)
                    self._by_task.move_to_end(task_id)
                    while len(self._by_task) > _TASKS_KEPT:
                        self._by_task.popitem(last=False)
        for record in new:  # once per kind: the registry holds it from now on
            logger.warning(
                "the API's answer departs from its spec: %s (HTTP %s%s); used as sent, recorded (see `seedream drift`)",
                describe(record),
                record.status,
                f", task {record.task_id}" if record.task_id else "",
            )
        sink = self.sink
        if sink is not None:
            try:
                sink(sightings)
            except Exception:
                self._failed()

    def _failed(self) -> None:
        # Logged in full once, then quietly: a broken monitor must not flood the log of every call either.
        if not self._failure_logged:
            self._failure_logged = True
            logger.warning("the drift monitor failed; the answer was used as sent", exc_info=True)
        else:
            logger.debug("the drift monitor failed again", exc_info=True)

    # -- reading -------------------------------------------------------------------------------

    def records(self) -> list[DriftRecord]:
        """Every kind of drift seen by this monitor, oldest first."""
        with self._lock:
            return sorted(self._records.values(), key=lambda r: (r.first_seen, r.key))

    def for_task(self, task_id: str) -> list[DriftRecord]:
        """The kinds of drift seen in answers about ``task_id`` (the most recent tasks only)."""
        with self._lock:
            keys = self._by_task.get(task_id, set())
            return sorted((self._records[k] for k in keys if k in self._records), key=lambda r: r.key)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._by_task.clear()


def _task_of(operation: str, body: Any, response: httpx.Response) -> str | None:
    """The task an answer is about: the queried id for a task query, the new id for a create answer."""
    if operation == TASK:
        try:
            path = response.request.url.path
        except RuntimeError:  # a response made without a request (tests)
            path = ""
        if isinstance(path, str) and path.startswith(_TASK_PATH):
            return cut(path[len(_TASK_PATH) :], _ID_LIMIT) or None
    task_id = body.get("id") if isinstance(body, dict) else None
    return cut(task_id, _ID_LIMIT) if isinstance(task_id, str) and task_id else None
