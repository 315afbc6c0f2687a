"""The high-level client: from a prompt to checked files on disk, with nothing paid for ever lost.

:class:`Seedream` and :class:`AsyncSeedream` have the same methods:

* ``submit(prompt, ...)``: validate, write the ledger (with the request's fresh
  ``Idempotency-Key``), POST once (retried only when provably safe, or replayed
  with its key where the gateway's support is established, see
  :mod:`seedream._retry`), write the task id; returns the ``ImageGenerationResponse``.
* ``probe_idempotency()``: establish (one image's cost) whether the base URL's
  gateway honours ``Idempotency-Key``, remembered in the ledger (:mod:`seedream._idempotency`).
* ``recover_unconfirmed()``: with support established, replay ``unconfirmed``
  rows with their own key and record the task ids recovered.
* ``wait(task_or_id, timeout=..., on_progress=...)``: poll on the schedule of
  :mod:`seedream._polling` until the task ends; returns the completed
  ``TaskDetailResponse`` or raises ``TaskFailedError`` / ``TaskCancelledError``
  / ``WaitTimeoutError``.
* ``download(task, directory, on_progress=...)``: save every result (see
  :mod:`seedream._download`); returns the :class:`SavedFile` list.
* ``generate(prompt, directory=..., ...)``: the three in a row.
* ``resume(directory=None)``: ``recover_unconfirmed``, then finish every ledger
  task of this base URL not yet downloaded whose links have not expired.
* ``confirm_callback(body)``: parse a callback body, then re-fetch the task by
  id and return what the API says (callbacks carry no signature).

This module holds what both clients share (the ledger bookkeeping of
:class:`_Core`, the wait plan, parsing callbacks). The clients themselves are
one code: :class:`AsyncSeedream` is written in ``seedream/_async/_workflow.py``
and :class:`Seedream` generated from it into ``seedream/_sync/`` by
``scripts/unasync.py``; where ledger writes run (the async client hands them
to the ledger's writer thread), sleeping and the cap on requests in flight
come from each side's ``_primitives``.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from seedream_client.models import ImageGenerationResponse, TaskDetailResponse
from seedream_client.types import Unset

from ._answers import ACCEPT_ENCODING
from ._candidates import Candidate
from ._download import (
    DownloadLimits,
    DownloadProgress,
    SavedFile,
    sha256_of,
)
from ._drift import DriftMonitor, DriftRecord, describe
from ._errors import (
    APIConnectionError,
    APIStatusError,
    DownloadError,
    IdempotencyConflictError,
    LedgerError,
    LinkExpiredError,
    NotFoundError,
    RateLimitError,
    RequestValidationError,
    SeedreamError,
    TaskCancelledError,
    TaskFailedError,
    UnexpectedResponseError,
    WaitTimeoutError,
    error_code,
)
from ._idempotency import IdempotencySupport, replay_blocker
from ._ledger import Ledger, LedgerEntry, TaskState
from ._polling import PollPolicy, PollScheduler
from ._redaction import cut
from ._retry import IN_PROGRESS_CODE, RetryPolicy
from ._rules import MAX_TOTAL_IMAGES, generated_image_count, is_retryable_task_code, proves_not_created
from ._settings import resolve_allow_internal_result_hosts, resolve_base_url

__all__ = [
    "DEFAULT_MAX_CONCURRENT_REQUESTS",
    "DEFAULT_WAIT_TIMEOUT_SECONDS",
    "Generation",
    "ResumeOutcome",
    "parse_callback",
]

logger = logging.getLogger("seedream.workflow")
T = TypeVar("T")

#: How long ``wait`` waits by default; the task itself goes on afterwards.
DEFAULT_WAIT_TIMEOUT_SECONDS = 600.0
#: Most HTTP requests one ``AsyncSeedream`` has in flight (API calls; downloads separately). Requests past the cap
#: wait on a semaphore, not in httpcore's pool, whose bookkeeping costs time quadratic in the queue
#: (encode/httpcore#1035: 1,000 queued requests made 1,000 tasks take 90-120 s instead of 5-7 s). Kept below the
#: 20 keep-alive connections of httpx's default pool, so no connection is closed and reopened (a TLS handshake each
#: on the real API); each pooled connection also costs CPU on every request, so on loopback fewer is faster still
#: (4: 5.1 s, 16: 6.6 s for the 1,000 tasks), while over the internet 16 in flight give 80-160 requests/s.
DEFAULT_MAX_CONCURRENT_REQUESTS = 16
_TASK_ID_PREFIX = "task-unified-"

TaskRef = str | ImageGenerationResponse | TaskDetailResponse
WaitCallback = Callable[[TaskDetailResponse], None]
DownloadCallback = Callable[[DownloadProgress], None]


@dataclass(frozen=True)
class Generation:
    """What ``generate`` returns: the completed task and its saved files."""

    task: TaskDetailResponse
    files: list[SavedFile]


@dataclass(frozen=True)
class ResumeOutcome:
    """What ``resume`` did with one ledger row.

    ``state``: ``downloaded``, ``failed``, ``cancelled``, ``expired``,
    ``timeout`` (still running; resume again later), ``error`` (see
    ``message``), ``skipped`` (no directory recorded or given),
    ``unconfirmed`` (a POST whose outcome is unknown: the task may exist and
    be charged; ``candidates`` are the listed tasks that could be it, a hint
    for the EvoLink dashboard, never proof; a replay of its key where support
    is established recovers it) or ``submitted`` (``recover_unconfirmed``
    recovered its task id).
    """

    task_id: str | None
    state: str
    files: list[SavedFile] = field(default_factory=list)
    message: str = ""
    #: The ledger row (set for ``unconfirmed`` outcomes, whose task id is unknown).
    local_id: str | None = None
    #: ``unconfirmed`` only: listed tasks that could be the row's (``seedream._candidates``), never merged.
    candidates: tuple[Candidate, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "task_id": self.task_id,
            "state": self.state,
            "files": [f.to_dict() for f in self.files],
            "message": self.message,
        }
        if self.state == "unconfirmed":
            data["local_id"] = self.local_id
            data["candidates"] = [c.to_dict() for c in self.candidates]
        return data


# -- shared pieces ---------------------------------------------------------------------------------------------------


def _value(value: object) -> Any:
    return None if isinstance(value, Unset) else value


def _status(task: ImageGenerationResponse | TaskDetailResponse) -> str | None:
    status = _value(task.status)
    return None if status is None else str(status)


def _estimate(task: ImageGenerationResponse | TaskDetailResponse) -> int | None:
    info = _value(task.task_info)
    estimate = None if info is None else _value(info.estimated_time)
    return estimate if isinstance(estimate, int) and not isinstance(estimate, bool) else None


def _task_id(task: TaskRef) -> str:
    task_id = task if isinstance(task, str) else _value(task.id)
    if not isinstance(task_id, str) or not task_id:
        raise RequestValidationError("task_id", task_id, "a non-empty task id string is required")
    return task_id


def parse_callback(body: bytes | str | Mapping[str, Any]) -> TaskDetailResponse:
    """A callback body as the task model. Not to be trusted as it stands: see ``confirm_callback``."""
    data: object = body
    if isinstance(body, (bytes, str)):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise RequestValidationError("callback body", _snippet(body), "must be a JSON object") from None
    if not isinstance(data, Mapping):
        raise RequestValidationError("callback body", _snippet(data), "must be a JSON object")
    task_id = data.get("id")
    if not isinstance(task_id, str) or not task_id.startswith(_TASK_ID_PREFIX):
        raise RequestValidationError("callback body.id", task_id, f"must be a task id starting {_TASK_ID_PREFIX!r}")
    try:
        return TaskDetailResponse.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RequestValidationError("callback body", _snippet(data), f"must have the task shape ({exc})") from None


def _snippet(value: object) -> str:
    return cut(repr(value), 80)  # redacted before the cut


def _may_exist(error: BaseException) -> bool:
    """Whether a failed POST may still have created (and charged) a task.

    Only proof says no: a 429 (refused before admission: the retry ladder's premise), a connection that never
    carried the request, and the admission refusals of :func:`seedream_rules.proves_not_created` (spec-facts: the
    vendor's own CLI counts every other failure after the request left as "outcome unknown"). An unknown 4xx code,
    an integer code, a 409 and any 5xx prove nothing.
    """
    if isinstance(error, RateLimitError):
        return False
    if isinstance(error, APIConnectionError):
        return error.request_sent
    if isinstance(error, APIStatusError):
        return not proves_not_created(error.status, error.code)
    return True  # interrupted mid-request: unknown


def _submit_failure_text(failures: list[BaseException], error: BaseException, key: str | None) -> str:
    """The ledger's message for a failed POST: the last error and, for an unconfirmed row, why it is unknown."""
    text = f"{type(error).__name__}: {error}"
    lost = sum(1 for failure in failures if _may_exist(failure))
    if isinstance(error, IdempotencyConflictError) and error.code != IN_PROGRESS_CODE:
        text += f"; the gateway refused Idempotency-Key {key} as used for another request: not replayed further"
    elif isinstance(error, APIStatusError) and 400 <= error.status < 500 and _may_exist(error):
        text += (
            f"; HTTP {error.status} with code {error.code!r} is not an admission refusal that proves nothing was "
            "created (seedream_rules.ADMISSION_REFUSAL_CODES): the task may exist"
        )
    if lost > 1 or (lost == 1 and not _may_exist(error)):
        text += f"; {lost} of {len(failures)} attempts may have reached the server"
    return text


def _recovered_note(failures: list[BaseException], key: str, replayed: bool) -> str | None:
    """The ledger's note on a row whose answer came only after a lost one (a keyed replay), else None."""
    lost = [failure for failure in failures if _may_exist(failure)]
    if not lost:
        return None
    how = "the gateway marked it idempotency-replayed" if replayed else "answered as a new request"
    return (
        f"recovered by replaying Idempotency-Key {key} after {len(lost)} lost answer(s) "
        f"({', '.join(type(f).__name__ for f in lost)}); {how}"
    )


_NO_TASK_ID = "response carried no task id"


def _unrecorded(task_id: str, error: LedgerError) -> LedgerError:
    # The task exists and is paid for: its id must not be lost with the error.
    if error.task_id == task_id:  # it says so already
        return LedgerError(str(error), task_id=task_id)
    return LedgerError(f"task {task_id} was created but could not be recorded: {error}", task_id=task_id)


def _duplicate(task_id: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"the generation answer repeated task id {task_id}, which the ledger already holds for an earlier request: "
        "the earlier row is kept; this request is recorded as unconfirmed (it may have created a charged task of "
        "its own: check the EvoLink dashboard)",
        status=200,
        task_id=task_id,
    )


def _foreign(asked: str, detail: TaskDetailResponse) -> UnexpectedResponseError | None:
    """An error if ``detail`` is about another task than the one asked for (nothing of it may be recorded)."""
    answered = _value(detail.id)
    if answered is None or answered == asked:
        return None
    return UnexpectedResponseError(
        f"asked about task {asked}, the answer is about {_snippet(answered)}: refused, nothing recorded",
        status=200,
    )


def _answer_id(error: BaseException) -> str | None:
    """The task id an unusable create answer still proved (see ``parse_create_response``)."""
    task_id = getattr(error, "task_id", None) if isinstance(error, APIStatusError) else None
    return task_id if isinstance(task_id, str) else None


def _log_submit_failure(may_exist: bool, error: BaseException) -> None:
    if may_exist:
        logger.warning(
            "the generation request failed (%s) and an attempt may have reached the server; the task may exist "
            "and be charged: it is recorded as unconfirmed in the ledger",
            type(error).__name__,
        )


def _task_failure(task_id: str, detail: TaskDetailResponse) -> SeedreamError | None:
    status = _status(detail)
    if status == "failed":
        error = _value(detail.error)
        code = None if error is None else error_code(_value(error.code))
        message = None if error is None else _value(error.message)
        return TaskFailedError(
            task_id=task_id,
            code=code,
            message=message,
            retryable=is_retryable_task_code(code if isinstance(code, str) else None),  # an integer: unknown
            task=detail,
        )
    if status == "cancelled":
        return TaskCancelledError(f"task {task_id} was cancelled", task_id=task_id)
    return None


def _drift_written(done: Future[None]) -> None:
    error = done.exception()
    if error is not None:  # drift is reported, never raised: a ledger that cannot take it only loses the record
        logging.getLogger("seedream.drift").warning("drift not recorded in the ledger: %s", error)


class _WaitPlan:
    """The deadline and the poll times of one ``wait``: pure bookkeeping, no I/O."""

    def __init__(
        self,
        task_id: str,
        *,
        now: float,
        timeout: float,
        origin: float,
        estimate: int | None,
        poll_first_now: bool,
        policy: PollPolicy,
        rng: random.Random,
        drift: DriftMonitor | None = None,
    ) -> None:
        if timeout <= 0:
            raise RequestValidationError("timeout", timeout, "must be a positive number of seconds")
        self.task_id = task_id
        self.origin = origin
        self.deadline = now + timeout
        self.scheduler = PollScheduler(estimated_time=estimate, policy=policy, rng=rng)
        first = now if poll_first_now else max(now, origin + self.scheduler.first_poll_at())
        self.next_at = min(first, self.deadline)
        self.last_status: str | None = None
        self.polls = 0
        self.drift = drift

    def delay(self, now: float) -> float:
        return max(0.0, self.next_at - now)

    def timed_out(self) -> WaitTimeoutError:
        status = self.last_status
        drift = tuple(describe(r) for r in self.drift.for_task(self.task_id)) if self.drift is not None else ()
        note = ""
        if drift:  # a status value we do not know never ends a wait: say the API changed rather than just "slow"
            shown = "; ".join(drift[:3]) + ("; …" if len(drift) > 3 else "")
            note = f"; the API's answers about it drifted from the spec ({shown}): see `seedream drift`"
        return WaitTimeoutError(
            f"task {self.task_id} still {status or 'unknown'} when the wait timed out; "
            f"it goes on: wait for it again or run `seedream resume` later{note}",
            task_id=self.task_id,
            last_status=status,
            drift=drift,
        )

    def after_poll(self, detail: TaskDetailResponse, now: float) -> TaskDetailResponse | None:
        """The completed task, None to poll again at ``next_at``, or the task's end as an exception."""
        self.polls += 1
        status = _status(detail)
        self.last_status = status
        if status == "completed":
            return detail
        failure = _task_failure(self.task_id, detail)
        if failure is not None:
            raise failure
        if now >= self.deadline:
            raise self.timed_out()
        elapsed = now - self.origin
        progress = _value(detail.progress)
        self.scheduler.observe(elapsed, progress if isinstance(progress, int) else None, _estimate(detail))
        self.next_at = min(now + self.scheduler.next_delay(elapsed), self.deadline)
        logger.debug("task %s is %s (%s%%); next poll in %.2fs", self.task_id, status, progress, self.next_at - now)
        return None


class _Core:
    """State and bookkeeping shared by the sync and async clients."""

    def __init__(
        self,
        *,
        base_url: str | None,
        ledger: Ledger | str | os.PathLike[str] | None,
        retry: RetryPolicy | None,
        polling: PollPolicy | None,
        max_image_bytes: int,
        clock: Callable[[], float],
        rng: random.Random | None,
        download_limits: DownloadLimits | None = None,
        allow_internal_result_hosts: bool | None = None,
    ) -> None:
        self.base_url = resolve_base_url(base_url)
        self.download_limits = download_limits or DownloadLimits()
        self.allow_internal_result_hosts = resolve_allow_internal_result_hosts(allow_internal_result_hosts)
        self._owns_ledger = not isinstance(ledger, Ledger)
        self.ledger = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
        self.retry = retry or RetryPolicy()
        self.polling = polling or PollPolicy()
        self.max_image_bytes = max_image_bytes
        self.clock = clock
        self.rng = rng or random.Random()
        self._submitted: dict[str, float] = {}  # task id -> clock() at submit, for the poll schedule
        self.drift: DriftMonitor | None = None
        # Read once: a probe by this client updates it; one in another process is seen by clients made after it.
        known = self.ledger.idempotency_support(self.base_url)
        self.idempotency = known[0] if known else IdempotencySupport(self.base_url)

    @property
    def keyed(self) -> bool:
        """Whether a lost POST may be replayed with its key: the base URL's support established by a probe."""
        return self.idempotency.established

    def replay_blocker(self, entry: LedgerEntry) -> str | None:
        """Why ``resume`` cannot replay this ``unconfirmed`` row with its key, or None when it can."""
        if not self.keyed:
            return (
                None
                if entry.idempotency_key is None
                else "Idempotency-Key support is not established for this base URL (`seedream idempotency probe`)"
            )
        if entry.duplicate_of is not None:
            return f"its answer repeated task {entry.duplicate_of} of another row: a replay would say the same"
        return replay_blocker(
            key=entry.idempotency_key, stored_digest=entry.body_sha256, params=entry.params, intent_at=entry.intent_at
        )

    def replay_candidates(self) -> list[LedgerEntry]:
        """The ``unconfirmed`` rows of this base URL ``resume`` replays with their own key (support established)."""
        if not self.keyed:
            return []
        return [
            entry
            for entry in self.ledger.stale(base_url=self.base_url)
            if entry.state == TaskState.UNCONFIRMED and self.replay_blocker(entry) is None
        ]

    def watch_drift(self, api: object) -> None:
        """Record the drift the guarded client's monitor sees in this ledger (an async client's: on its writer thread).

        The same line in both twins: whether ``api`` is async is read off it.
        """
        monitor = getattr(api, "drift_monitor", None)
        if not isinstance(monitor, DriftMonitor):
            return
        self.drift = monitor
        ledger = self.ledger
        if not inspect.iscoroutinefunction(getattr(api, "get_task", None)):
            monitor.sink = ledger.record_drift
            return

        def sink(sightings: list[DriftRecord]) -> None:  # an event loop must not wait on an fsync
            ledger.defer(ledger.record_drift, sightings).add_done_callback(_drift_written)

        monitor.sink = sink

    def call_timeout(self, api_timeout: object, deadline: float | None) -> httpx.Timeout | None:
        """The guarded client's timeouts, none longer than the time left before ``deadline`` (a ``clock()`` value).

        So a request in flight cannot outlive the wait that made it.
        """
        if deadline is None:
            return None
        left = max(deadline - self.clock(), 0.001)
        phases = api_timeout.as_dict() if isinstance(api_timeout, httpx.Timeout) else {}
        capped = {phase: left if value is None else min(value, left) for phase, value in phases.items()}
        return httpx.Timeout(left, **capped) if capped else httpx.Timeout(left)

    def close_ledger(self) -> None:
        if self._owns_ledger:
            self.ledger.close()

    @staticmethod
    def _response_id(response: ImageGenerationResponse) -> str | None:
        task_id = _value(response.id)
        return task_id if isinstance(task_id, str) and task_id else None

    def _detail_fields(self, detail: TaskDetailResponse) -> dict[str, Any]:
        error = _value(detail.error)
        results = _value(detail.results)
        progress = _value(detail.progress)
        created = _value(detail.created)
        return {
            "base_url": self.base_url,
            "status": _status(detail),
            "progress": progress if isinstance(progress, int) else None,
            "results": results if isinstance(results, list) else None,
            "estimated_time": _estimate(detail),
            "created": created if isinstance(created, int) else None,
            "error_code": None if error is None else _value(error.code),
            "error_message": None if error is None else _value(error.message),
        }

    def plan(self, task: TaskRef, timeout: float) -> _WaitPlan:
        task_id = _task_id(task)
        now = self.clock()
        model = None if isinstance(task, str) else task
        running = model is not None and _status(model) in ("pending", "processing")
        return _WaitPlan(
            task_id,
            now=now,
            timeout=timeout,
            origin=self._origin(task_id, model, now),
            estimate=None if model is None else _estimate(model),
            poll_first_now=not running,
            policy=self.polling,
            rng=self.rng,
            drift=self.drift,
        )

    def _origin(self, task_id: str, model: ImageGenerationResponse | TaskDetailResponse | None, now: float) -> float:
        """``clock()`` value at which the task was created, as well as we know it."""
        if task_id in self._submitted:
            return self._submitted[task_id]
        entry = self.ledger.get(task_id)
        unix = entry.submitted_at if entry is not None else None
        if unix is None and model is not None and isinstance(_value(model.created), int):
            unix = float(model.created)  # type: ignore[arg-type]
        if unix is None:
            return now
        return now - max(0.0, time.time() - unix)

    def completed_detail(self, task_id: str, detail: TaskDetailResponse) -> list[str]:
        status = _status(detail)
        if status != "completed":
            failure = _task_failure(task_id, detail)
            if failure is not None:
                raise failure
            raise DownloadError(
                f"task {task_id} is {status or 'in an unknown state'}, not completed: wait for it first"
            )
        results = _value(detail.results)
        if not isinstance(results, list) or not results:
            raise DownloadError(f"task {task_id} completed without result URLs", task_id=task_id)
        most, why = self._most_results(task_id)
        if len(results) > most:
            raise UnexpectedResponseError(
                f"task {task_id} completed with {len(results):,} result URLs, but {why}: "
                "a protocol error, nothing was downloaded",
                status=200,
            )
        return [str(url) for url in results]

    def _most_results(self, task_id: str) -> tuple[int, str]:
        """How many images the request can have produced (``n``, capped at 15 minus references), and why."""
        entry = self.ledger.get(task_id)
        params = entry.params if entry is not None else {}
        n, refs = params.get("n"), params.get("image_urls")
        submitted_here = "prompt" in params  # a row made by ``submit``, not by a query of someone else's task
        if not submitted_here or not (n is None or (isinstance(n, int) and not isinstance(n, bool))):
            return MAX_TOTAL_IMAGES, f"no request yields more than {MAX_TOTAL_IMAGES}"
        count = len(refs) if isinstance(refs, list) else 0
        most = generated_image_count(n, count)
        return most, f"its request (n={n or 1}, {count} reference images) can yield at most {most}"

    def owned_files(self, task_id: str, directory: Path) -> dict[int, Path]:
        """Where the ledger recorded this task's files in ``directory``: the only names a download may replace."""
        entry = self.ledger.get(task_id)
        return {
            item.index: Path(item.path)
            for item in (entry.files if entry is not None else [])
            if Path(item.path).parent == directory
        }

    def already_saved(self, task_id: str, directory: Path) -> dict[int, SavedFile]:
        """Files of ``task_id`` saved earlier into ``directory`` that are still intact on disk."""
        entry = self.ledger.get(task_id)
        saved: dict[int, SavedFile] = {}
        for item in entry.files if entry is not None else []:
            path = Path(item.path)
            if path.parent == directory and sha256_of(path) == item.sha256:
                saved[item.index] = SavedFile(
                    task_id, item.index, path, item.sha256, item.size, item.media_type, item.width, item.height
                )
        return saved

    def resume_targets(
        self, directory: str | os.PathLike[str] | None, replays: Mapping[str, ResumeOutcome] | None = None
    ) -> tuple[list[tuple[LedgerEntry, Path]], list[ResumeOutcome]]:
        """What ``resume`` waits for, and the rows it can only report; ``replays``: local id -> a failed replay."""
        todo: list[tuple[LedgerEntry, Path]] = []
        done: list[ResumeOutcome] = []
        for entry in self.ledger.resumable(base_url=self.base_url):
            target = entry.directory or (None if directory is None else str(directory))
            if target is None:
                done.append(ResumeOutcome(entry.task_id, "skipped", message="no output directory recorded or given"))
                continue
            todo.append((entry, Path(target).expanduser().resolve()))
        for entry in self.ledger.stale(base_url=self.base_url):
            if replays is not None and entry.local_id in replays:
                done.append(replays[entry.local_id])
            elif entry.state in (TaskState.INTENT, TaskState.UNCONFIRMED):
                blocked = self.replay_blocker(entry) if entry.state == TaskState.UNCONFIRMED else None
                done.append(
                    ResumeOutcome(
                        entry.task_id,
                        "unconfirmed",
                        local_id=entry.local_id,
                        message=f"request of {_iso(entry.intent_at)} got no answer: it may have created a charged "
                        "task; check the EvoLink dashboard" + (f" (not replayed: {blocked})" if blocked else ""),
                    )
                )
            else:
                self.ledger.record_expired(entry.task_id or "", "result links expired before download")
                done.append(ResumeOutcome(entry.task_id, "expired", message="result links expired before download"))
        return todo, done

    def resume_failure(self, task_id: str, error: SeedreamError) -> ResumeOutcome:
        if isinstance(error, TaskFailedError):
            return ResumeOutcome(task_id, "failed", message=str(error))
        if isinstance(error, TaskCancelledError):
            return ResumeOutcome(task_id, "cancelled", message=str(error))
        if isinstance(error, WaitTimeoutError):
            return ResumeOutcome(task_id, "timeout", message=str(error))
        if isinstance(error, (LinkExpiredError, NotFoundError)):
            self.ledger.record_expired(task_id, str(error))
            return ResumeOutcome(task_id, "expired", message=str(error))
        return ResumeOutcome(task_id, "error", message=f"{type(error).__name__}: {error}")


def _iso(unix: float) -> str:
    """Local time to the second, as the ledger's messages and the CLI's tables show it."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(unix))


def _download_client_kwargs() -> dict[str, Any]:
    # Plain client: result links are signed storage URLs; the API key must never go there.
    # Only the codings our bounded decoder undoes (httpx would add br/zstd when those packages are installed).
    return {
        "timeout": httpx.Timeout(60.0, connect=10.0),
        "follow_redirects": False,
        "headers": {"Accept-Encoding": ACCEPT_ENCODING},
    }


_BUILD_KEYS = (
    "n",
    "size",
    "quality",
    "image_urls",
    "output_format",
    "web_search",
    "callback_url",
    "prompt_priority",
    "extra_body",
)


def _check_params(params: Mapping[str, Any]) -> None:
    unknown = sorted(set(params) - set(_BUILD_KEYS))
    if unknown:
        raise RequestValidationError(
            unknown[0], params[unknown[0]], f"not a generation parameter ({', '.join(_BUILD_KEYS)})"
        )
