"""The conformance suite: spec, client and any server proven against the one bundled spec.

Options (``seedream conformance <options>``, ``nox -s conformance -- <options>``, or pytest on this folder):

``--base-url URL``      run the server layer against a live server (key from ``EVOLINK_API_KEY``)
                        instead of the embedded simulator. Zero-spend unless ``--allow-spend``.
``--allow-spend N``     live mode: at most N generation requests that the server could bill
                        (each asks for one image). Default 0.
``--server-examples N`` hypothesis examples per server check (default: 25 offline, 10 live).
``--task-id ID``        live mode: also read this task (repeatable; reading is free) and judge its answers.
``--ledger PATH``       live mode: read the newest tasks of this ledger made against ``--base-url``
                        (default: the user's ledger) and judge them and the ledger's own record.
``--summary-md PATH``   write the operation x check table, the spend guard line and each failure as Markdown.
``--conformance-json PATH``  the same as JSON, with the verdict and exit code (``seedream.conformance._reports``).

At the end of a run that included conformance tests, a table lists
operation x check with passed/failed counts and the cases each ran.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from seedream._settings import API_KEY_ENV
from seedream.conformance import _reports


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("seedream-conformance", "seedream conformance suite")
    group.addoption(
        "--base-url",
        default=None,
        metavar="URL",
        help="server layer: test this live server (key from EVOLINK_API_KEY) instead of the embedded simulator",
    )
    group.addoption(
        "--allow-spend",
        type=int,
        default=0,
        metavar="N",
        help="live mode: allow at most N generation requests that could be billed (default 0: zero-spend)",
    )
    group.addoption(
        "--server-examples",
        type=int,
        default=None,
        metavar="N",
        help="server layer: hypothesis examples per operation and mode (default 25 offline, 10 live)",
    )
    group.addoption(
        "--task-id",
        action="append",
        default=[],
        metavar="ID",
        help="owned tasks: also read this task and judge its answers strictly (repeatable; free)",
    )
    group.addoption(
        "--ledger",
        default=None,
        metavar="PATH",
        help="owned tasks: read the newest rows of this ledger made against --base-url (default: the user's)",
    )
    group.addoption("--summary-md", default=None, metavar="PATH", help="write a Markdown summary for CI job pages")
    group.addoption("--conformance-json", default=None, metavar="PATH", help="write the results and verdict as JSON")


def pytest_configure(config: pytest.Config) -> None:
    # Fail at start-up, before any request, when live mode cannot run as asked.
    problem = None
    if config.getoption("--base-url", default=None) and not os.environ.get(API_KEY_ENV):
        problem = f"--base-url (live mode) needs the API key in {API_KEY_ENV}"
    elif (config.getoption("--allow-spend", default=0) or 0) < 0:
        problem = "--allow-spend must be 0 or more"
    elif (ledger := config.getoption("--ledger", default=None)) is not None and not os.path.isfile(ledger):
        problem = f"--ledger {ledger}: no such file"
    if problem:
        _write_reports(config, pytest.ExitCode.USAGE_ERROR, problem)
        raise pytest.UsageError(problem)


# --- results: operation x check ---------------------------------------------------------------------


@dataclass
class Tally:
    passed: int = 0
    failed: int = 0
    cases: int = 0


@dataclass
class Results:
    """What each check saw, by (layer, operation, check). Thread-safe: servers answer from threads."""

    rows: dict[tuple[str, str, str], Tally] = field(default_factory=lambda: defaultdict(Tally))
    notes: list[str] = field(default_factory=list)
    failures: list[_reports.Failure] = field(default_factory=list)
    deviations: list[dict[str, Any]] = field(default_factory=list)  # each answer's deviation, with its source
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_deviation(self, source: str, deviation: Any, **seen: Any) -> None:
        """One deviation found by ``seedream._expectations`` (or the ledger's record), for the reports.

        ``seen``: for drift the client's monitor recorded, its ``first_seen``, ``last_seen`` and ``count``.
        """
        row: dict[str, Any] = {"source": source, "operation": deviation.operation, "pointer": deviation.pointer}
        row |= {"kind": deviation.kind, "example": deviation.example, "rule": deviation.rule, **seen}
        with self.lock:
            if row not in self.deviations:  # the same finding on many generated cases is one row
                self.deviations.append(row)

    def record(self, layer: str, operation: str, check: str, ok: bool, cases: int = 1) -> None:
        with self.lock:
            tally = self.rows[(layer, operation, check)]
            tally.cases += cases
            if ok:
                tally.passed += 1
            else:
                tally.failed += 1


_RESULTS_KEY = pytest.StashKey[Results]()
_LAYER_FILES = {
    "test_spec_layer.py": "1 spec",
    "test_client_layer_generated.py": "2 client (generated)",
    "test_client_layer_api.py": "2 client (SeedreamAPI)",
    "test_server_layer.py": "3 server",
    "test_owned_tasks.py": "3 owned tasks",
    "test_stateful_layer.py": "3 stateful",
    "test_live_mode.py": "3 live mode",
}
# Tests that record their own per-check rows (each hypothesis case, each check).
_SELF_REPORTING = {"test_server_layer.py", "test_owned_tasks.py", "test_stateful_layer.py"}


def _results(config: pytest.Config) -> Results:
    # One table per pytest session (pytester runs nested sessions in this process).
    return config.stash.setdefault(_RESULTS_KEY, Results())


@pytest.fixture(scope="session")
def conformance_results(request: pytest.FixtureRequest) -> Results:
    return _results(request.config)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    _record_report(_results(item.config), report)
    if report.failed:
        _record_failure(_results(item.config), report, call.excinfo.value if call.excinfo else None)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report: pytest.CollectReport = yield
    if report.failed:
        message = _reports.one_line(str(report.longrepr))
        failure = _reports.Failure(report.nodeid, "collection", "(both)", "collect", message, False)
        _results(collector.config).failures.append(failure)
    return report


def _record_failure(results: Results, report: pytest.TestReport, exc: BaseException | None) -> None:
    filename = report.nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    function = report.nodeid.split("::", 1)[-1].split("[", 1)[0]
    check = function.removeprefix("test_") + ("" if report.when == "call" else f" ({report.when})")
    message = f"{type(exc).__name__}: {exc}" if exc is not None else str(report.longrepr)
    failure = _reports.Failure(
        nodeid=report.nodeid,
        layer=_LAYER_FILES.get(filename, filename),
        operation=_operation_of_id(report.nodeid, function),
        check=check,
        message=_reports.one_line(message),
        transport=exc is not None and _reports.is_transport_error(exc),
    )
    with results.lock:
        results.failures.append(failure)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _write_reports(session.config, int(exitstatus))


def _write_reports(config: pytest.Config, status: int, problem: str | None = None) -> None:
    results = _results(config)
    base_url = config.getoption("--base-url", default=None)
    info = _reports.RunInfo("live" if base_url else "offline", base_url, config.getoption("--allow-spend", default=0))
    _reports.write_reports(
        summary_md=config.getoption("--summary-md", default=None),
        json_path=config.getoption("--conformance-json", default=None),
        info=info,
        exit_code=_reports.verdict(status, results.failures),
        pytest_status=status,
        rows=results.rows,
        notes=results.notes,
        failures=results.failures,
        problem=problem,
        deviations=results.deviations,
    )


def _record_report(results: Results, report: pytest.TestReport) -> None:
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    filename = report.nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    if filename not in _LAYER_FILES or filename in _SELF_REPORTING:
        return
    if report.outcome == "skipped" and not hasattr(report, "wasxfail"):
        return
    function = report.nodeid.split("::", 1)[1].split("[", 1)[0]
    operation = _operation_of_id(report.nodeid, function)
    ok = report.outcome == "passed" or hasattr(report, "wasxfail")
    results.record(_LAYER_FILES[filename], operation, function.removeprefix("test_"), ok)


def _operation_of_id(nodeid: str, function: str) -> str:
    for name in ("createImageGeneration", "getTaskDetail", "batchQueryTasks", "listTasks", "getCredits"):
        if name in nodeid:
            return name
    for word, name in (("batch", "batchQueryTasks"), ("credits", "getCredits"), ("task_list", "listTasks")):
        if word in function:
            return name
    if "task" in function:
        return "getTaskDetail"
    if any(word in function for word in ("body", "create", "request", "constraint")):
        return "createImageGeneration"
    return "(both)"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    results = _results(config)
    if not results.rows:
        return
    rows = sorted(results.rows.items())
    header = ("layer", "operation", "check", "passed", "failed", "cases")
    table = [header] + [
        (layer, op, check, str(t.passed), str(t.failed), str(t.cases)) for (layer, op, check), t in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    write = terminalreporter.write_line
    terminalreporter.section("seedream conformance summary")
    for i, row in enumerate(table):
        cells = [cell.ljust(w) if j < 3 else cell.rjust(w) for j, (cell, w) in enumerate(zip(row, widths, strict=True))]
        write("  ".join(cells))
        if i == 0:
            write("  ".join("-" * w for w in widths))
    totals = Tally()
    for _, t in rows:
        totals.passed += t.passed
        totals.failed += t.failed
        totals.cases += t.cases
    write(f"total: {totals.passed} passed, {totals.failed} failed, {totals.cases} cases")
    for note in results.notes:
        write(note)


# --- the server under test --------------------------------------------------------------------------


@dataclass
class Target:
    """Where the server layer sends its requests: ``asgi`` (in-process), ``loopback`` or ``live``."""

    kind: str
    api_key: str
    base_url: str | None = None
    app: Any = None
    allow_spend: int = 0
    counters: Any = None  # callable returning the simulator's counters (offline only)
    cleanups: list[Any] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)  # clients and sessions kept for the session

    def close(self) -> None:
        while self.cleanups:
            self.cleanups.pop()()

    @property
    def live(self) -> bool:
        return self.kind == "live"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "server_target" in metafunc.fixturenames:
        kinds = ["live"] if metafunc.config.getoption("--base-url") else ["asgi", "loopback"]
        metafunc.parametrize("server_target", kinds, indirect=True, scope="session")


@pytest.fixture(scope="session")
def server_target(request: pytest.FixtureRequest) -> Iterator[Target]:
    kind: str = request.param
    allow_spend: int = request.config.getoption("--allow-spend")
    if kind == "live":
        base_url = str(request.config.getoption("--base-url")).rstrip("/")
        key = os.environ[API_KEY_ENV]  # checked in pytest_configure
        _probe(base_url, key)
        target = Target("live", api_key=key, base_url=base_url, allow_spend=allow_spend)
        try:
            yield target
        finally:
            target.close()
        return
    from seedream.simulator import SimulatorConfig, create_app, run_simulator

    config = SimulatorConfig.for_tests(api_keys=("sk-conformance",), time_scale=0.001)
    if kind == "asgi":
        app = create_app(config)
        target = Target("asgi", api_key="sk-conformance", app=app, allow_spend=-1, counters=app.counters)
        try:
            yield target
            _note_requests(request.config, target)
        finally:
            target.close()
            app.close()
        return
    with run_simulator(config) as server:
        target = Target("loopback", api_key="sk-conformance", base_url=server.base_url, allow_spend=-1)
        target.counters = server.counters
        try:
            yield target
            _note_requests(request.config, target)
        finally:
            target.close()


@pytest.fixture(scope="session")
def guard(server_target: Target, conformance_results: Results, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The one spend guard of a session: every file that may spend shares its cap."""
    from seedream.conformance.test_server_layer import SpendGuard

    spend_guard = SpendGuard(api_key=server_target.api_key, budget=server_target.allow_spend)
    stateful = any(item.nodeid.split("::", 1)[0].endswith("test_stateful_layer.py") for item in request.session.items)
    if server_target.live and stateful and spend_guard.budget >= 2:
        # The stateful phase runs last: one generation is kept for it (the followed task takes the first).
        spend_guard.held = 1
    yield spend_guard
    cap = "unlimited" if spend_guard.budget == -1 else spend_guard.budget
    conformance_results.notes.append(
        f"spend guard ({server_target.kind}): {spend_guard.billable_sent} billable requests sent (cap {cap}), "
        f"{spend_guard.refused} refused" + (f"; TRIPPED: {spend_guard.tripped}" if spend_guard.tripped else "")
    )


@pytest.fixture(scope="session")
def schema(server_target: Target) -> Any:
    """The bundled spec as schemathesis loads it, aimed at the server under test (shared by the files)."""
    from seedream.testing._schemathesis import load_schema

    if server_target.kind == "asgi":
        return load_schema(app=server_target.app, api_key=server_target.api_key)
    return load_schema(base_url=server_target.base_url, api_key=server_target.api_key)


def _probe(base_url: str, key: str) -> None:
    """One free request before the live run: an outage is reported as such (exit 3), a refused key as usage (2)."""
    import httpx

    url = f"{base_url}/v1/tasks/task-unified-0-conformance-probe"
    try:
        response = httpx.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    except httpx.TransportError as exc:
        raise _reports.ServerUnreachable(f"{base_url}: {type(exc).__name__}: {exc}") from exc
    if response.status_code in (502, 503, 504):
        raise _reports.ServerUnreachable(f"{base_url}: a task query got {response.status_code} (the service is down)")
    if response.status_code == 401:
        pytest.exit(f"the server refused the key in {API_KEY_ENV} (401)", returncode=pytest.ExitCode.USAGE_ERROR)


def _note_requests(config: pytest.Config, target: Target) -> None:
    counters = target.counters()
    api = {route: statuses for route, statuses in counters["requests"].items() if " /v1/" in route}
    total = sum(sum(statuses.values()) for statuses in api.values())
    by_route = "; ".join(
        f"{route}: " + ", ".join(f"{n}x{status}" for status, n in sorted(statuses.items()))
        for route, statuses in sorted(api.items())
    )
    _results(config).notes.append(f"simulator ({target.kind}): {total} API requests answered ({by_route})")
