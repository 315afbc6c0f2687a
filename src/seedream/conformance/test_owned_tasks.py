"""Layer 3, the answers users pay for: tasks they own, judged strictly, and (spend mode) a task followed to its end.

Zero-spend live mode never sends a valid generation, but reading a task is
free: ``--task-id ID`` (repeatable) and the recent rows of the ledger
(``--ledger PATH``, default the user's ledger; only rows made against the
server under test) are queried and every answer is judged by
:func:`seedream._expectations.check_body` — the bundled spec plus the
expectations profile: status in the known set, the id's shape, ``results`` of
URIs once completed, ``error`` once failed, types and ranges, and each error
envelope field by field (``code``, ``message``, the documented ``type``).
The ledger's own record is evidence too, at no cost: a generation refused
although the spec and the prose rules accept its body (a valid body refused),
and a 200 the client could not use (no id, an id of another shape).

So is the drift the client's monitor recorded in that ledger (``seedream
drift``): each row about a task the ledger made against the server under test
is a deviation of this run, with its first and last sighting and count.

Each deviation is one row of the summary (``3 owned tasks``, ``<kind> at
<pointer>``) and one entry of the JSON report's ``deviations``.

With a budget (offline; live ``--allow-spend N``), one generation is followed
to its end (completed or failed, bounded wait): every intermediate and final
body is judged, and each result download: an image content type, bytes that
decode, and the pixel size the size table predicts.

Offline (no ``--base-url``), the tasks read are ones the test makes on the
embedded simulator (creating is free there).
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from seedream import _rules
from seedream._drift import DriftRecord
from seedream._expectations import Deviation, check_body
from seedream._ledger import Ledger, LedgerEntry, TaskState, _clean_base_url, default_ledger_path
from seedream._redaction import cut
from seedream._spec import request_body_validator
from seedream.conformance.test_server_layer import SpendGuard, _send

CREATE, TASK = "createImageGeneration", "getTaskDetail"
CREATE_PATH = "/v1/images/generations"
LAYER = "3 owned tasks"
#: Newest ledger rows read per run: a bounded number of free requests.
LEDGER_ROWS = 20
_QUERYABLE = {
    TaskState.SUBMITTED,
    TaskState.COMPLETED,
    TaskState.DOWNLOADED,
    TaskState.FAILED,
    TaskState.CANCELLED,
    TaskState.UNCONFIRMED,
}
#: Statuses that refuse a generation for its body (not the account, the key or a rate limit).
_BODY_REFUSALS = {400, 404, 409, 413, 415, 422}
_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")
FOLLOW_BODY: dict[str, Any] = {
    "model": "doubao-seedream-5.0-lite",
    "prompt": "conformance: a task followed to its end",
    "n": 1,
}
#: Bounded wait of the followed task (seconds): offline tasks finish in milliseconds.
FOLLOW_TIMEOUT = {"live": 600.0, "offline": 30.0}


def _record(results: Any, deviation: Deviation, source: str) -> str:
    where = deviation.pointer or "(answer)"
    results.record(LAYER, deviation.operation, f"{deviation.kind} at {where}", False)
    results.add_deviation(source, deviation)
    found = f"{deviation.kind} (got {deviation.example}; expected {deviation.rule})"
    return f"{source}: {deviation.operation} {where}: {found}"


def _judge(results: Any, operation: str, response: Any, source: str) -> list[str]:
    """Every deviation of one answer, recorded; a clean answer is one passed row."""
    found = check_body(
        operation, response.status_code, response.content, content_type=response.headers.get("content-type")
    )
    if not found:
        results.record(LAYER, operation, f"HTTP {response.status_code} answer per spec and profile", True)
    return [_record(results, d, source) for d in found]


def _ledger_path(request: pytest.FixtureRequest, server_target: Any) -> Path | None:
    """The ledger to read (none offline unless --ledger is given; none if the user has never generated)."""
    given = request.config.getoption("--ledger")
    if given is None and not server_target.live:
        return None
    path = Path(given) if given is not None else default_ledger_path()
    return path if path.is_file() else None  # (a --ledger that does not exist is refused at start-up)


@pytest.fixture(scope="session")
def ledger_rows(request: pytest.FixtureRequest, server_target: Any) -> Iterator[list[LedgerEntry]]:
    """The newest ledger rows made against the server under test."""
    path = _ledger_path(request, server_target)
    if path is None:
        yield []
        return
    base = _clean_base_url(server_target.base_url or "")
    with Ledger(path) as ledger:
        rows = [e for e in ledger.entries(limit=LEDGER_ROWS * 5) if e.base_url == base][:LEDGER_ROWS]
    yield rows


@dataclass(frozen=True)
class ClientDrift:
    """The drift the client's monitor recorded in the ledger, for the server under test."""

    records: list[DriftRecord]
    elsewhere: int  # rows about tasks of other servers
    unattributed: int  # rows about no task the ledger knows: their server cannot be told


@pytest.fixture(scope="session")
def client_drift(request: pytest.FixtureRequest, server_target: Any) -> ClientDrift:
    """The ledger's drift rows whose task was made against the server under test.

    A drift row names the task of the last answer it was seen in; the ledger row of that task
    names the server. A row about no known task (an error answer to a create, a 200 without a
    usable id) cannot be attributed to a server and is only counted in the note.
    """
    path = _ledger_path(request, server_target)
    if path is None:
        return ClientDrift([], 0, 0)
    base = _clean_base_url(server_target.base_url or "")
    records, elsewhere, unattributed = [], 0, 0
    with Ledger(path) as ledger:
        for record in ledger.drift():
            entry = ledger.get(record.task_id) if record.task_id else None
            if entry is None:
                unattributed += 1
            elif entry.base_url == base:
                records.append(record)
            else:
                elsewhere += 1
    return ClientDrift(records, elsewhere, unattributed)


def _owned_ids(request: pytest.FixtureRequest, rows: list[LedgerEntry]) -> list[str]:
    ids = list(request.config.getoption("--task-id") or [])
    ids += [e.task_id for e in rows if e.task_id and e.state in _QUERYABLE and e.task_id not in ids]
    return ids


def test_owned_tasks_answer_per_the_spec_and_the_expectations(
    request: pytest.FixtureRequest,
    server_target: Any,
    guard: SpendGuard,
    ledger_rows: list[LedgerEntry],
    conformance_results: Any,
) -> None:
    ids = _owned_ids(request, ledger_rows)
    headers = {"Authorization": f"Bearer {server_target.api_key}"}
    if not server_target.live:
        # Offline: two tasks of our own (creating is free on the simulator), read while they run.
        posting = {**headers, "Content-Type": "application/json"}
        for _ in range(2):
            assert guard.admit("POST", CREATE_PATH, posting, FOLLOW_BODY)  # offline: no cap
            created = _send(server_target, "POST", CREATE_PATH, posting, FOLLOW_BODY)
            assert created.status_code == 200, created.text
            ids.append(created.json()["id"])
    problems: list[str] = []
    for task_id in ids:
        response = _send(server_target, "GET", f"/v1/tasks/{task_id}", headers)
        problems += _judge(conformance_results, TASK, response, f"task {task_id}")
    conformance_results.notes.append(
        f"owned tasks ({server_target.kind}): {len(ids)} read ({len(request.config.getoption('--task-id') or [])} "
        f"given, {len(ledger_rows)} ledger rows of this server), {len(problems)} deviations"
    )
    assert problems == [], "\n".join(problems)


def test_owned_tasks_ledger_record_shows_no_refused_valid_body_nor_unusable_answer(
    server_target: Any, ledger_rows: list[LedgerEntry], conformance_results: Any
) -> None:
    """What the ledger already knows, judged without a request: the answers its rows end in."""
    problems: list[str] = []
    for entry in ledger_rows:
        match = _HTTP_STATUS.search(entry.error_message or "")
        status = int(match.group(1)) if match else None
        source = f"ledger row {entry.local_id}"
        # A refusal without an admission code is `unconfirmed` since the admission codes decide (seedream_rules).
        refused = entry.state in (TaskState.REJECTED, TaskState.UNCONFIRMED)
        if refused and status in _BODY_REFUSALS and _valid(entry.params):
            deviation = Deviation(CREATE, "", "valid-body-refused", str(status), "a body the spec and rules accept")
            problems.append(_record(conformance_results, deviation, source))
        elif entry.state == TaskState.UNCONFIRMED and entry.task_id is None and status == 200:
            # The ledger's message is redacted when stored; it says what was wrong with the answer.
            said = cut(entry.error_message or "", 200)
            deviation = Deviation(CREATE, "", "unusable-answer", said, "a 200 with a task the client can follow")
            problems.append(_record(conformance_results, deviation, source))
        else:
            conformance_results.record(LAYER, CREATE, "ledger row ends as documented", True)
    assert problems == [], "\n".join(problems)


def test_owned_tasks_the_client_drift_monitor_recorded_no_drift_from_this_server(
    client_drift: ClientDrift, conformance_results: Any
) -> None:
    """What the client saw in normal use (``seedream drift``), judged like the answers this run reads itself."""
    problems: list[str] = []
    for record in client_drift.records:
        deviation = Deviation(record.operation, record.pointer, record.kind, record.example, record.rule)
        seen = {"first_seen": _iso(record.first_seen), "last_seen": _iso(record.last_seen), "count": record.count}
        where = deviation.pointer or "(answer)"
        conformance_results.record(
            LAYER, deviation.operation, f"client drift monitor: {deviation.kind} at {where}", False
        )
        conformance_results.add_deviation("client drift monitor (ledger)", deviation, **seen)
        problems.append(
            f"client drift monitor (ledger): {deviation.operation} {where}: {deviation.kind} (got {deviation.example};"
            f" expected {deviation.rule}; seen {record.count}x, {seen['first_seen']} .. {seen['last_seen']},"
            f" last in task {record.task_id})"
        )
    if not problems:
        conformance_results.record(LAYER, "(both)", "client drift monitor: nothing recorded for this server", True)
    conformance_results.notes.append(
        f"client drift monitor (ledger): {len(client_drift.records)} rows for this server, {client_drift.elsewhere} "
        f"for other servers, {client_drift.unattributed} about no known task (not judged); "
        "`seedream drift --clear` forgets them once resolved"
    )
    assert problems == [], "\n".join(problems)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="seconds")


def _valid(params: dict[str, Any]) -> bool:
    return bool(request_body_validator().is_valid(params)) and not _rules.check_request(params)


def test_owned_tasks_a_spent_task_is_followed_to_its_end_with_its_images(
    server_target: Any, guard: SpendGuard, conformance_results: Any
) -> None:
    headers = {"Authorization": f"Bearer {server_target.api_key}", "Content-Type": "application/json"}
    if not guard.admit("POST", CREATE_PATH, headers, FOLLOW_BODY):
        pytest.skip("no spend left for a followed task (zero-spend, or --allow-spend used up)")
    created = _send(server_target, "POST", CREATE_PATH, headers, FOLLOW_BODY)
    problems = _judge(conformance_results, CREATE, created, "followed task (create)")
    assert created.status_code == 200, created.text
    task_id = created.json().get("id")
    assert isinstance(task_id, str), created.text
    deadline = time.monotonic() + FOLLOW_TIMEOUT["live" if server_target.live else "offline"]
    delay, body, polls = 0.05 if not server_target.live else 2.0, None, 0
    while time.monotonic() < deadline:
        response = _send(server_target, "GET", f"/v1/tasks/{task_id}", {"Authorization": headers["Authorization"]})
        polls += 1
        problems += _judge(conformance_results, TASK, response, f"followed task {task_id} (poll {polls})")
        body = response.json() if response.status_code == 200 else None
        if not isinstance(body, dict) or body.get("status") in ("completed", "failed", "cancelled"):
            break
        time.sleep(delay)
        delay = min(delay * 1.5, 10.0)
    final: dict[str, Any] = body if isinstance(body, dict) else {}
    status = final.get("status")
    assert status in ("completed", "failed"), f"task {task_id} did not finish in time (last: {status})"
    for index, url in enumerate(final.get("results") or [] if status == "completed" else []):
        problems += _check_image(conformance_results, server_target, str(url), f"followed task {task_id} image {index}")
    conformance_results.notes.append(f"followed task ({server_target.kind}): {status} after {polls} polls")
    assert problems == [], "\n".join(problems)


def _check_image(results: Any, target: Any, url: str, source: str) -> list[str]:
    """One result download: an image content type, bytes that decode, the size the table predicts."""
    from PIL import Image

    response = _fetch(target, url)
    expected = _rules.output_size(FOLLOW_BODY.get("size"), FOLLOW_BODY.get("quality"))
    media = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    found: list[Deviation] = []
    if response.status_code != 200:
        found.append(Deviation("download", "", "undocumented-status", str(response.status_code), "200"))
    elif media not in ("image/png", "image/jpeg"):
        found.append(Deviation("download", "", "content-type", media, "image/png or image/jpeg"))
    else:
        try:
            with Image.open(io.BytesIO(response.content)) as image:
                image.load()
                size = image.size
        except Exception as exc:  # any decoder failure is the finding
            found.append(Deviation("download", "", "not-an-image", type(exc).__name__, "an image that decodes"))
        else:
            if size != expected:
                rule = f"{expected[0]}x{expected[1]} (the size table)"
                found.append(Deviation("download", "", "pixel-size", f"{size[0]}x{size[1]}", rule))
    if not found:
        results.record(LAYER, "download", "result image per content type, decoding and size", True)
    return [_record(results, d, source) for d in found]


def _fetch(target: Any, url: str) -> Any:
    import httpx

    if target.kind == "asgi":
        import asyncio

        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=target.app)) as client:
                return await client.get(url)

        return asyncio.run(go())
    with httpx.Client(timeout=60, follow_redirects=True) as client:
        return client.get(url)
