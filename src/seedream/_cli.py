"""The ``seedream`` command: generate, wait, download, resume, the ledger, the simulator and a demo.

The key comes from ``EVOLINK_API_KEY`` only (a flag would end up in shell
history and process listings). Every command that talks to the API takes
``--base-url`` (or ``SEEDREAM_BASE_URL``; default the real API) and
``--ledger`` (or ``SEEDREAM_LEDGER``). Progress bars go to stderr; results to
stdout, as JSON with ``--json``. An error prints one line,
``error: ...``, and exits with

    1  API, connection, download or ledger error
    2  bad input (a flag breaking a rule, no API key)
    3  the task failed or was cancelled
    4  the wait timed out (the task goes on: `seedream wait ID` or `seedream resume`)
"""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version as _installed_version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO, cast

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from seedream_client.models import ImageGenerationResponse, TaskDetailResponse, TaskListResponse
from seedream_client.types import Unset
from typer.core import TyperCommand, TyperGroup

from ._async._workflow import AsyncSeedream
from ._cost import DEFAULT_CREDITS_PER_IMAGE, WEB_SEARCH_CREDITS, Balance, Prices
from ._download import DownloadProgress, SavedFile
from ._drift import DriftRecord
from ._errors import (
    APIConnectionError,
    ConfigurationError,
    RequestValidationError,
    SeedreamError,
    ServerError,
    TaskCancelledError,
    TaskFailedError,
    UnexpectedResponseError,
    WaitTimeoutError,
)
from ._idempotency import IdempotencySupport
from ._ledger import Ledger, LedgerEntry
from ._polling import PollPolicy
from ._redaction import RedactingFilter, redact
from ._rules import parse_wxh
from ._settings import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL, LEDGER_ENV
from ._sync._workflow import Seedream
from ._workflow import DEFAULT_WAIT_TIMEOUT_SECONDS, ResumeOutcome, _iso

if TYPE_CHECKING:
    from ._batch import BatchEstimate, BatchProgress, BatchReport

__all__ = ["DEMO_TIME_SCALE", "app", "main"]

#: The demo's simulator runs ten times faster than real time: a two-image task takes about two seconds.
DEMO_TIME_SCALE = 0.1
DEMO_PROMPT = "A lighthouse on a cliff at dusk, generate 2 different views"


def _plain_flags(params: Sequence[Any]) -> list[Any]:
    """Flags take no value: show none (typer 0.29's help prints ``<bool>`` for every flag, --help too)."""
    for param in params:
        if getattr(param, "is_flag", False) and getattr(param, "metavar", None) is None:
            param.metavar = ""
    return list(params)


class _Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_flags(super().get_params(ctx))


class _Group(TyperGroup):
    """Every command reached through the group (those added later too) shows its flags without a value."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plain_flags(super().get_params(ctx))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _plain_flags(command.get_params(ctx))
        return command


app = typer.Typer(
    name="seedream",
    cls=_Group,
    help="Seedream 5.0 Lite (EvoLink) from the command line. The key comes from EVOLINK_API_KEY.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # rich tracebacks can show local variables, the key among them
)
ledger_app = typer.Typer(cls=_Group, help="The local task ledger.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
idempotency_app = typer.Typer(
    cls=_Group,
    help="Whether the gateway honours Idempotency-Key (what lets a lost POST be replayed without a second charge).",
    no_args_is_help=True,
)
app.add_typer(idempotency_app, name="idempotency")

BaseUrl = Annotated[
    str | None,
    typer.Option("--base-url", envvar=BASE_URL_ENV, help=f"API base URL [default: {DEFAULT_BASE_URL}]"),
]
LedgerPath = Annotated[
    Path | None,
    typer.Option("--ledger", envvar=LEDGER_ENV, help="Ledger file [default: in the user data directory]"),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log every request decision to stderr (DEBUG).")]
Timeout = Annotated[
    float, typer.Option("--timeout", min=0.001, help="Seconds to wait for the task before giving up on waiting.")
]
OutDir = Annotated[Path, typer.Option("--out", "-o", help="Directory for the images.", file_okay=False)]
MaxCredits = Annotated[
    float | None,
    typer.Option(
        "--max-credits",
        min=0,
        help="Refuse, before sending, a request estimated above this many credits or above the balance.",
    ),
]
CreditsPerImage = Annotated[
    float,
    typer.Option(min=0, help="Price used for estimates (EvoLink's published price, 2026-12-01: 2.2 per image)."),
]


class _Redacting(io.TextIOBase):
    """stdout or stderr as it is *now* (test runners swap them), with every registered key redacted."""

    def __init__(self, stream: Callable[[], TextIO]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream().write(redact(text))
        return len(text)

    def flush(self) -> None:
        self._stream().flush()

    def isatty(self) -> bool:
        return self._stream().isatty()

    def fileno(self) -> int:
        return self._stream().fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream(), "encoding", None) or "utf-8"


_STDOUT = cast(TextIO, _Redacting(lambda: sys.stdout))  # a text stream in all but name
_STDERR = cast(TextIO, _Redacting(lambda: sys.stderr))


@dataclass
class _Output:
    """Where things are printed: results on stdout, progress and errors on stderr; all of it redacted."""

    json: bool
    out: Console = field(default_factory=lambda: Console(file=_STDOUT, soft_wrap=True, highlight=False))
    err: Console = field(default_factory=lambda: Console(file=_STDERR, soft_wrap=True, highlight=False))

    def emit(self, data: Any, human: Callable[[], None]) -> None:
        if self.json:
            _STDOUT.write(json.dumps(data, indent=2, default=str) + "\n")
            _STDOUT.flush()
        else:
            human()

    def note(self, text: str) -> None:
        if not self.json:
            self.err.print(text)


_EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (RequestValidationError, 2),
    (ConfigurationError, 2),
    (TaskFailedError, 3),
    (TaskCancelledError, 3),
    (WaitTimeoutError, 4),
)


def _hint(error: SeedreamError, posting: bool) -> str:
    task_id = getattr(error, "task_id", None)
    if posting and isinstance(task_id, str) and not isinstance(error, (TaskFailedError, TaskCancelledError)):
        return f" (task {task_id} exists and may be charged: `seedream wait {task_id}` or `seedream resume`)"
    request = getattr(error, "request", None)
    if isinstance(request, httpx.Request) and request.method != "POST":  # a read (the balance, a poll) creates nothing
        return ""
    if posting and (
        isinstance(error, (ServerError, UnexpectedResponseError))
        or (isinstance(error, APIConnectionError) and error.request_sent)
    ):
        return " (the task may still have been created and charged; see `seedream ledger list`)"
    return ""


# Request fields as the command line spells them (the library's errors name JSON fields).
_FLAGS = {
    "prompt": "PROMPT",
    "n": "-n",
    "size": "--size",
    "quality": "--quality",
    "image_urls": "--image-url",
    "callback_url": "--callback-url",
    "model_params.output_format": "--output-format",
    "model_params.tools": "--web-search",
    "timeout": "--timeout",
    "max_credits": "--max-credits",
    "page": "--page",
    "page_size": "--page-size",
    "status": "--status",
    "type": "--type",
    "model": "--model",
}


def _in_cli_words(error: SeedreamError) -> str:
    """The error's message, with library wording (field names, advice) replaced by the command line's."""
    message = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, RequestValidationError):
        name, bracket, rest = error.field.partition("[")
        flag = _FLAGS.get(name)
        if flag is not None and message.startswith(f"{error.field}:"):
            which = f" #{int(rest.rstrip(']')) + 1}" if bracket and rest.rstrip("]").isdigit() else ""
            return f"{flag}{which}:{message[len(error.field) + 1 :]}"
    if isinstance(error, WaitTimeoutError):
        return (
            f"task {error.task_id} still {error.last_status or 'unknown'} when the wait timed out; it goes on: "
            f"`seedream wait {error.task_id}` or `seedream resume` later"
        )
    return message


@contextmanager
def _reported(output: _Output, *, posting: bool = False) -> Iterator[None]:
    """Turn a SeedreamError into one line and an exit code; nothing else is caught."""
    try:
        yield
    except SeedreamError as error:
        code = next((c for cls, c in _EXIT_CODES if isinstance(error, cls)), 1)
        message = _in_cli_words(error)
        if output.json:
            detail: dict[str, Any] = {"type": type(error).__name__, "message": message}
            for name in ("task_id", "code", "status", "field", "rule", "retryable", "last_status"):
                value = getattr(error, name, None)
                if value is not None:
                    detail[name] = value
            if getattr(error, "drift", ()):  # WaitTimeoutError: drift seen in the answers about the task
                detail["drift"] = list(error.drift)  # type: ignore[attr-defined]
            _STDOUT.write(json.dumps({"error": detail}) + "\n")
            _STDOUT.flush()
        output.err.print(f"error: {message}{_hint(error, posting)}", markup=False)
        raise typer.Exit(code) from None


_LOG_HANDLER = "seedream-cli"


def _logging(verbose: bool) -> None:
    if not verbose:
        return
    logger = logging.getLogger("seedream")
    for old in [h for h in logger.handlers if h.get_name() == _LOG_HANDLER]:
        logger.removeHandler(old)  # a second run in one process (tests) writes to the current stderr
    handler = logging.StreamHandler(_STDERR)
    handler.addFilter(RedactingFilter())  # records of any logger that reach this handler, not only ours
    handler.set_name(_LOG_HANDLER)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def _client(base_url: str | None, ledger: Path | str | None, **kwargs: Any) -> Seedream:
    if not os.environ.get(API_KEY_ENV):
        # The library would say "pass api_key=..."; the command has no key flag (it would land in shell history).
        raise ConfigurationError(f"no API key: set {API_KEY_ENV} (export {API_KEY_ENV}=sk-...)")
    return Seedream(base_url=base_url, ledger=ledger, **kwargs)


# -- progress ------------------------------------------------------------------------------------------------------


class _Bars:
    """Rich progress bars for a wait (task progress 0..100) and a download (bytes per image)."""

    def __init__(self, output: _Output) -> None:
        self.enabled = not output.json
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=output.err,
            disable=not self.enabled,
        )
        self.bytes = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=output.err,
            disable=not self.enabled,
        )
        self._wait: TaskID | None = None
        self._images: dict[int, TaskID] = {}

    @contextmanager
    def waiting(self, task_id: str) -> Iterator[Callable[[TaskDetailResponse], None]]:
        with self.progress:
            bar = self.progress.add_task(f"task {task_id}", total=100, detail="submitted")

            def update(task: TaskDetailResponse) -> None:
                progress = task.progress if isinstance(task.progress, int) else 0
                self.progress.update(bar, completed=progress, detail=f"{task.status} {progress}%")

            yield update

    @contextmanager
    def downloading(self) -> Iterator[Callable[[DownloadProgress], None]]:
        with self.bytes:

            def update(event: DownloadProgress) -> None:
                bar = self._images.get(event.index)
                if bar is None:
                    description = f"image {event.index + 1}/{event.count}"
                    bar = self.bytes.add_task(description, total=event.total)
                    self._images[event.index] = bar
                self.bytes.update(bar, completed=event.received, total=event.total)

            yield update


# -- printing ------------------------------------------------------------------------------------------------------


def _task_dict(task: TaskDetailResponse | ImageGenerationResponse) -> dict[str, Any]:
    return task.to_dict()


def _print_files(output: _Output, files: Sequence[SavedFile]) -> None:
    for saved in files:
        size = f"{saved.width}x{saved.height}" if saved.width and saved.height else "size unknown"
        output.out.print(f"{saved.path}  {size}  sha256 {saved.sha256[:16]}", markup=False)


def _print_task(output: _Output, task: TaskDetailResponse) -> None:
    status = str(task.status)
    progress = task.progress if isinstance(task.progress, int) else "?"
    line = f"{task.id}  {status}  {progress}%"
    if not isinstance(task.error, Unset):
        line += f"  {task.error.code}: {task.error.message}"
    if isinstance(task.results, list):
        line += f"  {len(task.results)} result(s)"
    output.out.print(line, markup=False)


# -- the generate flow (also the demo's) ---------------------------------------------------------------------------


def _run_generate(
    client: Seedream,
    output: _Output,
    *,
    prompt: str,
    params: dict[str, Any],
    out: Path,
    wait: bool,
    timeout: float,
) -> list[SavedFile]:
    response = client.submit(prompt, directory=out, **params)
    task_id = str(response.id)
    info = response.task_info
    estimate = None if isinstance(info, Unset) else info.estimated_time
    shown = f" (estimated {estimate} s)" if isinstance(estimate, int) else ""
    output.note(f"submitted task {task_id}{shown}")
    if not wait:
        output.emit(
            {"task": _task_dict(response), "files": []},
            lambda: output.out.print(
                f"{task_id}  submitted; later: seedream wait {task_id} && seedream download {task_id} "
                f"--out {out}  (or seedream resume)",
                markup=False,
            ),
        )
        return []
    bars = _Bars(output)
    with bars.waiting(task_id) as on_progress:
        task = client.wait(response, timeout=timeout, on_progress=on_progress)
    with bars.downloading() as on_download:
        files = client.download(task, out, on_progress=on_download)
    output.emit({"task": _task_dict(task), "files": [f.to_dict() for f in files]}, lambda: _print_files(output, files))
    return files


def _generation_params(
    n: int | None,
    size: str | None,
    quality: str | None,
    image_url: list[str] | None,
    output_format: str | None,
    web_search: bool,
    callback_url: str | None = None,
) -> dict[str, Any]:
    if quality is not None and size is not None and parse_wxh(size) is not None:
        # The vendor page: quality "works with ratio format of size"; with WIDTHxHEIGHT it would be ignored.
        raise RequestValidationError(
            "quality",
            quality,
            f"works only with a ratio size (--size 16:9, 1:1, ...); --size {size} sets the pixels itself, "
            "so drop --quality or give a ratio",
        )
    return {
        "n": n,
        "size": size,
        "quality": quality,
        "image_urls": image_url or None,
        "output_format": output_format,
        "web_search": web_search,
        "callback_url": callback_url,
    }


# -- commands ------------------------------------------------------------------------------------------------------


@app.command()
def generate(
    prompt: Annotated[str, typer.Argument(help="What to draw (up to 2000 characters).")],
    size: Annotated[
        str | None, typer.Option(help="A ratio (1:1, 16:9, ...) or WIDTHxHEIGHT [default: 2048x2048]")
    ] = None,
    quality: Annotated[
        str | None, typer.Option(help="2K or 3K, with a ratio size only (refused with WIDTHxHEIGHT) [default: 2K]")
    ] = None,
    n: Annotated[int | None, typer.Option("-n", "--n", help="Images to generate, 1..15 (each is charged).")] = None,
    image_url: Annotated[
        list[str] | None, typer.Option("--image-url", help="Reference image URL (repeatable, up to 14).")
    ] = None,
    output_format: Annotated[str | None, typer.Option(help="png or jpeg.")] = None,
    web_search: Annotated[bool, typer.Option("--web-search", help="Let the model search the web.")] = False,
    callback_url: Annotated[
        str | None,
        typer.Option(
            "--callback-url",
            help="HTTPS URL the API POSTs the finished task to (at most 2048 characters; no internal hosts).",
        ),
    ] = None,
    out: OutDir = Path("."),
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for the images and download them.")] = True,
    timeout: Timeout = DEFAULT_WAIT_TIMEOUT_SECONDS,
    max_credits: MaxCredits = None,
    credits_per_image: CreditsPerImage = DEFAULT_CREDITS_PER_IMAGE,
    base_url: BaseUrl = None,
    ledger: LedgerPath = None,
    json_output: JsonFlag = False,
    verbose: Verbose = False,
) -> None:
    """Generate images: submit, wait with a progress bar, download into --out."""
    _logging(verbose)
    output = _Output(json_output)
    prices = Prices(per_image=credits_per_image, web_search=WEB_SEARCH_CREDITS)
    with _reported(output, posting=True), _client(base_url, ledger, prices=prices) as client:
        params = _generation_params(n, size, quality, image_url, output_format, web_search, callback_url)
        if max_credits is not None:
            output.note(f"{client.estimate(prompt, **params)}; cap {max_credits:g}")
            params["max_credits"] = max_credits
        _run_generate(client, output, prompt=prompt, params=params, out=out, wait=wait, timeout=timeout)


@app.command()
def status(
    task_id: Annotated[str, typer.Argument(metavar="ID", help="Task id (task-unified-...).")],
    base_url: BaseUrl = None,
    ledger: LedgerPath = None,
    json_output: JsonFlag = False,
    verbose: Verbose = False,
) -> None:
    """Show a task's status once."""
    _logging(verbose)
    output = _Output(json_output)
    with _reported(output), _client(base_url, ledger) as client:
        task = client.get(task_id)
        output.emit(_task_dict(task), lambda: _print_task(output, task))


@app.command("wait")
def wait_command(
    task_id: Annotated[str, typer.Argument(metavar="ID", help="Task id (task-unified-...).")],
    timeout: Timeout = DEFAULT_WAIT_TIMEOUT_SECONDS,
    base_url: BaseUrl = None,
    ledger: LedgerPath = None,
    json_output: JsonFlag = False,
    verbose: Verbose = False,
) -> None:
    """Wait for a task to end, with a progress bar."""
    _logging(verbose)
    output = _Output(json_output)
    with _reported(output), _client(base_url, ledger) as client:
        with _Bars(output).waiting(task_id) as on_progress:
            task = client.wait(task_id, timeout=timeout, on_progress=on_progress)
        output.emit(_task_dict(task), lambda: _print_task(output, task))


@app.command()
def download(
    task_id: Annotated[str, typer.Argument(metavar="ID", help="Task id (task-unified-...).")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Directory [default: the one recorded, else .]", file_okay=False)
    ] = None,
    base_url: BaseUrl = None,
    ledger: LedgerPath = None,
    json_output: JsonFlag = False,
    verbose: Verbose = False,
) -> None:
    """Download a completed task's images (links live 24 hours)."""
    _logging(verbose)
    output = _Output(json_output)
    with _reported(output), _client(base_url, ledger) as client:
        entry = client.ledger.get(task_id)
        target = out or (Path(entry.directory) if entry is not None and entry.directory else Path("."))
        with _Bars(output).downloading() as on_download:
            files = client.download(task_id, target, on_progress=on_download)
        output.emit([f.to_dict() for f in files], lambda: _print_files(output, files))


@app.command()
def resume(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Directory for tasks that have none recorded.", file_okay=False),
    ] = None,
    timeout: Timeout = DEFAULT_WAIT_TIMEOUT_SECONDS,
    base_url: BaseUrl = None,
    ledger: LedgerPath = None,
    json_output: JsonFlag = False,
    verbose: Verbose = False,
) -> None:
    """Finish every ledger task (of this base URL) not yet downloaded whose links have not expired."""
    _logging(verbose)
    output = _Output(json_output)
    with _reported(output), _client(base_url, ledger) as client:
        output.note(f"ledger {client.ledger.path}")
        outcomes = client.resume(out, timeout=timeout)
        output.emit([o.to_dict() for o in outcomes], lambda: _print_outcomes(output, outcomes))
    if any(o.state in ("error", "timeout") for o in outcomes):
        raise typer.Exit(1)


def _print_outcomes(output: _Output, outcomes: Sequence[ResumeOutcome]) -> None:
    if not outcomes:
        output.out.print("nothing to resume")
    for outcome in outcomes:
        output.out.print(f"{outcome.task_id or '(no id)'}  {outcome.state}  {outcome.message}".rstrip(), markup=False)
        _print_files(output, outcome.files)
        for candidate in outcome.candidates:  # a hint for the dashboard, never merged into the row
            output.out.print(
                f"    could be {candidate.task_id}  {candidate.status or '?'}  created {_iso(candidate.created)}"
                + ("" if candidate.credits_used is None else f"  {candidate.credits_used:g} credits"),
                markup=False,
            )


# -- balance and the task list -------------------------------------------------------------------------------------


@app.command("credits")
def credits_command(
    base_url: BaseUrl = None,
    ledger: LedgerPath = None,
    json_output: JsonFlag = False,
    verbose: Verbose = False,
) -> None:
    """Show the balance (GET /v1/credits): the account's, this key's, and what a request can spend."""
    _logging(verbose)
    output = _Output(json_output)
    with _reported(output), _client(base_url, ledger) as client:  # the ledger only records drift, if any
        balance = client.credits()
        output.emit(balance.to_dict(), lambda: _print_balance(output, balance))


def _print_balance(output: _Output, balance: Balance) -> None:
    def shown(value: float | None) -> str:
        return "?" if value is None else f"{value:g}"

    limit = "no limit of its own" if balance.token_unlimited else f"{shown(balance.token_remaining)} left"
    output.out.print(f"available  {shown(balance.available)} credits", markup=False)
    output.out.print(f"account    {shown(balance.user_remaining)} left, {shown(balance.user_used)} used", markup=False)
    output.out.print(f"this key   {limit}, {shown(balance.token_used)} used", markup=False)


@app.command("tasks")
def tasks_command(
    page: Annotated[int, typer.Option(help="Page number, from 1.")] = 1,
    page_size: Annotated[int, typer.Option(help="Tasks per page, 1..100.")] = 20,
    status: Annotated[
        str | None, typer.Option(help="Only tasks in this status (pending, processing, completed, failed, cancelled).")
    ] = None,
    type_: Annotated[str | None, typer.Option("--type", help="Only tasks of this type (image, video, ...).")] = None,
    model: Annotated[str | None, typer.Option(help="Only tasks of this model.")] = None,
    base_url: BaseUrl = None,
    ledger: LedgerPath = None,
    json_output: JsonFlag = False,
    verbose: Verbose = False,
) -> None:
    """List this account's tasks, newest first (GET /v1/tasks; summaries: `seedream status ID` for one)."""
    _logging(verbose)
    output = _Output(json_output)
    with _reported(output), _client(base_url, ledger) as client:
        listed = client.list_tasks(page=page, page_size=page_size, status=status, type_=type_, model=model)
        output.emit(listed.to_dict(), lambda: _print_task_list(output, listed))


def _print_task_list(output: _Output, listed: TaskListResponse) -> None:
    from ._candidates import created_unix

    def cell(value: object) -> str:
        return "" if value is None or isinstance(value, Unset) else str(value)

    rows = []
    for item in listed.data:
        created = created_unix(item.created_at)
        flags = "results" if item.has_results is True else ("error" if item.has_error is True else "")
        used = item.credits_used
        rows.append(
            (
                cell(item.id),
                cell(item.status),
                cell(item.model),
                "" if created is None else _iso(created),
                "" if isinstance(used, Unset) else f"{used:g}",
                flags,
            )
        )
    header = ("task", "status", "model", "created", "credits", "")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:  # aligned lines, never cut: the ids are what the other commands take
        output.out.print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), markup=False)
    total = cell(listed.total) or "?"
    output.out.print(f"page {cell(listed.page) or '?'} ({len(listed.data)} shown of {total})", markup=False)


@ledger_app.command("list")
def ledger_list(
    limit: Annotated[int, typer.Option(min=1, help="Newest N rows.")] = 20,
    ledger: LedgerPath = None,
    json_output: JsonFlag = False,
) -> None:
    """List the tasks in the ledger, newest first."""
    output = _Output(json_output)
    with _reported(output), Ledger(ledger) as opened:
        entries = opened.entries(limit=limit)
        output.emit([e.to_dict() for e in entries], lambda: _print_entries(output, opened.path, entries))


def _print_entries(output: _Output, path: str, entries: Sequence[LedgerEntry]) -> None:
    table = Table(title=f"ledger {path}", title_justify="left")
    # Task ids are what the other commands take: never cut; the prompt gives way instead.
    id_width = max((len(entry.task_id or "(no id)") for entry in entries), default=4)
    table.add_column("task", no_wrap=True, min_width=id_width)
    for column in ("state", "submitted", "n", "files"):
        table.add_column(column, no_wrap=True)
    table.add_column("prompt", no_wrap=True, overflow="ellipsis")
    import time

    for entry in entries:
        table.add_row(
            entry.task_id or "(no id)",
            entry.state,
            time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.intent_at)),
            str(entry.params.get("n", 1)),
            str(len(entry.files)),
            str(entry.params.get("prompt", ""))[:40],
        )
    output.out.print(table)


@idempotency_app.command("probe")
def idempotency_probe(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Spend the image without asking.")] = False,
    base_url: BaseUrl = None,
    ledger: LedgerPath = None,
    json_output: JsonFlag = False,
    verbose: Verbose = False,
) -> None:
    """Establish whether the base URL honours Idempotency-Key: one one-image body sent twice under one key.

    Costs one image (two where keys are ignored). The verdict is kept in the ledger for this base URL; only
    `supported` lets lost POSTs (and `seedream resume` for unconfirmed rows) be replayed with their own key.
    """
    _logging(verbose)
    output = _Output(json_output)
    if not yes and not typer.confirm(
        "The probe creates one paid image (two if the gateway ignores keys). Go on?", err=True, default=False
    ):
        output.note("nothing sent")
        raise typer.Exit(1)
    with _reported(output, posting=True), _client(base_url, ledger) as client:
        output.note(f"ledger {client.ledger.path}")
        support = client.probe_idempotency()
        output.emit(support.to_dict(), lambda: _print_support(output, [support]))


@idempotency_app.command("status")
def idempotency_status(
    base_url: Annotated[
        str | None, typer.Option("--base-url", envvar=BASE_URL_ENV, help="Only this base URL [default: all]")
    ] = None,
    ledger: LedgerPath = None,
    json_output: JsonFlag = False,
) -> None:
    """What the ledger knows about each base URL's Idempotency-Key support (sends nothing)."""
    output = _Output(json_output)
    with _reported(output), Ledger(ledger) as opened:
        known = opened.idempotency_support(base_url)
        if base_url is not None and not known:
            known = [IdempotencySupport(base_url)]
        output.emit([k.to_dict() for k in known], lambda: _print_support(output, known))


def _print_support(output: _Output, known: Sequence[IdempotencySupport]) -> None:
    if not known:
        output.out.print("no base URL probed yet: every lost POST stays unconfirmed (never replayed)", markup=False)
    import time

    for item in known:
        when = "" if item.checked_at is None else time.strftime(" (%Y-%m-%d %H:%M)", time.localtime(item.checked_at))
        output.out.print(f"{item.base_url}  {item.state}{when}  {item.evidence}", markup=False)


@app.command()
def drift(
    ledger: LedgerPath = None,
    json_output: JsonFlag = False,
    clear: Annotated[bool, typer.Option("--clear", help="Forget the drift recorded (after printing it).")] = False,
) -> None:
    """List how the API's answers departed from its spec, as the client recorded it (most recent first)."""
    output = _Output(json_output)
    with _reported(output), Ledger(ledger) as opened:
        records = opened.drift()
        output.emit([r.to_dict() for r in records], lambda: _print_drift(output, opened.path, records))
        if clear:
            output.note(f"forgot {opened.clear_drift()} drift record(s)")


def _print_drift(output: _Output, path: str, records: Sequence[DriftRecord]) -> None:
    if not records:
        output.out.print(f"no drift recorded in {path}", markup=False)
        return
    # Aligned lines rather than a rich Table: a pointer, an example or a rule must never be folded or cut.
    rows = [(f"{r.operation} {r.status}", r.pointer or "(answer)", r.kind, f"x{r.count}") for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    output.out.print(f"drift seen in the API's answers (ledger {path}), most recent first:", markup=False)
    for r, row in zip(records, rows, strict=True):
        output.out.print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)), markup=False)
        task = f"; last task {r.task_id}" if r.task_id else ""
        output.out.print(
            f"    got {r.example}; expected {r.rule}; first {_iso(r.first_seen)}, last {_iso(r.last_seen)}{task}",
            markup=False,
        )


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def simulator(ctx: typer.Context) -> None:
    """Run the EvoLink simulator on loopback (`seedream simulator --help` lists its options)."""
    # Imported only when used: the rest of the CLI does not pay for starlette and uvicorn.
    from .simulator._cli import simulator_command

    sub = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    sub.command(cls=_Command)(simulator_command)
    sub(args=list(ctx.args), prog_name="seedream simulator")


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def conformance(ctx: typer.Context) -> None:
    """Run the conformance suite, offline or against --base-url (`seedream conformance --help` lists its options)."""
    # Imported only when used: pytest, hypothesis and schemathesis come with the `conformance` extra.
    from .conformance._cli import main as conformance_main

    conformance_main(list(ctx.args), prog_name="seedream conformance")


@app.command()
def demo(
    out: OutDir = Path("seedream-demo"),
    prompt: Annotated[str, typer.Option(help="The prompt.")] = DEMO_PROMPT,
    json_output: JsonFlag = False,
    verbose: Verbose = False,
) -> None:
    """Generate 2 images end to end against the embedded simulator on 127.0.0.1 (no account needed)."""
    _logging(verbose)
    output = _Output(json_output)
    from .simulator import SimulatorConfig, run_simulator

    key = f"sk-demo-{secrets.token_hex(12)}"  # throwaway: only this simulator knows it
    config = SimulatorConfig(api_keys=(key,), time_scale=DEMO_TIME_SCALE, outbound="none")
    with _reported(output, posting=True), run_simulator(config) as server:
        output.note(f"simulator running at {server.base_url} (time x{1 / DEMO_TIME_SCALE:g}, throwaway key)")
        # The same path as `seedream generate`; an in-memory ledger, as the tasks die with the simulator.
        # The embedded simulator serves its results on 127.0.0.1: lift the internal-host policy for it alone.
        with Seedream(
            key, base_url=server.base_url, ledger=":memory:", polling=PollPolicy(), allow_internal_result_hosts=True
        ) as client:
            files = _run_generate(
                client,
                output,
                prompt=prompt,
                params={"n": 2},
                out=out,
                wait=True,
                timeout=DEFAULT_WAIT_TIMEOUT_SECONDS,
            )
            _write_sheet(output, files, prompt)
    output.note("simulator stopped")


# -- batch and contact sheets --------------------------------------------------------------------------------------


def _write_sheet(output: _Output, files: Sequence[SavedFile], prompt: str) -> None:
    """The demo's contact sheet, next to its images."""
    if not files:
        return
    from ._sheet import SheetItem, write_contact_sheet

    items = [SheetItem(f.path, prompt, f.task_id, f.width, f.height) for f in files]
    sheet = write_contact_sheet(items, files[0].path.parent, title="seedream demo")
    output.note(f"contact sheet {sheet.png}  gallery {sheet.html}")


@app.command("batch")
def batch_command(
    file: Annotated[Path, typer.Argument(help="JSONL (one object per line), or CSV with a prompt column.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Directory for the images (default: FILE's name + -images).")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Most lines in flight (AIMD ceiling).")] = 8,
    max_credits: Annotated[
        float | None,
        typer.Option(min=0, help="Refuse to start if the lines to send are estimated above this or the balance."),
    ] = None,
    credits_per_image: CreditsPerImage = DEFAULT_CREDITS_PER_IMAGE,
    strict: Annotated[bool, typer.Option("--strict", help="Send nothing if any line is invalid.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and estimate only; send nothing.")] = False,
    batch_id: Annotated[
        str | None, typer.Option(help="Resume key (default: from the file's path and the base URL).")
    ] = None,
    sheet: Annotated[bool, typer.Option("--sheet/--no-sheet", help="Write a contact sheet at the end.")] = True,
    poll_scale: Annotated[
        float, typer.Option(min=0.0001, help="Scale the poll schedule (a simulator at --time-scale 0.01: 0.01).")
    ] = 1.0,
    timeout: Timeout = DEFAULT_WAIT_TIMEOUT_SECONDS,
    base_url: BaseUrl = None,
    ledger: LedgerPath = None,
    json_output: JsonFlag = False,
    verbose: Verbose = False,
) -> None:
    """Run every line of a prompt file: validated first, one budget, one progress bar, resumable (rerun it)."""
    import asyncio
    import os

    from ._batch import run_batch

    _logging(verbose)
    output = _Output(json_output)
    target = out or file.with_name(file.stem + "-images")
    with _reported(output, posting=True):
        # A dry run sends nothing, so it needs no key; the placeholder never leaves the process.
        key = None if os.environ.get(API_KEY_ENV) or not dry_run else "dry-run-sends-nothing"
        polling = PollPolicy().scaled(poll_scale) if poll_scale != 1.0 else None
        client = AsyncSeedream(key, base_url=base_url, ledger=ledger, polling=polling)

        async def go() -> BatchReport:
            async with client:
                with _BatchBar(output) as bar:
                    return await run_batch(
                        client,
                        file,
                        directory=target,
                        batch_id=batch_id,
                        concurrency=concurrency,
                        timeout=timeout,
                        max_credits=max_credits,
                        credits_per_image=credits_per_image,
                        # The balance is read (GET /v1/credits, free) only when a cap was asked for.
                        balance=client.available_credits if max_credits is not None and not dry_run else None,
                        strict=strict,
                        dry_run=dry_run,
                        on_progress=bar.update,
                        on_plan=lambda estimate: _print_plan(output, estimate, dry_run),
                    )

        report = asyncio.run(go())
        data = report.to_dict()
        if sheet and not dry_run:
            data["sheet"] = _batch_sheet(output, report)
        output.emit(data, lambda: _print_report(output, report))
    if dry_run:
        if report.problems:
            raise typer.Exit(2)
    elif not report.complete:
        raise typer.Exit(3 if any(r.state in ("failed", "cancelled", "expired") for r in report.lines) else 1)


class _BatchBar:
    """One rich progress bar for a whole batch."""

    def __init__(self, output: _Output) -> None:
        self.progress = Progress(
            TextColumn("batch"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} lines"),
            TextColumn("{task.fields[detail]}"),
            TimeRemainingColumn(),
            console=output.err,
            disable=output.json,
        )
        self.bar: TaskID | None = None

    def __enter__(self) -> _BatchBar:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.progress.__exit__(*exc_info)

    def update(self, state: BatchProgress) -> None:
        detail = (
            f"done {state.done - state.failed}  failed {state.failed}  in flight {state.in_flight}/{state.window}"
            f"  images {state.images}  credits ≈{state.credits:g}"
        )
        if self.bar is None:
            self.bar = self.progress.add_task("batch", total=state.total, detail=detail)
        self.progress.update(self.bar, completed=state.done, total=state.total, detail=detail)


def _print_plan(output: _Output, estimate: BatchEstimate, dry_run: bool) -> None:
    verb = "would send" if dry_run else "sending"
    output.note(
        f"{verb} {estimate.lines} line(s), {estimate.images} image(s): estimated {estimate.credits:g} credits at "
        f"{estimate.credits_per_image:g} per image (an estimate, not the vendor's bill); {estimate.balance_note}"
    )


def _batch_sheet(output: _Output, report: BatchReport) -> dict[str, Any] | None:
    from ._sheet import SheetItem, write_contact_sheet

    items = [
        SheetItem(f.path, result.prompt, f.task_id, f.width, f.height) for result in report.lines for f in result.files
    ]
    if not items:
        return None
    sheet = write_contact_sheet(items, report.directory, title=f"seedream batch {Path(report.path).name}")
    output.note(f"contact sheet {sheet.png}  gallery {sheet.html}")
    return sheet.to_dict()


def _print_report(output: _Output, report: BatchReport) -> None:
    for problem in report.problems:
        output.out.print(f"invalid  {problem}", markup=False)
    for result in report.lines:
        if result.state == "invalid":
            continue
        detail = f"{len(result.files)} image(s)" if result.state == "done" else (result.code or "")
        line = f"line {result.line:>4}  {result.state:<11} {result.task_id or '-':<40} {detail}  {result.message}"
        output.out.print(line.rstrip(), markup=False)
    counts = ", ".join(f"{n} {state}" for state, n in report.counts().items()) or "no lines"
    output.out.print(f"batch {report.batch_id}: {counts}; {sum(len(r.files) for r in report.lines)} image(s) in "
                     f"{report.directory}; ≈{report.credits_spent:g} credits; {report.throttles} slow-down(s)",
                     markup=False)  # fmt: skip
    failures = report.failures_by_code()
    if failures:
        output.out.print("failures by code: " + ", ".join(f"{code} {n}" for code, n in failures.items()), markup=False)


@app.command("sheet")
def sheet_command(
    directory: Annotated[Path, typer.Argument(help="A directory of downloaded images.", file_okay=False)],
    ledger: LedgerPath = None,
    json_output: JsonFlag = False,
) -> None:
    """Write contact-sheet.png and contact-sheet.html (captions from the ledger) into DIR."""
    from ._sheet import collect_images, write_contact_sheet

    output = _Output(json_output)
    with _reported(output):
        opened = Ledger(ledger) if ledger is not None or _default_ledger_exists() else None
        try:
            try:
                items = collect_images(directory, opened)
            except FileNotFoundError as exc:
                raise RequestValidationError("DIR", str(directory), f"must be a directory ({exc})") from None
        finally:
            if opened is not None:
                opened.close()
        if not items:
            raise RequestValidationError("DIR", str(directory), "must hold at least one .png/.jpeg/.jpg/.webp image")
        result = write_contact_sheet(items, directory, title=f"seedream {directory.name}")
        output.emit(result.to_dict(), lambda: output.out.print(f"{result.png}\n{result.html}", markup=False))


def _default_ledger_exists() -> bool:
    from ._ledger import default_ledger_path

    return default_ledger_path().exists()


def _print_version(value: bool) -> None:
    if value:
        print(f"seedream {_installed_version('seedream')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    # The group's own options; the commands are below.
    pass


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    app(args=list(argv) if argv is not None else None, prog_name="seedream")
