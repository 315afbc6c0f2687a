"""Batch jobs: a file of prompts, one budget, one progress view, and a rerun that never pays twice.

A batch file is JSONL (one JSON object per line) or CSV (a header row with a
``prompt`` column). Each line has a ``prompt`` and optionally the parameters
of ``generate``, with the same names and the same rules: ``n``, ``size``,
``quality``, ``image_urls`` (CSV: separated by spaces), ``output_format``,
``web_search`` (CSV: true/false), ``callback_url``, ``prompt_priority``.
Every line is validated before anything is sent (:func:`read_batch`); a bad
line is reported with its line number, field and rule.

Resuming. Each line is linked to its ledger row *before* that row is
written (``batch_lines`` in :mod:`seedream._ledger`), and the row's intent is
on disk before the POST leaves. A rerun of the same file (same batch id)
therefore knows for every line whether:

* nothing can have been sent (no association, no row, or a row ``rejected``):
  it is submitted (again);
* the task exists (``submitted``/``completed``): it is waited for and
  downloaded, never resubmitted;
* the POST may have reached the server without its answer reaching us
  (``intent``/``unconfirmed``): it may be paid for, so it is **not**
  resubmitted and is reported ``unconfirmed`` (only the vendor's dashboard
  can tell);
* it is finished (``downloaded`` with its files intact, ``failed``, ...):
  it is reported as it stands.

Lines are keyed by the hash of their validated request body and its
occurrence (the second identical line is a second image set, paid again), so
reordering or inserting lines does not make finished ones look new.

Concurrency is additive-increase / multiplicative-decrease
(:class:`AIMDLimiter`): the number of lines in flight grows by about one per
window of successful submissions and halves at a 429, new submissions pausing
for the ``Retry-After`` the server asked for.

Money: :data:`DEFAULT_CREDITS_PER_IMAGE` is the price found on the vendor's
product page (see :mod:`seedream._cost`), an estimate the caller can override,
never the vendor's word on a bill. ``max_credits`` is checked against the
estimate of the lines still to be sent, before any is; the balance too when a
``balance`` probe is given (``seedream batch --max-credits`` gives
``AsyncSeedream.available_credits``, which reads ``GET /v1/credits``; without a
probe the balance is not checked and the report says so).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import io
import json
import math
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import httpx

from ._cost import DEFAULT_CREDITS_PER_IMAGE, WEB_SEARCH_CREDITS, Prices
from ._download import SavedFile, remove_partials, sha256_of
from ._errors import (
    APIConnectionError,
    APIStatusError,
    DownloadError,
    LedgerError,
    LinkExpiredError,
    NotFoundError,
    RateLimitError,
    RequestValidationError,
    SeedreamError,
    ServerError,
    TaskCancelledError,
    TaskFailedError,
    WaitTimeoutError,
)
from ._ledger import BatchLineRecord, LedgerEntry, TaskState

if TYPE_CHECKING:
    from ._async._workflow import AsyncSeedream
    from ._client import _Base

__all__ = [
    "BATCH_PARAMETERS",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_CREDITS_PER_IMAGE",
    "LINE_STATES",
    "MAX_SUBMISSIONS",
    "MAX_TRANSIENT",
    "WEB_SEARCH_CREDITS",
    "AIMDLimiter",
    "BalanceProbe",
    "BatchEstimate",
    "BatchFile",
    "BatchLine",
    "BatchProgress",
    "BatchReport",
    "LineProblem",
    "LineResult",
    "batch_id_for",
    "estimate_credits",
    "parse_batch",
    "read_batch",
    "run_batch",
]

#: Most lines in flight at once (the AIMD window's ceiling).
DEFAULT_CONCURRENCY = 8
#: The generation parameters a line may carry: ``generate``'s keywords.
BATCH_PARAMETERS = (
    "n",
    "size",
    "quality",
    "image_urls",
    "output_format",
    "web_search",
    "callback_url",
    "prompt_priority",
)
#: Submissions of one line refused with a 429 or a connection that never opened before the line is given up
#: (for this run: a rerun tries again; nothing was created).
MAX_SUBMISSIONS = 12
#: Transient errors (429, 5xx, lost connections) while waiting or downloading before a line is left pending.
MAX_TRANSIENT = 8

BalanceProbe = Callable[[], Awaitable[float | None]]
ProgressCallback = Callable[["BatchProgress"], None]


# -- reading and validating --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineProblem:
    """A line that breaks a rule; nothing of it is sent."""

    line: int
    field: str
    rule: str
    value: object = None

    def __str__(self) -> str:
        shown = repr(self.value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return f"line {self.line}: {self.field}: {self.rule} (got {shown})"

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "rule": self.rule, "value": _jsonable(self.value)}


@dataclass(frozen=True)
class BatchLine:
    """A valid line: its number in the file, the ``generate`` keywords, and its key in the ledger."""

    line_no: int
    prompt: str
    params: dict[str, Any]
    line_hash: str
    key: str  # line_hash + "#" + occurrence
    images: int  # images the request asks for (each pre-charged)
    web_search: bool


@dataclass(frozen=True)
class BatchFile:
    path: Path
    lines: list[BatchLine]
    problems: list[LineProblem]


class _Rules:
    """Stands in for the guarded client when only its body building (pure validation) is wanted."""

    def __init__(self, allow_internal_callbacks: bool) -> None:
        self.allow_internal_callbacks = allow_internal_callbacks


def _build_body(prompt: str, params: Mapping[str, Any], *, allow_internal_callbacks: bool) -> dict[str, Any]:
    # The very body building (and rules) of `generate`, without needing an API key or a connection.
    from ._client import _Base

    return _Base.build_body(cast("_Base", _Rules(allow_internal_callbacks)), prompt, **params)


def read_batch(path: str | Path, *, allow_internal_callbacks: bool = False) -> BatchFile:
    """Parse and validate a batch file (``.csv``: CSV; anything else: JSONL); every line is checked."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RequestValidationError("FILE", str(source), f"must be a readable UTF-8 file ({exc})") from None
    return parse_batch(
        text, path=source, csv_format=source.suffix.lower() == ".csv", allow_internal=allow_internal_callbacks
    )


def parse_batch(text: str, *, path: Path, csv_format: bool, allow_internal: bool = False) -> BatchFile:
    raw, problems = _csv_rows(text) if csv_format else _jsonl_rows(text)
    lines: list[BatchLine] = []
    seen: Counter[str] = Counter()
    for line_no, row in raw:
        prompt = row.pop("prompt", None)
        if not isinstance(prompt, str):
            problems.append(LineProblem(line_no, "prompt", "required: a string", prompt))
            continue
        unknown = sorted(set(row) - set(BATCH_PARAMETERS))
        if unknown:
            rule = f"not a generation parameter ({', '.join(('prompt', *BATCH_PARAMETERS))})"
            problems.append(LineProblem(line_no, unknown[0], rule, row[unknown[0]]))
            continue
        try:
            body = _build_body(prompt, row, allow_internal_callbacks=allow_internal)
        except RequestValidationError as error:
            problems.append(LineProblem(line_no, error.field, error.rule, error.value))
            continue
        except TypeError as error:  # a keyword given a value build_body cannot even take
            problems.append(LineProblem(line_no, "(line)", f"type: {error}", None))
            continue
        line_hash = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
        occurrence = seen[line_hash]
        seen[line_hash] += 1
        lines.append(
            BatchLine(
                line_no=line_no,
                prompt=prompt,
                params=row,
                line_hash=line_hash,
                key=f"{line_hash[:32]}#{occurrence}",
                images=int(body.get("n", 1)),  # each request pre-charges n images, however many come back
                web_search=bool(row.get("web_search")),
            )
        )
    problems.sort(key=lambda problem: problem.line)
    return BatchFile(path, lines, problems)


def _jsonl_rows(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[LineProblem]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    problems: list[LineProblem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # blank lines and comments
        try:
            value = json.loads(stripped)
        except ValueError as exc:
            problems.append(LineProblem(number, "(line)", f"must be a JSON object ({exc.args[0]})", stripped[:40]))
            continue
        if not isinstance(value, dict):
            problems.append(LineProblem(number, "(line)", "must be a JSON object", value))
            continue
        rows.append((number, value))
    return rows, problems


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def _csv_rows(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[LineProblem]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    problems: list[LineProblem] = []
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return rows, [LineProblem(1, "prompt", "a CSV batch needs a header row with a prompt column", None)]
    except csv.Error as exc:
        return rows, [LineProblem(1, "(header)", f"must be CSV ({exc})", None)]
    names = [name.strip() for name in header]
    if "prompt" not in names:
        return rows, [LineProblem(1, "prompt", "a CSV batch needs a prompt column", names)]
    unknown = [name for name in names if name not in ("prompt", *BATCH_PARAMETERS)]
    if unknown:
        rule = f"not a generation parameter ({', '.join(('prompt', *BATCH_PARAMETERS))})"
        return rows, [LineProblem(1, unknown[0], rule, unknown[0])]
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(LineProblem(start, "(line)", f"must be CSV ({exc})", None))
            break
        number, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(names):
            problems.append(LineProblem(number, "(line)", f"must have {len(names)} cells like the header", len(cells)))
            continue
        row: dict[str, Any] = {}
        problem = None
        for name, cell in zip(names, cells, strict=True):
            value = cell.strip() if name != "prompt" else cell
            if name != "prompt" and not value:
                continue  # an empty cell: the parameter's default
            try:
                row[name] = _csv_value(name, value)
            except ValueError as exc:
                problem = LineProblem(number, name, str(exc), value)
                break
        if problem is not None:
            problems.append(problem)
            continue
        rows.append((number, row))
    return rows, problems


def _csv_value(name: str, value: str) -> Any:
    if name == "n":
        try:
            return int(value)
        except ValueError:
            raise ValueError("type: must be an integer") from None
    if name == "web_search":
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError("type: must be true or false")
    if name == "image_urls":
        return value.split()
    return value


def batch_id_for(path: str | Path, base_url: str) -> str:
    """The default batch id: the same file against the same API is the same batch, wherever run from."""
    resolved = str(Path(path).expanduser().resolve())
    return hashlib.sha256(f"{base_url.rstrip('/')}\n{resolved}".encode()).hexdigest()[:20]


# -- money -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchEstimate:
    """What the lines still to be sent should cost (an estimate at ``credits_per_image``)."""

    lines: int
    images: int
    credits: float
    credits_per_image: float
    balance: float | None
    balance_note: str

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def estimate_credits(lines: Sequence[BatchLine], credits_per_image: float) -> float:
    """Credits the lines pre-charge: ``n`` images each, plus one web search per line that enables it (at least)."""
    prices = Prices(per_image=credits_per_image, web_search=WEB_SEARCH_CREDITS)  # the one estimate (seedream._cost)
    return round(sum(prices.estimate(line.images, line.web_search).credits for line in lines), 6)


# -- concurrency -------------------------------------------------------------------------------------------------


class AIMDLimiter:
    """How many lines may be in flight: +1 per window of successes, halved at a throttle, paused for Retry-After.

    Throttles arriving during a pause count once: a burst of 429s from the
    requests already under way is one signal, not one halving each.
    """

    def __init__(
        self, maximum: int, *, initial: int | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if maximum < 1:
            raise ValueError(f"maximum: must be at least 1 (got {maximum})")
        self.maximum = maximum
        self.window = float(min(maximum, initial if initial is not None else min(4, maximum)))
        self.paused_until = 0.0
        self.throttles = 0
        self._clock = clock

    @property
    def limit(self) -> int:
        return max(1, math.floor(self.window))

    def on_success(self) -> None:
        self.window = min(float(self.maximum), self.window + 1.0 / self.window)

    def on_throttle(self, retry_after: float | None, fallback: float = 1.0) -> None:
        now = self._clock()
        if now >= self.paused_until:
            self.window = max(1.0, self.window / 2.0)
            self.throttles += 1
        self.paused_until = max(self.paused_until, now + (retry_after if retry_after is not None else fallback))

    def delay(self) -> float:
        """Seconds until new submissions may start again (0: now)."""
        return max(0.0, self.paused_until - self._clock())


def _retry_after(response: httpx.Response) -> float | None:
    try:
        value = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


# -- results -----------------------------------------------------------------------------------------------------

#: Line states in a report. ``done``: every image on disk, checked; ``not_sent``: nothing was created (a rerun
#: sends it); ``pending``: the task still runs (a rerun waits for it); ``unconfirmed``: the POST may have created
#: a charged task whose id never arrived: never resubmitted, check the vendor's dashboard.
LINE_STATES = ("done", "failed", "cancelled", "expired", "unconfirmed", "pending", "not_sent", "invalid", "error")


@dataclass
class LineResult:
    line: int
    state: str
    prompt: str
    task_id: str | None = None
    files: list[SavedFile] = field(default_factory=list)
    code: str | None = None
    message: str = ""
    previously: str | None = None  # the ledger state found at the start of this run (None: a new line)
    images: int = 0  # images the line asks for

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "state": self.state,
            "prompt": self.prompt,
            "task_id": self.task_id,
            "files": [f.to_dict() for f in self.files],
            "code": self.code,
            "message": self.message,
            "previously": self.previously,
        }


@dataclass(frozen=True)
class BatchProgress:
    total: int
    done: int
    failed: int
    in_flight: int
    images: int
    credits: float
    window: int


@dataclass
class BatchReport:
    batch_id: str
    path: str
    directory: str
    dry_run: bool
    estimate: BatchEstimate
    lines: list[LineResult]
    problems: list[LineProblem]
    elapsed: float = 0.0
    throttles: int = 0
    credits_spent: float = 0.0  # estimated: images of tasks that completed, at the configured price

    def counts(self) -> dict[str, int]:
        counts = Counter(result.state for result in self.lines)
        return {state: counts[state] for state in LINE_STATES if counts[state]}

    def failures_by_code(self) -> dict[str, int]:
        codes = Counter(result.code or result.state for result in self.lines if result.state not in ("done", "pending"))
        return dict(sorted(codes.items(), key=lambda item: (-item[1], item[0])))

    @property
    def complete(self) -> bool:
        return bool(self.lines) and all(result.state == "done" for result in self.lines) and not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "file": self.path,
            "directory": self.directory,
            "dry_run": self.dry_run,
            "estimate": self.estimate.to_dict(),
            "counts": self.counts(),
            "failures_by_code": self.failures_by_code(),
            "images": sum(len(result.files) for result in self.lines),
            "credits_spent_estimate": round(self.credits_spent, 6),
            "throttles": self.throttles,
            "elapsed_seconds": round(self.elapsed, 3),
            "problems": [problem.to_dict() for problem in self.problems],
            "lines": [result.to_dict() for result in self.lines],
        }


def _jsonable(value: object) -> object:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


# -- running -----------------------------------------------------------------------------------------------------


class _Run:
    """One run of a batch on one client: the limiter, the counters, and the line workers."""

    def __init__(
        self,
        client: AsyncSeedream,
        *,
        batch_id: str,
        directory: Path,
        concurrency: int,
        timeout: float,
        credits_per_image: float,
        on_progress: ProgressCallback | None,
        total: int,
    ) -> None:
        self.client = client
        self.ledger = client.ledger
        self.batch_id = batch_id
        self.directory = directory
        self.limiter = AIMDLimiter(concurrency)
        self.timeout = timeout
        self.credits_per_image = credits_per_image
        self.on_progress = on_progress
        self.total = total
        self.finished = 0
        self.failed = 0
        self.in_flight = 0
        self.images = 0
        self.credits = 0.0
        self._slots = asyncio.Condition()
        self._rng = random.Random()

    def progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(
                BatchProgress(
                    total=self.total,
                    done=self.finished,
                    failed=self.failed,
                    in_flight=self.in_flight,
                    images=self.images,
                    credits=round(self.credits, 6),
                    window=self.limiter.limit,
                )
            )

    async def on_response(self, response: httpx.Response) -> None:
        # Every API response passes here (an httpx event hook): a 429 anywhere slows new submissions down.
        if response.status_code == 429:
            self.limiter.on_throttle(_retry_after(response))
            async with self._slots:
                self._slots.notify_all()

    async def _acquire(self) -> None:
        async with self._slots:
            while True:
                pause = self.limiter.delay()
                if pause <= 0 and self.in_flight < self.limiter.limit:
                    self.in_flight += 1
                    return
                with contextlib.suppress(TimeoutError):  # a pause ended: look again
                    await asyncio.wait_for(self._slots.wait(), timeout=pause if pause > 0 else None)

    async def _release(self) -> None:
        async with self._slots:
            self.in_flight -= 1
            self._slots.notify_all()

    def _finish(self, result: LineResult) -> LineResult:
        self.finished += 1
        if result.state not in ("done", "pending"):
            self.failed += 1
        self.images += len(result.files)
        self.progress()
        return result

    async def line(self, line: BatchLine, record: BatchLineRecord | None) -> LineResult:
        entry = record.entry if record is not None else None
        previously = None if entry is None else entry.state
        result = LineResult(line.line_no, "error", line.prompt, previously=previously, images=line.images)
        if entry is not None and entry.state != TaskState.REJECTED:
            # A task already at the vendor's is in flight whatever the window says: it is only waited for.
            async with self._slots:
                self.in_flight += 1
            try:
                return self._finish(await self._existing(entry, result))
            finally:
                await self._release()
        return self._finish(await self._new(line, result))

    async def _new(self, line: BatchLine, result: LineResult) -> LineResult:
        submissions = 0
        while True:
            submissions += 1
            await self._acquire()
            holding = True
            try:
                local_id = uuid.uuid4().hex
                # The association is durable before the row it names exists, and the row before the POST leaves.
                await self.ledger.awrite(
                    self.ledger.record_batch_line,
                    self.batch_id,
                    line.key,
                    line_no=line.line_no,
                    line_hash=line.line_hash,
                    local_id=local_id,
                )
                try:
                    response = await self.client.submit(
                        line.prompt, directory=self.directory, ledger_id=local_id, **line.params
                    )
                except (RateLimitError, APIConnectionError) as error:
                    if isinstance(error, APIConnectionError) and error.request_sent:
                        return _unconfirmed(result, error)
                    # Refused before anything was created: back off (freeing the slot) and submit again.
                    retry_after = error.retry_after if isinstance(error, RateLimitError) else None
                    self.limiter.on_throttle(retry_after, fallback=min(8.0, 0.5 * 2**submissions))
                    if submissions >= MAX_SUBMISSIONS:
                        result.state, result.code = "not_sent", _code(error)
                        result.message = f"gave up for now after {submissions} refused submissions: {error}"
                        return result
                    holding = False
                    await self._release()
                    await asyncio.sleep(self._rng.uniform(0, 0.05))
                    continue
                except RequestValidationError as error:
                    result.state, result.code, result.message = "invalid", error.rule_id, str(error)
                    return result
                except APIStatusError as error:
                    if isinstance(error, ServerError) or error.status >= 500 or error.status < 400:
                        return _unconfirmed(result, error)
                    result.state, result.code = "not_sent", _code(error)
                    result.message = f"refused (HTTP {error.status}), nothing was created: {error}"
                    return result
                except SeedreamError as error:  # a ledger failure: the task may exist
                    return _unconfirmed(result, error)
                self.limiter.on_success()
                self.credits += line.images * self.credits_per_image
                self.progress()
                task_id = str(response.id)
                result.task_id = task_id
                return await self._finish_task(task_id, result)
            finally:
                if holding:
                    await self._release()

    async def _existing(self, entry: LedgerEntry, result: LineResult) -> LineResult:
        result.task_id = entry.task_id
        state = entry.state
        if state in (TaskState.INTENT, TaskState.UNCONFIRMED):
            result.state = "unconfirmed"
            result.message = (
                "the request may have reached the server without its answer reaching the ledger; it may be "
                "charged, so it is not sent again: check the EvoLink dashboard"
            )
            return result
        if state == TaskState.FAILED:
            result.state, result.code = "failed", entry.error_code
            result.message = entry.error_message or ""
            return result
        if state in (TaskState.CANCELLED, TaskState.EXPIRED):
            result.state, result.message = str(state), entry.error_message or ""
            return result
        task_id = entry.task_id or ""
        if state == TaskState.DOWNLOADED:
            files = _intact(entry)
            if files is not None:
                result.state, result.files = "done", files
                return result
        remove_partials(self.directory, task_id)
        return await self._finish_task(task_id, result)

    async def _finish_task(self, task_id: str, result: LineResult) -> LineResult:
        transient = 0
        while True:
            try:
                task = await self.client.wait(task_id, timeout=self.timeout)
                result.files = await self.client.download(task, self.directory)
            except TaskFailedError as error:
                result.state, result.code, result.message = "failed", _code(error), error.error_message or str(error)
                return result
            except TaskCancelledError as error:
                result.state, result.message = "cancelled", str(error)
                return result
            except WaitTimeoutError as error:
                result.state, result.message = "pending", str(error)
                return result
            except (LinkExpiredError, NotFoundError) as error:
                result.state, result.code, result.message = "expired", _code(error), str(error)
                return result
            except (RateLimitError, APIConnectionError, ServerError, DownloadError) as error:
                # The task exists: keep after it (a GET or a download is safe to repeat).
                transient += 1
                if isinstance(error, RateLimitError):
                    self.limiter.on_throttle(error.retry_after)
                if transient >= MAX_TRANSIENT:
                    result.state, result.code = "pending", _code(error)
                    result.message = f"still not finished after {transient} transient errors ({error}); rerun"
                    return result
                await asyncio.sleep(min(8.0, 0.25 * 2**transient) * (0.5 + self._rng.random() / 2))
                continue
            except SeedreamError as error:
                result.state, result.code, result.message = "error", _code(error), f"{type(error).__name__}: {error}"
                return result
            result.state = "done"
            return result


def _unconfirmed(result: LineResult, error: BaseException) -> LineResult:
    result.state, result.code = "unconfirmed", _code(error)
    result.message = f"{type(error).__name__}: {error}; the task may exist and be charged: not sent again"
    return result


def _code(error: BaseException) -> str | None:
    code = getattr(error, "code", None)
    if code is not None:
        return str(code)
    status = getattr(error, "status", None)
    return f"http_{status}" if isinstance(status, int) else type(error).__name__


def _intact(entry: LedgerEntry) -> list[SavedFile] | None:
    """The line's files as the ledger has them, if every one is on disk with its checksum; else None."""
    if not entry.files:
        return None
    files: list[SavedFile] = []
    for item in entry.files:
        path = Path(item.path)
        if not path.is_file() or sha256_of(path) != item.sha256:
            return None
        files.append(
            SavedFile(
                entry.task_id or "", item.index, path, item.sha256, item.size, item.media_type, item.width, item.height
            )
        )
    return files


async def run_batch(
    client: AsyncSeedream,
    batch: BatchFile | str | Path,
    *,
    directory: str | Path,
    batch_id: str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout: float = 600.0,
    max_credits: float | None = None,
    credits_per_image: float = DEFAULT_CREDITS_PER_IMAGE,
    balance: BalanceProbe | None = None,
    strict: bool = False,
    dry_run: bool = False,
    on_progress: ProgressCallback | None = None,
    on_plan: Callable[[BatchEstimate], None] | None = None,
) -> BatchReport:
    """Run (or, with ``dry_run``, only validate and price) a batch on ``client``; see the module docstring.

    Raises :class:`RequestValidationError` before anything is sent when
    ``strict`` and a line is invalid, or when the estimate exceeds
    ``max_credits`` or the balance. Per-line failures are reported, never raised.
    """
    started = time.monotonic()
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise RequestValidationError("concurrency", concurrency, "must be a positive integer")
    if not math.isfinite(credits_per_image) or credits_per_image < 0:
        raise RequestValidationError("credits_per_image", credits_per_image, "must be a non-negative number")
    parsed = batch if isinstance(batch, BatchFile) else read_batch(batch)
    if not parsed.lines and not parsed.problems:
        raise RequestValidationError(
            "FILE", str(parsed.path), "holds no lines (JSONL: one object per line; CSV: a header with a prompt column)"
        )
    if strict and parsed.problems:
        first = parsed.problems[0]
        more = f" ({len(parsed.problems) - 1} more line(s) invalid)" if len(parsed.problems) > 1 else ""
        raise RequestValidationError(f"line {first.line}: {first.field}", first.value, first.rule + more)
    target = Path(directory).expanduser().resolve()
    bid = batch_id or batch_id_for(parsed.path, client.base_url)
    with contextlib.ExitStack() as stack:
        if not dry_run:  # before the ledger is read: another run's progress must not go stale under this one
            stack.enter_context(_batch_lock(client.ledger.path, bid))
        return await _run_batch(
            client,
            parsed,
            bid=bid,
            target=target,
            started=started,
            concurrency=concurrency,
            timeout=timeout,
            max_credits=max_credits,
            credits_per_image=credits_per_image,
            balance=balance,
            dry_run=dry_run,
            on_progress=on_progress,
            on_plan=on_plan,
        )


@contextlib.contextmanager
def _batch_lock(ledger_path: str, batch_id: str) -> Iterator[None]:
    """One run of a batch at a time: two would both see a line unsent and both pay for it."""
    try:
        import fcntl
    except ImportError:  # no advisory locks (Windows): keeping to one run at a time is the caller's
        yield
        return
    if ledger_path == ":memory:":
        yield
        return
    lock = Path(ledger_path).with_name(f"{Path(ledger_path).name}.batch-{batch_id}.lock")
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LedgerError(
                f"batch {batch_id} is being run by another process (lock {lock}); wait for it to end"
            ) from None
        yield  # the lock goes with the file descriptor, also when the process is killed


async def _run_batch(
    client: AsyncSeedream,
    parsed: BatchFile,
    *,
    bid: str,
    target: Path,
    started: float,
    concurrency: int,
    timeout: float,
    max_credits: float | None,
    credits_per_image: float,
    balance: BalanceProbe | None,
    dry_run: bool,
    on_progress: ProgressCallback | None,
    on_plan: Callable[[BatchEstimate], None] | None,
) -> BatchReport:
    records = client.ledger.batch_lines(bid)
    to_send = [line for line in parsed.lines if _needs_sending(records.get(line.key))]
    cost = estimate_credits(to_send, credits_per_image)
    remaining: float | None = None
    if balance is None:
        note = "balance not checked (no balance probe given)"
    elif max_credits is not None and cost > max_credits:  # refused by the cap: no request at all
        note = "balance not read (the estimate is above max_credits)"
    else:
        remaining = await balance()
        note = "balance unavailable" if remaining is None else f"balance {remaining:g} credits"
    estimate = BatchEstimate(
        lines=len(to_send),
        images=sum(line.images for line in to_send),
        credits=cost,
        credits_per_image=credits_per_image,
        balance=remaining,
        balance_note=note,
    )
    if on_plan is not None:
        on_plan(estimate)
    if max_credits is not None and cost > max_credits:
        raise RequestValidationError(
            "max_credits", max_credits, f"the {len(to_send)} line(s) to send are estimated at {cost:g} credits, more"
        )
    if remaining is not None and cost > remaining:
        raise RequestValidationError("balance", remaining, f"the lines to send are estimated at {cost:g} credits, more")
    report = BatchReport(bid, str(parsed.path), str(target), dry_run, estimate, [], parsed.problems)
    invalid = [
        LineResult(problem.line, "invalid", "", code="invalid", message=str(problem)) for problem in parsed.problems
    ]
    if dry_run:
        report.lines = sorted([*_dry_results(parsed.lines, records), *invalid], key=lambda r: r.line)
        report.elapsed = time.monotonic() - started
        return report
    target.mkdir(parents=True, exist_ok=True)
    run = _Run(
        client,
        batch_id=bid,
        directory=target,
        concurrency=concurrency,
        timeout=timeout,
        credits_per_image=credits_per_image,
        on_progress=on_progress,
        total=len(parsed.lines),
    )
    hooks = client.api.http_client.event_hooks
    hooks.setdefault("response", []).append(run.on_response)
    client.api.http_client.event_hooks = hooks
    try:
        run.progress()
        # Lines already at the vendor's first: they are only waited for, and they free the window sooner.
        ordered = sorted(parsed.lines, key=lambda line: _needs_sending(records.get(line.key)))
        results = await asyncio.gather(*(run.line(line, records.get(line.key)) for line in ordered))
    finally:
        hooks = client.api.http_client.event_hooks
        hooks["response"] = [hook for hook in hooks.get("response", []) if hook != run.on_response]
        client.api.http_client.event_hooks = hooks
    report.lines = sorted([*results, *invalid], key=lambda r: r.line)
    report.throttles = run.limiter.throttles
    report.credits_spent = sum(len(r.files) * credits_per_image for r in results if r.state == "done")
    report.elapsed = time.monotonic() - started
    return report


def _needs_sending(record: BatchLineRecord | None) -> bool:
    return record is None or record.entry is None or record.entry.state == TaskState.REJECTED


def _dry_results(lines: Sequence[BatchLine], records: Mapping[str, BatchLineRecord]) -> list[LineResult]:
    results = []
    for line in lines:
        record = records.get(line.key)
        entry = None if record is None else record.entry
        if entry is None or entry.state == TaskState.REJECTED:
            state, message = "not_sent", "would be sent"
        elif entry.state == TaskState.DOWNLOADED and _intact(entry) is not None:
            state, message = "done", "already done"
        else:
            state, message = str(entry.state), "from an earlier run"
        results.append(
            LineResult(
                line.line_no,
                state,
                line.prompt,
                task_id=None if entry is None else entry.task_id,
                message=message,
                previously=None if entry is None else entry.state,
                images=line.images,
            )
        )
    return results
