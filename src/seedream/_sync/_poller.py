# GENERATED FILE - DO NOT EDIT. scripts/unasync.py from src/seedream/_async/_poller.py; run `nox -s regenerate`.
"""Batch polling: every task one client waits for asked about in shared ``POST /v1/tasks/batch`` queries.

Each wait keeps its own adaptive schedule (its ``_WaitPlan``). While the client waits for more than one task,
each poll is put off to the next slot of a shared grid ``PollPolicy.batch_window`` apart (never past the wait's
deadline), and every task due in a slot is asked about in one query of up to
:data:`~seedream._answers.MAX_BATCH_IDS` ids; a query with room left also carries the tasks due before the next
slot. So a task is polled at most one window later (or, riding along, earlier) than its schedule says, and
concurrent ``wait`` calls and one ``wait_many`` cost at most one request per slot and 50 tasks. A task waited for
alone is polled exactly on schedule. A query about a single task is the task query itself (``GET
/v1/tasks/{id}``: the same one request).

The batch endpoint is the vendor clients' (x-assumed, see spec-facts): a base URL that answers it 404 or 405 is
taken not to have it, once, remembered for the client and logged once; its tasks are then asked about one by one.
Ids a batch answer leaves out are asked about singly (a 404 there says the task is unknown or expired). Every
task answered is recorded in the ledger as a single query's answer is; the queries retry as GETs do.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from seedream_client.models import TaskDetailResponse

from .._answers import MAX_BATCH_IDS, TaskBatch
from .._errors import APIStatusError, APITimeoutError, SeedreamError
from .._retry import cut_by_deadline
from .._workflow import WaitCallback, _Core, _WaitPlan
from ._primitives import Gate, Signal, Sleep, each
from ._retry import call_with_retries

__all__ = ["Poller"]

logger = logging.getLogger("seedream.workflow")

#: What one query told about one task: its answer (and when it came), or why there is none.
Answer = TaskDetailResponse | SeedreamError
#: ``get(task_id, deadline)``: the client's single task query (retried, recorded); ``record(detail, task_id)``: the
#: client's ledger write of a query's answer. Loosely typed: one annotation must fit both twins.
Get = Callable[..., Any]
Record = Callable[..., Any]


class _Flight:
    """One query in progress; the waits whose tasks it asks about wait for ``done``."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = Signal()


class _Entry:
    """One task one wait waits for: its plan, and the answer another wait's query may have left for it."""

    __slots__ = ("flight", "mail", "on_progress", "outcome", "plan")

    def __init__(self, plan: _WaitPlan, on_progress: WaitCallback | None) -> None:
        self.plan = plan
        self.on_progress = on_progress
        self.outcome: TaskDetailResponse | SeedreamError | None = None
        self.mail: tuple[Answer, float, float] | None = None  # answer, when it came, its query's deadline
        self.flight: _Flight | None = None


def _due(entry: _Entry, window: float) -> float:
    """When ``entry`` is polled: its plan's time put off to the next slot of the grid (never past its deadline)."""
    plan = entry.plan
    if window <= 0:
        return plan.next_at
    return min(math.ceil(plan.next_at / window) * window, plan.deadline)


class Poller:
    """The poller of one client: the tasks its waits wait for, and whether its base URL has the batch endpoint."""

    def __init__(self, *, api: Any, core: _Core, gate: Gate, sleep: Sleep, get: Get, record: Record) -> None:
        self._api = api
        self._core = core
        self._gate = gate
        self._sleep = sleep
        self._get = get
        self._record = record
        self._lock = threading.Lock()  # the sync client's threads share the board too
        self._waiting: set[_Entry] = set()
        #: None: not tried yet; False: the base URL answered 404/405 (per-task queries from then on).
        self.batch_supported: bool | None = None

    def wait_many(
        self, plans: Sequence[_WaitPlan], on_progress: WaitCallback | None = None
    ) -> list[TaskDetailResponse | SeedreamError]:
        """Poll until every plan's task ends; per plan, the completed task or the error that ended its wait."""
        entries = [_Entry(plan, on_progress) for plan in plans]
        with self._lock:
            self._waiting.update(entries)
        woke = -math.inf
        try:
            while True:
                for entry in entries:
                    mail = entry.mail
                    if entry.outcome is None and mail is not None:
                        entry.mail = None
                        self._open(entry, *mail)
                live = [entry for entry in entries if entry.outcome is None]
                if not live:
                    break
                flying = next((entry.flight for entry in live if entry.flight is not None), None)
                if flying is not None:  # another wait's query asks about it: its answer comes with that one
                    flying.done.wait()
                    continue
                # After a sleep its end counts as come, whatever the clock says (an injected one may stand still).
                now = max(self._core.clock(), woke)
                window = self._window()
                soonest = min(_due(entry, window) for entry in live)
                if soonest > now:
                    self._sleep(soonest - now)
                    woke = soonest
                    continue
                flight, members = self._board(now, window)
                if members:  # else another thread took them meanwhile: their answers come with its query
                    self._fly(flight, members, min(entry.plan.deadline for entry in live))
                else:
                    flight.done.set()
        finally:
            with self._lock:
                self._waiting.difference_update(entries)
        return [entry.outcome for entry in entries if entry.outcome is not None]

    def _open(self, entry: _Entry, answer: Answer, at: float, cut_at: float) -> None:
        """Apply the answer left for ``entry`` (got at ``at`` by a query cut at ``cut_at``) to its plan; the outcome
        is set once the wait ends. An error another wait's sooner deadline may have caused leaves the task due."""
        plan = entry.plan
        if isinstance(answer, SeedreamError):
            timed_out = isinstance(answer, APITimeoutError) and self._core.clock() >= plan.deadline
            if (
                not timed_out
                and cut_at < plan.deadline
                and cut_by_deadline(answer, at=at, deadline=cut_at, policy=self._core.retry)
            ):
                return  # cut short for a sooner wait, not for this one: asked again at once
            entry.outcome = plan.timed_out() if timed_out else answer  # the wait's own deadline cut the query
            return
        if entry.on_progress is not None:
            entry.on_progress(answer)
        try:
            entry.outcome = plan.after_poll(answer, at)
        except SeedreamError as error:
            entry.outcome = error

    def _window(self) -> float:
        """The slot width polls snap to now: none while one task is waited for (it is polled on time)."""
        return self._core.polling.batch_window if len(self._waiting) > 1 else 0.0

    def _board(self, now: float, window: float) -> tuple[_Flight, dict[str, list[_Entry]]]:
        """The tasks the next query asks about: every waiting one whose slot has come, soonest due first; then,
        while there is room, those due before the next slot (they ride along: up to one window early)."""
        with self._lock:
            idle = [
                entry
                for entry in self._waiting
                if entry.plan.next_at <= now + window  # cheap first: most tasks are not due for a while
                and entry.outcome is None
                and entry.flight is None
                and entry.mail is None
            ]
            due = sorted(idle, key=lambda entry: (_due(entry, window) > now, entry.plan.next_at))
            members: dict[str, list[_Entry]] = {}
            for entry in due:
                task_id = entry.plan.task_id
                if task_id in members:
                    members[task_id].append(entry)
                elif len(members) < MAX_BATCH_IDS:
                    members[task_id] = [entry]
            flight = _Flight()
            for group in members.values():
                for entry in group:
                    entry.flight = flight
        return flight, members

    def _fly(self, flight: _Flight, members: dict[str, list[_Entry]], limit: float) -> None:
        """Ask about ``members``' tasks, none of it past the soonest deadline of the waits served (``limit``: that
        of the wait flying it), so no wait waits on another's query past its own deadline."""
        deadline = min(limit, *(entry.plan.deadline for group in members.values() for entry in group))
        try:
            answers = self._ask(list(members), deadline)
            at = self._core.clock()
            with self._lock:
                for task_id, group in members.items():
                    for entry in group:
                        entry.mail = (answers[task_id], at, deadline)
                        entry.flight = None
        finally:
            with self._lock:  # cancelled or failed midway: the tasks are due again, for whoever wakes first
                for group in members.values():
                    for entry in group:
                        if entry.flight is flight:
                            entry.flight = None
            flight.done.set()

    def _ask(self, ids: list[str], deadline: float) -> dict[str, Answer]:
        """One query about every task of ``ids``, none of it (retries included) past ``deadline``."""
        if len(ids) == 1 or self.batch_supported is False:
            return self._singly(ids, deadline)
        try:
            batch = self._batch(ids, deadline)
        except APIStatusError as error:
            if error.status not in (404, 405):
                return dict.fromkeys(ids, error)
            self._no_batch(error)
            return self._singly(ids, deadline)
        except SeedreamError as error:
            return dict.fromkeys(ids, error)
        self.batch_supported = True
        answers: dict[str, Answer] = {}
        recorded = each([partial(self._recorded, detail, task_id) for task_id, detail in batch.tasks.items()])
        answers.update(zip(batch.tasks, recorded, strict=True))
        if batch.missing:  # left out: unknown, expired or another account's; the task query tells which
            answers.update(self._singly(list(batch.missing), deadline))
        return answers

    def _batch(self, ids: list[str], deadline: float) -> TaskBatch:
        core, api = self._core, self._api

        def attempt() -> TaskBatch:
            timeout = core.call_timeout(getattr(api, "timeout", None), deadline)
            batch: TaskBatch = self._gate.run(lambda: api.batch_query_tasks(ids, timeout=timeout))
            return batch

        return call_with_retries(
            attempt,
            method="GET",  # a read: nothing is created, repeating it is harmless
            operation="POST /v1/tasks/batch",
            policy=core.retry,
            sleep=self._sleep,
            clock=core.clock,
            rng=core.rng,
            deadline=deadline,
        )

    def _no_batch(self, error: APIStatusError) -> None:
        with self._lock:
            first, self.batch_supported = self.batch_supported is not False, False
        if first:
            logger.warning(
                "%s answers POST /v1/tasks/batch with HTTP %s: polling each task with its own query from now on",
                self._core.base_url,
                error.status,
            )

    def _recorded(self, detail: TaskDetailResponse, task_id: str) -> Answer:
        try:
            self._record(detail, task_id)
        except SeedreamError as error:
            return error
        return detail

    def _singly(self, ids: list[str], deadline: float) -> dict[str, Answer]:
        answers = each([partial(self._one, task_id, deadline) for task_id in ids])
        return dict(zip(ids, answers, strict=True))

    def _one(self, task_id: str, deadline: float) -> Answer:
        try:
            detail: TaskDetailResponse = self._get(task_id, deadline)
        except SeedreamError as error:
            return error
        return detail
