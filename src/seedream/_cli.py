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

import json
import logging
import secrets
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from seedream_client.models import ImageGenerationResponse, TaskDetailResponse
from seedream_client.types import Unset

from ._download import DownloadProgress, SavedFile
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
from ._ledger import Ledger, LedgerEntry
from ._polling import PollPolicy
from ._workflow import DEFAULT_WAIT_TIMEOUT_SECONDS, ResumeOutcome, Seedream

__all__ = ["DEMO_TIME_SCALE", "app", "main"]

#: The demo's simulator runs ten times faster than real time: a two-image task takes about two seconds.
DEMO_TIME_SCALE = 0.1
DEMO_PROMPT = "A lighthouse on a cliff at dusk, generate 2 different views"

app = typer.Typer(
    name="seedream",
    help="Seedream 5.0 Lite (EvoLink) from the command line. The key comes from EVOLINK_API_KEY.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # rich tracebacks can show local variables, the key among them
)
ledger_app = typer.Typer(help="The local task ledger.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")

BaseUrl = Annotated[
    str | None,
    typer.Option("--base-url", envvar="SEEDREAM_BASE_URL", help="API base URL [default: https://api.evolink.ai]"),
]
LedgerPath = Annotated[
    Path | None,
    typer.Option("--ledger", envvar="SEEDREAM_LEDGER", help="Ledger file [default: in the user data directory]"),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log every request decision to stderr (DEBUG).")]
Timeout = Annotated[
    float, typer.Option("--timeout", min=0.001, help="Seconds to wait for the task before giving up on waiting.")
]
OutDir = Annotated[Path, typer.Option("--out", "-o", help="Directory for the images.", file_okay=False)]


@dataclass
class _Output:
    """Where things are printed: results on stdout, progress and errors on stderr."""

    json: bool
    out: Console = field(default_factory=lambda: Console(soft_wrap=True, highlight=False))
    err: Console = field(default_factory=lambda: Console(stderr=True, soft_wrap=True, highlight=False))

    def emit(self, data: Any, human: Callable[[], None]) -> None:
        if self.json:
            print(json.dumps(data, indent=2, default=str), flush=True)
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
    if posting and (
        isinstance(error, (ServerError, UnexpectedResponseError))
        or (isinstance(error, APIConnectionError) and error.request_sent)
    ):
        return " (the task may still have been created and charged; see `seedream ledger list`)"
    if isinstance(error, WaitTimeoutError):
        return f" (check later: `seedream wait {error.task_id}` or `seedream resume`)"
    return ""


@contextmanager
def _reported(output: _Output, *, posting: bool = False) -> Iterator[None]:
    """Turn a SeedreamError into one line and an exit code; nothing else is caught."""
    try:
        yield
    except SeedreamError as error:
        code = next((c for cls, c in _EXIT_CODES if isinstance(error, cls)), 1)
        message = " ".join(str(error).split()) or type(error).__name__
        if output.json:
            detail: dict[str, Any] = {"type": type(error).__name__, "message": message}
            for name in ("task_id", "code", "status", "field", "rule", "retryable", "last_status"):
                value = getattr(error, name, None)
                if value is not None:
                    detail[name] = value
            print(json.dumps({"error": detail}), flush=True)
        output.err.print(f"error: {message}{_hint(error, posting)}", markup=False)
        raise typer.Exit(code) from None


_LOG_HANDLER = "seedream-cli"


def _logging(verbose: bool) -> None:
    if not verbose:
        return
    logger = logging.getLogger("seedream")
    for old in [h for h in logger.handlers if h.get_name() == _LOG_HANDLER]:
        logger.removeHandler(old)  # a second run in one process (tests) writes to the current stderr
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_LOG_HANDLER)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def _client(base_url: str | None, ledger: Path | str | None, **kwargs: Any) -> Seedream:
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
) -> dict[str, Any]:
    return {
        "n": n,
        "size": size,
        "quality": quality,
        "image_urls": image_url or None,
        "output_format": output_format,
        "web_search": web_search,
    }


# -- commands ------------------------------------------------------------------------------------------------------


@app.command()
def generate(
    prompt: Annotated[str, typer.Argument(help="What to draw (up to 2000 characters).")],
    size: Annotated[
        str | None, typer.Option(help="A ratio (1:1, 16:9, ...) or WIDTHxHEIGHT [default: 2048x2048]")
    ] = None,
    quality: Annotated[str | None, typer.Option(help="2K or 3K, with a ratio size.")] = None,
    n: Annotated[int | None, typer.Option("-n", "--n", help="Images to generate, 1..15 (each is charged).")] = None,
    image_url: Annotated[
        list[str] | None, typer.Option("--image-url", help="Reference image URL (repeatable, up to 14).")
    ] = None,
    output_format: Annotated[str | None, typer.Option(help="png or jpeg.")] = None,
    web_search: Annotated[bool, typer.Option("--web-search", help="Let the model search the web.")] = False,
    out: OutDir = Path("."),
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for the images and download them.")] = True,
    timeout: Timeout = DEFAULT_WAIT_TIMEOUT_SECONDS,
    base_url: BaseUrl = None,
    ledger: LedgerPath = None,
    json_output: JsonFlag = False,
    verbose: Verbose = False,
) -> None:
    """Generate images: submit, wait with a progress bar, download into --out."""
    _logging(verbose)
    output = _Output(json_output)
    with _reported(output, posting=True), _client(base_url, ledger) as client:
        params = _generation_params(n, size, quality, image_url, output_format, web_search)
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
    for column in ("task", "state", "submitted", "n", "files", "prompt"):
        table.add_column(column)
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


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def simulator(ctx: typer.Context) -> None:
    """Run the EvoLink simulator on loopback (`seedream simulator --help` lists its options)."""
    # Imported only when used: the rest of the CLI does not pay for starlette and uvicorn.
    from .simulator._cli import simulator_command

    sub = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    sub.command()(simulator_command)
    sub(args=list(ctx.args), prog_name="seedream simulator")


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
            _run_generate(
                client,
                output,
                prompt=prompt,
                params={"n": 2},
                out=out,
                wait=True,
                timeout=DEFAULT_WAIT_TIMEOUT_SECONDS,
            )
    output.note("simulator stopped")


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    app(args=list(argv) if argv is not None else None, prog_name="seedream")
