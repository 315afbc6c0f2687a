"""What a conformance run found, in the forms CI reads: an exit code, a Markdown summary and JSON.

Exit codes (``seedream conformance``, ``python -m seedream.conformance``, ``nox -s conformance``):

    0  the spec, the client and the server conform
    1  drift or nonconformance: at least one check failed on an answer (or on the spec or client)
    2  usage or configuration error: a bad option, no key for live mode, the key refused,
       the suite's dependencies missing, nothing selected; nothing was judged
    3  the server could not be reached, or every failure was a transport error (an outage is not a drift)

The conftest records each failure with whether it was a transport error
(:func:`is_transport_error`); :func:`verdict` turns pytest's exit status and
those failures into one of the codes above, and :func:`write_reports` writes
the files asked for with ``--summary-md`` and ``--conformance-json``.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "EXIT_CONFORMS",
    "EXIT_DRIFT",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "Failure",
    "RunInfo",
    "ServerUnreachable",
    "is_transport_error",
    "one_line",
    "verdict",
    "write_reports",
]

EXIT_CONFORMS = 0
EXIT_DRIFT = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3

_WORDS = {
    EXIT_CONFORMS: "conforms",
    EXIT_DRIFT: "drift or nonconformance",
    EXIT_USAGE: "usage or configuration error",
    EXIT_UNREACHABLE: "server unreachable",
}
# pytest.ExitCode values, without importing pytest here (the runner checks pytest is installed first).
_PYTEST_OK, _PYTEST_FAILED, _PYTEST_NO_TESTS = 0, 1, 5


class ServerUnreachable(ConnectionError):
    """The live server did not answer the suite's first, free request (raised by the ``server_target`` fixture)."""


@dataclass(frozen=True)
class Failure:
    """One failed test (or setup, teardown, collection), in one line."""

    nodeid: str
    layer: str
    operation: str
    check: str
    message: str
    transport: bool


@dataclass(frozen=True)
class RunInfo:
    """How the run was asked for, for the report headers."""

    mode: str  # "offline" or "live"
    base_url: str | None
    allow_spend: int


def _transport_types() -> tuple[type[BaseException], ...]:
    import httpx

    types: list[type[BaseException]] = [ConnectionError, TimeoutError, socket.gaierror, httpx.TransportError]
    try:
        import requests  # schemathesis sends its cases with requests
    except ImportError:  # pragma: no cover - requests comes with schemathesis
        pass
    else:
        types += [requests.exceptions.ConnectionError, requests.exceptions.Timeout]
    return tuple(types)


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


def is_transport_error(exc: BaseException) -> bool:
    """Whether ``exc`` (every exception in it, for a group) says the server was not reached or did not answer."""
    leaves = list(_leaves(exc))
    transport = _transport_types()
    return bool(leaves) and all(isinstance(leaf, transport) for leaf in leaves)


def one_line(text: str, limit: int = 300) -> str:
    """The first non-empty line of ``text``, cut to ``limit`` characters."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def verdict(pytest_status: int, failures: Sequence[Failure]) -> int:
    """The exit code of a run: pytest's exit status, read with what failed."""
    if pytest_status == _PYTEST_OK:
        return EXIT_CONFORMS
    if pytest_status != _PYTEST_FAILED:
        # usage error, internal error, interrupted (collection errors too) or nothing collected
        return EXIT_USAGE
    if failures and all(f.transport for f in failures):
        return EXIT_UNREACHABLE
    return EXIT_DRIFT


def write_reports(
    *,
    summary_md: str | None,
    json_path: str | None,
    info: RunInfo,
    exit_code: int,
    pytest_status: int,
    rows: Mapping[tuple[str, str, str], Any],
    notes: Sequence[str],
    failures: Sequence[Failure],
    problem: str | None = None,
    deviations: Sequence[Mapping[str, Any]] = (),
) -> None:
    """Write the Markdown summary and/or the JSON report; ``problem`` is a usage error found before any test.

    ``deviations``: each deviation an answer showed (source, operation, pointer, kind, redacted example, rule);
    one the client's drift monitor recorded in the ledger also has ``first_seen``, ``last_seen`` (ISO 8601,
    UTC) and ``count``, and is a row of its own table in the Markdown.
    """
    if summary_md:
        _write(summary_md, _markdown(info, exit_code, rows, notes, failures, problem, deviations))
    if json_path:
        document = {
            "verdict": _WORDS[exit_code],
            "exit_code": exit_code,
            "pytest_exit_status": pytest_status,
            "mode": info.mode,
            "base_url": info.base_url,
            "allow_spend": info.allow_spend,
            "problem": problem,
            "totals": _totals(rows),
            "rows": [
                {"layer": layer, "operation": op, "check": check, **_tally(t)}
                for (layer, op, check), t in sorted(rows.items())
            ],
            "notes": list(notes),
            "failures": [asdict(f) for f in failures],
            "deviations": [dict(d) for d in deviations],
        }
        _write(json_path, json.dumps(document, indent=2) + "\n")


def _write(path: str, text: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def _tally(t: Any) -> dict[str, int]:
    return {"passed": t.passed, "failed": t.failed, "cases": t.cases}


def _totals(rows: Mapping[tuple[str, str, str], Any]) -> dict[str, int]:
    totals = {"passed": 0, "failed": 0, "cases": 0}
    for t in rows.values():
        for key, value in _tally(t).items():
            totals[key] += value
    return totals


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(deviation: Mapping[str, Any], keys: Sequence[str]) -> str:
    return "| " + " | ".join(_cell(str(deviation[k]) or "(answer)") for k in keys) + " |"


def _markdown(
    info: RunInfo,
    exit_code: int,
    rows: Mapping[tuple[str, str, str], Any],
    notes: Sequence[str],
    failures: Sequence[Failure],
    problem: str | None,
    deviations: Sequence[Mapping[str, Any]] = (),
) -> str:
    mark = "✅" if exit_code == EXIT_CONFORMS else "❌"
    if info.mode == "live":
        spend = "zero-spend" if info.allow_spend == 0 else f"at most {info.allow_spend} billable generations"
        where = f"live: `{info.base_url}` ({spend})"
    else:
        where = "offline: the embedded simulator (in-process and on 127.0.0.1)"
    lines = [f"## seedream conformance: {mark} {_WORDS[exit_code]} (exit {exit_code})", "", where, ""]
    if problem:
        lines += [f"**{_cell(problem)}**", ""]
    if rows:
        lines += ["| layer | operation | check | passed | failed | cases |", "|---|---|---|---:|---:|---:|"]
        for (layer, op, check), t in sorted(rows.items()):
            lines.append(f"| {_cell(layer)} | {op} | {_cell(check)} | {t.passed} | {t.failed} | {t.cases} |")
        totals = _totals(rows)
        lines += ["", f"total: {totals['passed']} passed, {totals['failed']} failed, {totals['cases']} cases", ""]
    guard = [note for note in notes if note.startswith("spend guard")]
    guard = guard or ["spend guard: the server layer did not run (0 billable requests sent)"]
    lines += [f"- {_cell(note)}" for note in guard + [n for n in notes if not n.startswith("spend guard")]]
    monitored = [d for d in deviations if "count" in d]
    answered = [d for d in deviations if "count" not in d]
    if answered:
        lines += ["", f"### Deviations ({len(answered)})", ""]
        lines += ["| source | operation | pointer | kind | found | expected |", "|---|---|---|---|---|---|"]
        lines += [_row(d, ("source", "operation", "pointer", "kind", "example", "rule")) for d in answered]
    if monitored:
        lines += ["", f"### Drift the client recorded in the ledger ({len(monitored)})", ""]
        lines += [
            "| operation | pointer | kind | found | first seen | last seen | count |",
            "|---|---|---|---|---|---|---:|",
        ]
        keys = ("operation", "pointer", "kind", "example", "first_seen", "last_seen", "count")
        lines += [_row(d, keys) for d in monitored]
    lines += ["", f"### Failures ({len(failures)})", ""]
    lines += [
        f"- `{_cell(f.nodeid)}` ({_cell(f.layer)} / {f.operation} / {_cell(f.check)})"
        f"{' [transport]' if f.transport else ''}: {_cell(f.message)}"
        for f in failures
    ] or ["none"]
    return "\n".join(lines) + "\n"
