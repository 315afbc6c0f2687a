# GENERATED FILE - DO NOT EDIT. scripts/unasync.py from src/seedream/_async/_workflow.py; run `nox -s regenerate`.
"""The high-level client, :class:`Seedream` (see ``seedream._workflow`` for the methods and the guarantees).

The sync :class:`seedream.Seedream` is generated from this module; where the two differ (sleeping, the request cap,
where ledger writes run, cancellation) the code calls ``_primitives``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from seedream_client.models import ImageGenerationResponse, TaskDetailResponse, TaskListItem, TaskListResponse

from .._candidates import CLOCK_SKEW_SECONDS, UnconfirmedRow, created_unix, match_candidates, request_window
from .._client import CreateAnswer
from .._cost import Balance, Estimate, Prices, check_budget, check_max_credits, estimate_request
from .._deadline import bound_sockets
from .._download import MAX_IMAGE_BYTES, DownloadLimits, SavedFile, ensure_directory, remove_partials
from .._errors import (
    ConfigurationError,
    IdempotencyConflictError,
    LedgerError,
    LinkExpiredError,
    SeedreamError,
    UnexpectedResponseError,
)
from .._idempotency import PROBE_PROMPT, IdempotencySupport, judge_probe, new_key
from .._ledger import Ledger, LedgerEntry, TaskState
from .._polling import PollPolicy
from .._retry import RetryPolicy
from .._workflow import (
    _NO_TASK_ID,
    DEFAULT_MAX_CONCURRENT_REQUESTS,
    DEFAULT_WAIT_TIMEOUT_SECONDS,
    DownloadCallback,
    Generation,
    ResumeOutcome,
    TaskRef,
    WaitCallback,
    _answer_id,
    _check_params,
    _Core,
    _download_client_kwargs,
    _duplicate,
    _estimate,
    _foreign,
    _log_submit_failure,
    _may_exist,
    _recovered_note,
    _status,
    _submit_failure_text,
    _task_id,
    _unrecorded,
    _value,
    parse_callback,
)
from ._api import SeedreamAPI
from ._download import download_image
from ._poller import Poller
from ._primitives import Cancelled, Gate, Sleep, default_sleep, ledger_write
from ._retry import call_with_retries

__all__ = ["Seedream"]

logger = logging.getLogger("seedream.workflow")


# -- ledger writes: the intent before the POST, the task id before ``submit`` returns ---------------------------------


def _record_intent(
    core: _Core,
    body: Mapping[str, Any],
    directory: str | os.PathLike[str] | None,
    local_id: str | None = None,
    idempotency_key: str | None = None,
) -> str:
    local_id = local_id or uuid.uuid4().hex
    ledger = core.ledger
    try:
        ledger_write(
            ledger,
            ledger.record_intent,
            base_url=core.base_url,
            params=body,
            directory=directory,
            local_id=local_id,
            idempotency_key=idempotency_key,
        )
    except Cancelled:
        # The intent is written all the same (handed-over writes always run); the POST never left.
        with contextlib.suppress(LedgerError):  # closed meanwhile: the row stays `intent` (reported unconfirmed)
            ledger.defer(
                ledger.record_submit_failed, local_id, may_exist=False, error="cancelled before the request left"
            )
        raise
    return local_id


def _record_response(core: _Core, local_id: str, response: ImageGenerationResponse, note: str | None = None) -> str:
    ledger = core.ledger
    task_id = core._response_id(response)
    if task_id is None:
        ledger_write(ledger, ledger.record_submit_failed, local_id, may_exist=True, error=f"the {_NO_TASK_ID}")
        raise UnexpectedResponseError(f"the generation {_NO_TASK_ID}", status=200)
    created = _value(response.created)
    try:
        recorded = ledger_write(
            ledger,
            ledger.record_submitted,
            local_id,
            task_id=task_id,
            status=_status(response),
            created=created if isinstance(created, int) else None,
            estimated_time=_estimate(response),
            note=note,
        )
    except LedgerError as error:
        raise _unrecorded(task_id, error) from error
    if recorded is False:
        raise _duplicate(task_id)
    core._submitted[task_id] = core.clock()
    return task_id


def _record_submit_failure(
    core: _Core,
    local_id: str,
    error: BaseException,
    failures: list[BaseException] | None = None,
    key: str | None = None,
) -> None:
    """The POST failed. An unusable answer that still carried a good task id: the id is recorded first.

    ``failures``: every attempt's error (a keyed replay may end in a 429 after an attempt that may have created it).
    """
    ledger = core.ledger
    failures = failures if failures else [error]
    text = _submit_failure_text(failures, error, key)
    task_id = _answer_id(error)
    if task_id is not None:
        try:
            recorded = ledger_write(
                ledger,
                ledger.record_submitted,
                local_id,
                task_id=task_id,
                status=None,
                created=None,
                estimated_time=None,
                note=text,
            )
        except LedgerError as ledger_error:
            raise _unrecorded(task_id, ledger_error) from error
        if recorded:
            core._submitted[task_id] = core.clock()
        return
    may_exist = any(_may_exist(failure) for failure in [*failures, error])
    ledger_write(ledger, ledger.record_submit_failed, local_id, may_exist=may_exist, error=text)
    _log_submit_failure(may_exist, error)


def _record_detail(core: _Core, detail: TaskDetailResponse, asked: str | None = None) -> None:
    """What a query said about ``asked``; an answer about another task is refused before anything is written."""
    task_id = _value(detail.id) if asked is None else asked
    if asked is not None and (foreign := _foreign(asked, detail)) is not None:
        raise foreign
    if isinstance(task_id, str):
        ledger_write(core.ledger, core.ledger.record_task, task_id, **core._detail_fields(detail))


# -- the client ------------------------------------------------------------------------------------------------------


class Seedream:
    """The high-level client (see ``seedream._workflow``); the sync and async clients are one code.

    ``api_key``: argument or ``$EVOLINK_API_KEY``. ``base_url``: argument,
    ``$SEEDREAM_BASE_URL`` or the real API. ``ledger``: a :class:`Ledger`, a
    path, or None for the default location. ``transport``/``http_client`` go
    to the guarded client; ``download_transport`` to the (key-less) download
    client. ``polling`` sets the poll schedule (``PollPolicy().scaled(0.1)``
    for a simulator running at ``time_scale=0.1``). ``sleep``,
    ``clock`` (monotonic) and ``rng`` are injectable for tests. ``api``
    replaces the guarded client entirely (tests). ``prices``: the figures cost estimates use
    (:class:`~seedream._cost.Prices`, default the vendor's published ones); ``max_credits``: the default cap of
    every ``submit`` (see there).

    Made for many tasks at once on one client (``asyncio.gather`` over ``generate``, or threads on the sync
    client). At most ``max_concurrent_requests`` HTTP requests are in flight (API calls, and downloads
    separately; None for no cap): the rest queue cheaply here rather than in httpx's connection pool. The async
    client hands ledger writes to the ledger's writer thread (:meth:`Ledger.awrite`), never blocking the event
    loop on an fsync, with writes made at the same time sharing one commit; the sync client writes on the
    caller's thread. The guarantees stay: the intent is on disk before the POST, the task id before ``submit``
    returns.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        ledger: Ledger | str | os.PathLike[str] | None = None,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        download_transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        polling: PollPolicy | None = None,
        max_image_bytes: int = MAX_IMAGE_BYTES,
        download_limits: DownloadLimits | None = None,
        allow_internal_callbacks: bool = False,
        allow_internal_result_hosts: bool | None = None,
        sleep: Sleep = default_sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        api: SeedreamAPI | None = None,
        max_concurrent_requests: int | None = DEFAULT_MAX_CONCURRENT_REQUESTS,
        prices: Prices | None = None,
        max_credits: float | None = None,
    ) -> None:
        if prices is not None and not isinstance(prices, Prices):
            raise ConfigurationError(f"prices: a seedream.Prices (got {type(prices).__name__})")
        self.prices = prices or Prices()
        self.max_credits = check_max_credits(max_credits)
        if max_concurrent_requests is not None and (
            isinstance(max_concurrent_requests, bool)
            or not isinstance(max_concurrent_requests, int)
            or max_concurrent_requests < 1
        ):
            raise ConfigurationError(
                f"max_concurrent_requests: a positive integer or None (got {max_concurrent_requests!r})"
            )
        self._api_gate = Gate(max_concurrent_requests)
        self._download_gate = Gate(max_concurrent_requests)
        self._core = _Core(
            base_url=base_url,
            ledger=ledger,
            retry=retry,
            polling=polling,
            max_image_bytes=max_image_bytes,
            clock=clock,
            rng=rng,
            download_limits=download_limits,
            allow_internal_result_hosts=allow_internal_result_hosts,
        )
        self._sleep = sleep
        try:
            if api is None:
                api = SeedreamAPI(
                    api_key,
                    base_url=self._core.base_url,
                    timeout=timeout,
                    http_client=http_client,
                    transport=transport,
                    allow_internal_callbacks=allow_internal_callbacks,
                )
            self.api = api
            self._core.watch_drift(api)  # the monitor's sightings go to this client's ledger
            self._poller = Poller(
                api=api,
                core=self._core,
                gate=self._api_gate,
                sleep=sleep,
                get=lambda task_id, deadline: self.get(task_id, deadline=deadline),
                record=partial(_record_detail, self._core),
            )
            self._downloads = httpx.Client(transport=download_transport, **_download_client_kwargs())
            bound_sockets(self._downloads)
        except BaseException:
            self._core.close_ledger()
            raise

    @property
    def base_url(self) -> str:
        return self._core.base_url

    @property
    def ledger(self) -> Ledger:
        return self._core.ledger

    @property
    def idempotency(self) -> IdempotencySupport:
        """What is known about this base URL's ``Idempotency-Key`` support (``unproven`` until probed)."""
        return self._core.idempotency

    def close(self) -> None:
        self._downloads.close()
        self.api.close()
        self._core.close_ledger()

    def __enter__(self) -> Seedream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def submit(
        self,
        prompt: str,
        *,
        n: int | None = None,
        size: str | None = None,
        quality: str | None = None,
        image_urls: Sequence[str] | None = None,
        output_format: str | None = None,
        web_search: bool = False,
        callback_url: str | None = None,
        prompt_priority: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        directory: str | os.PathLike[str] | None = None,
        ledger_id: str | None = None,
        max_credits: float | None = None,
    ) -> ImageGenerationResponse:
        """Validate, record, POST; returns once the task id is in the ledger.

        ``max_credits`` (default: the client's): refuse, before anything is sent or written, a request whose
        cost estimate (:meth:`estimate`) is above it or above the balance ``credits()`` reads (one free GET);
        :class:`RequestValidationError` names ``max_credits`` or ``balance``, the estimate and the figure. A balance
        that cannot be read raises that read's error (after the GET retries); nothing is sent then either.

        ``directory`` is where ``resume`` will put the images if this process
        does not get to download them. ``ledger_id`` is the ledger row's local
        id (default: a new one), for callers that recorded it beforehand
        (``seedream batch`` links each line to its row before the row exists). Retries follow :mod:`seedream._retry`:
        a POST is repeated only when the server cannot have acted on it.
        """
        body = self.api.build_body(
            prompt,
            n=n,
            size=size,
            quality=quality,
            image_urls=list(image_urls) if image_urls is not None else None,
            output_format=output_format,
            web_search=web_search,
            callback_url=callback_url,
            prompt_priority=prompt_priority,
            extra_body=extra_body,
        )
        cap = self.max_credits if max_credits is None else check_max_credits(max_credits)
        if cap is not None:
            estimate = estimate_request(body, self.prices)
            check_budget(estimate, max_credits=cap)  # the cap first: no request at all for what it refuses
            check_budget(estimate, max_credits=cap, balance=self.credits())
        key = new_key()  # one per intent, on disk before the request leaves
        local_id, answer, failures = self._send(body, key, directory, ledger_id, keyed=self._core.keyed)
        note = _recovered_note(failures, key, answer.replayed)
        if note is not None:
            logger.info("task %s: %s", _value(answer.response.id), note)
        _record_response(self._core, local_id, answer.response, note)
        return answer.response

    def _send(
        self,
        body: Mapping[str, Any],
        key: str,
        directory: str | os.PathLike[str] | None,
        ledger_id: str | None,
        *,
        keyed: bool,
    ) -> tuple[str, CreateAnswer, list[BaseException]]:
        """A new ledger row under ``key``, then the POST: (local id, answer, every failed attempt's error)."""
        local_id = _record_intent(self._core, body, directory, ledger_id, key)
        failures: list[BaseException] = []
        try:
            answer = self._post(body, key, failures, keyed=keyed)
        except BaseException as error:
            _record_submit_failure(self._core, local_id, error, failures, key)
            raise
        return local_id, answer, failures

    def _post(self, body: Mapping[str, Any], key: str, failures: list[BaseException], *, keyed: bool) -> CreateAnswer:
        """The generation POST under ``key`` through the retry ladder; every attempt's error goes to ``failures``."""

        def attempt() -> CreateAnswer:
            try:
                return self._api_gate.run(lambda: self.api.create_generation_answer(body, idempotency_key=key))
            except BaseException as error:
                failures.append(error)
                raise

        return call_with_retries(
            attempt,
            method="POST",
            operation="POST /v1/images/generations",
            policy=self._core.retry,
            sleep=self._sleep,
            clock=self._core.clock,
            rng=self._core.rng,
            keyed=keyed,
        )

    def probe_idempotency(self) -> IdempotencySupport:
        """Establish whether this base URL's gateway honours ``Idempotency-Key``; recorded in the ledger.

        **Costs one image** (two if the gateway ignores keys: that is the finding). Sends one valid one-image body
        twice under one fresh key: ``supported`` only if both answers name one task and the second carries
        ``idempotency-replayed: true``. Both requests have ledger rows like any submission (the tasks are real);
        only safe retries are made. Once ``supported``, this client and every client made later on this ledger
        replay a POST whose answer was lost with its own key, and ``resume`` replays ``unconfirmed`` rows
        (``seedream._idempotency``). An attempt that cannot finish raises its error and records no verdict.
        """
        key = new_key()
        body = self.api.build_body(f"{PROBE_PROMPT} ({key})", n=1)
        first = self._probe_post(body, key, None)
        second = self._probe_post(body, key, first[0])
        state, evidence = judge_probe(key, first[0], second[0], second[1])
        support = IdempotencySupport(self._core.base_url, state, evidence, time.time())
        ledger_write(self._core.ledger, self._core.ledger.record_idempotency_support, support)
        self._core.idempotency = support
        logger.info("Idempotency-Key support of %s: %s (%s)", support.base_url, state, evidence)
        return support

    def _probe_post(self, body: Mapping[str, Any], key: str, first: str | None) -> tuple[str, bool]:
        """One probe POST with its own ledger row: (task id, replayed). A replay of ``first`` closes its row."""
        local_id, answer, _ = self._send(body, key, None, None, keyed=False)
        task_id = self._core._response_id(answer.response)
        if first is not None and task_id == first:
            ledger_write(self._core.ledger, self._core.ledger.record_replay_of, local_id, first)
            return first, answer.replayed
        return _record_response(self._core, local_id, answer.response), answer.replayed

    def get(self, task: TaskRef, *, deadline: float | None = None) -> TaskDetailResponse:
        """One task query (retried per the GET policy), recorded in the ledger."""
        task_id = _task_id(task)
        detail = call_with_retries(
            lambda: self._api_gate.run(
                lambda: self.api.get_task(
                    task_id, timeout=self._core.call_timeout(getattr(self.api, "timeout", None), deadline)
                )
            ),
            method="GET",
            operation="GET /v1/tasks/{id}",
            policy=self._core.retry,
            sleep=self._sleep,
            clock=self._core.clock,
            rng=self._core.rng,
            deadline=deadline,
        )
        _record_detail(self._core, detail, asked=task_id)
        return detail

    def wait(
        self,
        task: TaskRef,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT_SECONDS,
        on_progress: WaitCallback | None = None,
    ) -> TaskDetailResponse:
        """Poll until the task ends; returns it completed, or raises its failure or ``WaitTimeoutError``.

        Waits running at the same time on one client share their polls (see :meth:`wait_many`).
        """
        outcome = (self.wait_many([task], timeout=timeout, on_progress=on_progress))[0]
        if isinstance(outcome, SeedreamError):
            raise outcome
        return outcome

    def wait_many(
        self,
        tasks: Sequence[TaskRef],
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT_SECONDS,
        on_progress: WaitCallback | None = None,
    ) -> list[TaskDetailResponse | SeedreamError]:
        """Poll until every task ends, each on its own schedule, asking about up to 50 per request.

        Returns, per task in order, the completed task or the error that ended its wait (``TaskFailedError``,
        ``WaitTimeoutError``, ...): one task's end never stops the others. Tasks due within
        ``PollPolicy.batch_window`` of each other share one ``POST /v1/tasks/batch``, and so do the tasks of
        every other wait running on this client (see ``seedream._async._poller``).
        """
        plans = [self._core.plan(task, timeout) for task in tasks]
        return self._poller.wait_many(plans, on_progress)

    def download(
        self,
        task: TaskRef,
        directory: str | os.PathLike[str],
        *,
        on_progress: DownloadCallback | None = None,
    ) -> list[SavedFile]:
        """Save every result image of a completed task into ``directory``; files already saved there are kept."""
        task_id = _task_id(task)
        if isinstance(task, TaskDetailResponse) and _status(task) == "completed":
            detail = task
            _record_detail(self._core, detail)
        else:
            detail = self.get(task_id)
        urls = self._core.completed_detail(task_id, detail)
        target = Path(directory).expanduser().resolve()
        ensure_directory(target, task_id=task_id)
        ledger = self._core.ledger
        ledger_write(ledger, ledger.record_directory, task_id, target)
        saved = self._core.already_saved(task_id, target)
        owned = self._core.owned_files(task_id, target)
        for index, url in enumerate(urls):
            if index in saved:
                continue
            try:
                saved[index] = self._download_gate.run(
                    partial(
                        download_image,
                        self._downloads,
                        url,
                        task_id=task_id,
                        index=index,
                        count=len(urls),
                        directory=target,
                        retry=self._core.retry,
                        max_bytes=self._core.max_image_bytes,
                        limits=self._core.download_limits,
                        allow_internal_hosts=self._core.allow_internal_result_hosts,
                        owned=owned.get(index),
                        on_progress=on_progress,
                        sleep=self._sleep,
                    )
                )
            except LinkExpiredError as error:
                ledger_write(ledger, ledger.record_expired, task_id, str(error))
                raise
            ledger_write(ledger, ledger.record_file, saved[index])
        ledger_write(ledger, ledger.record_downloaded, task_id, directory=target)
        return [saved[index] for index in sorted(saved)]

    def generate(
        self,
        prompt: str,
        *,
        directory: str | os.PathLike[str] = ".",
        timeout: float = DEFAULT_WAIT_TIMEOUT_SECONDS,
        on_progress: WaitCallback | None = None,
        on_download: DownloadCallback | None = None,
        max_credits: float | None = None,
        **params: Any,
    ) -> Generation:
        """``submit`` + ``wait`` + ``download``; ``params`` are ``submit``'s keywords (``max_credits`` too)."""
        _check_params(params)
        response = self.submit(prompt, directory=directory, max_credits=max_credits, **params)
        task = self.wait(response, timeout=timeout, on_progress=on_progress)
        files = self.download(task, directory, on_progress=on_download)
        return Generation(task=task, files=files)

    def resume(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT_SECONDS,
        on_progress: WaitCallback | None = None,
        on_download: DownloadCallback | None = None,
    ) -> list[ResumeOutcome]:
        """Finish every ledger task of this base URL not yet downloaded whose links have not expired.

        Each task goes to the directory recorded at submit time, else
        ``directory``. Failures are reported per task, never raised. Where the base URL's
        ``Idempotency-Key`` support is established (:meth:`probe_idempotency`), ``unconfirmed`` rows holding
        a key younger than the gateway's retention are first replayed (the stored request, its own key) and
        the task each recovers is finished like the others.
        """
        replays = {outcome.local_id or "": outcome for outcome in self.recover_unconfirmed()}
        failed = {local_id: outcome for local_id, outcome in replays.items() if outcome.state != "submitted"}
        recovered = {o.task_id: o.message for o in replays.values() if o.state == "submitted" and o.task_id}
        todo, outcomes = self._core.resume_targets(directory, failed)
        for entry, target in todo:
            remove_partials(target, entry.task_id or "")
        # Waited for together (batched polls), then downloaded one by one.
        ids = [entry.task_id or "" for entry, _ in todo]
        ended = self.wait_many(ids, timeout=timeout, on_progress=on_progress)
        for (entry, target), task in zip(todo, ended, strict=True):
            task_id = entry.task_id or ""
            try:
                if isinstance(task, SeedreamError):
                    raise task
                files = self.download(task, target, on_progress=on_download)
            except SeedreamError as error:
                outcomes.append(self._core.resume_failure(task_id, error))
            else:
                outcomes.append(ResumeOutcome(task_id, "downloaded", files, recovered.get(task_id, "")))
        return self._with_candidates(outcomes)

    # -- money and the task list -------------------------------------------------------------------------------

    def _read(self, call: Callable[[], Any], operation: str) -> Any:
        """One free GET, retried per the GET policy, within the request cap."""
        return call_with_retries(
            lambda: self._api_gate.run(call),
            method="GET",
            operation=operation,
            policy=self._core.retry,
            sleep=self._sleep,
            clock=self._core.clock,
            rng=self._core.rng,
        )

    def credits(self) -> Balance:
        """The balance (``GET /v1/credits``): the account's and this key's; ``.available`` is what can be spent."""
        return Balance.from_answer(self._read(self.api.get_credits, "GET /v1/credits"))

    def available_credits(self) -> float | None:
        """What a submission can spend now (None when the answer does not say): ``seedream batch``'s probe."""
        return (self.credits()).available

    def estimate(self, prompt: str, **params: Any) -> Estimate:
        """The cost estimate of a request (``submit``'s keywords), at this client's ``prices``; nothing is sent.

        An estimate from the published prices, never the vendor's bill.
        """
        _check_params(params)
        return estimate_request(self.api.build_body(prompt, **params), self.prices)

    def list_tasks(
        self,
        *,
        page: int | None = None,
        page_size: int | None = None,
        status: str | None = None,
        type_: str | None = None,
        model: str | None = None,
    ) -> TaskListResponse:
        """One page of this account's tasks, newest first (``GET /v1/tasks``; summaries, no result links).

        The filters are checked before anything is sent (``RequestValidationError`` naming the field).
        """
        return self._read(  # type: ignore[no-any-return]
            lambda: self.api.list_tasks(page=page, page_size=page_size, status=status, type_=type_, model=model),
            "GET /v1/tasks",
        )

    def unconfirmed_candidates(
        self, *, skew: float = CLOCK_SKEW_SECONDS, max_pages: int = 10, page_size: int = 100
    ) -> list[UnconfirmedRow]:
        """For each ``intent``/``unconfirmed`` row of this base URL, the listed tasks that could be it.

        Same model, created within the row's request window (``seedream._candidates``); tasks the ledger holds
        for other rows are left out. A hint for the user: nothing is written, no row is ever merged.
        Pages are read newest first until one is older than every window (at most ``max_pages``).
        """
        entries = [
            e for e in self.ledger.stale(base_url=self.base_url) if e.state in (TaskState.INTENT, TaskState.UNCONFIRMED)
        ]
        if not entries:
            return []
        earliest = min(request_window(entry, skew=skew)[0] for entry in entries)
        models = {entry.params.get("model") for entry in entries}
        model = next(iter(models)) if len(models) == 1 and isinstance(next(iter(models)), str) else None
        items: list[TaskListItem] = []
        for page in range(1, max_pages + 1):
            listed = self.list_tasks(page=page, page_size=page_size, model=model)
            items.extend(listed.data)
            times = [t for t in (created_unix(item.created_at) for item in listed.data) if t is not None]
            size = listed.page_size if isinstance(listed.page_size, int) else page_size  # the server may cap it
            last = isinstance(listed.total, int) and page * size >= listed.total
            if not listed.data or last or (times and min(times) < earliest):  # newest first: older pages are older
                break
        known = {str(item.id) for item in items if isinstance(item.id, str) and self.ledger.get(item.id) is not None}
        return match_candidates(entries, items, known=known, skew=skew)

    def _with_candidates(self, outcomes: list[ResumeOutcome]) -> list[ResumeOutcome]:
        """``resume``'s unconfirmed outcomes with the listed tasks that could be them (shown, never merged)."""
        if not any(outcome.state == "unconfirmed" for outcome in outcomes):
            return outcomes
        try:
            rows = {row.local_id: row for row in self.unconfirmed_candidates()}
        except SeedreamError as error:  # the list is a hint: without it the rows are reported as before
            logger.warning("could not list tasks to match unconfirmed rows: %s", error)
            return outcomes
        out = []
        for outcome in outcomes:
            row = rows.get(outcome.local_id or "") if outcome.state == "unconfirmed" else None
            if row is not None:
                outcome = replace(outcome, candidates=row.candidates, message=f"{outcome.message}; {row.describe()}")
            out.append(outcome)
        return out

    def recover_unconfirmed(self) -> list[ResumeOutcome]:
        """Replay every replayable ``unconfirmed`` row of this base URL with its own key; ``resume`` does this first.

        Only where ``Idempotency-Key`` support is established (:meth:`probe_idempotency`), only rows whose key is
        younger than the gateway's retention and whose request the ledger holds as sent
        (``seedream._idempotency.replay_blocker``). Each outcome is ``submitted`` (the task id recovered and
        recorded; ``message`` says how) or ``unconfirmed`` / ``error`` (why not). Nothing is waited for.
        """
        return [self._replay_row(entry) for entry in self._core.replay_candidates()]

    def _replay_row(self, entry: LedgerEntry) -> ResumeOutcome:
        key = entry.idempotency_key or ""
        failures: list[BaseException] = []
        try:
            answer = self._post(entry.params, key, failures, keyed=True)
        except SeedreamError as error:
            why = (
                "the gateway says the key was used for another request"
                if isinstance(error, IdempotencyConflictError)
                else f"{type(error).__name__}: {error}"
            )
            return ResumeOutcome(
                None,
                "unconfirmed",
                message=f"replaying Idempotency-Key {key} did not recover the task ({why}); it may exist and be "
                "charged: check the EvoLink dashboard or resume again later",
                local_id=entry.local_id,
            )
        how = "the gateway marked it idempotency-replayed" if answer.replayed else "answered as a new request"
        note = f"recovered by resume, replaying Idempotency-Key {key}; {how}"
        try:
            task_id = _record_response(self._core, entry.local_id, answer.response, note)
        except SeedreamError as error:
            return ResumeOutcome(
                _answer_id(error), "error", message=f"{type(error).__name__}: {error}", local_id=entry.local_id
            )
        return ResumeOutcome(task_id, "submitted", message=note, local_id=entry.local_id)

    def confirm_callback(self, body: bytes | str | Mapping[str, Any]) -> TaskDetailResponse:
        """Parse a callback body, then return the task as the API reports it when asked by id.

        The callback itself is never trusted: anyone who learns the callback
        URL can post to it, and no signature is documented.
        """
        claimed = parse_callback(body)
        detail = self.get(_task_id(claimed))
        if _status(detail) != _status(claimed):
            logger.debug("callback for %s claimed %s; the API says %s", detail.id, claimed.status, detail.status)
        return detail
