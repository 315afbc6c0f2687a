"""submit / wait / download / generate / resume / confirm_callback against scripted answers."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from seedream_client.models import TaskDetailResponse

from seedream import AsyncSeedream, Seedream, parse_callback
from seedream._errors import (
    NotFoundError,
    RequestValidationError,
    TaskCancelledError,
    TaskFailedError,
    WaitTimeoutError,
)
from seedream._ledger import Ledger, TaskState
from seedream._polling import PollScheduler

from .helpers import (
    BASE_URL,
    TASK_ID,
    ScriptedServer,
    Sleeps,
    created_response,
    error_response,
    json_response,
    png_bytes,
    task_body,
)

PNG = png_bytes(8, 6)
URLS = ["http://127.0.0.1:9/f/0.png", "http://127.0.0.1:9/f/1.png"]


def poll(status: str, progress: int = 0, **kwargs: object) -> httpx.Response:
    return json_response(200, task_body(status, progress=progress, **kwargs))  # type: ignore[arg-type]


def files() -> dict[str, httpx.Response]:
    return {
        u.removeprefix("http://127.0.0.1:9"): httpx.Response(200, content=PNG, headers={"content-type": "image/png"})
        for u in URLS
    }


def test_wait_first_polls_near_the_estimate_then_returns_the_completed_task(
    make_client: Callable[..., Seedream], sleeps: Sleeps
) -> None:
    server = ScriptedServer(
        posts=[created_response(estimated=10)],
        gets=[poll("processing", 40), poll("processing", 80), poll("completed", 100, results=URLS)],
    )
    client = make_client(server)
    seen: list[tuple[str, int]] = []
    task = client.wait(client.submit("cats"), on_progress=lambda t: seen.append((str(t.status), t.progress)))  # type: ignore[arg-type]
    assert str(task.status) == "completed"
    assert seen == [("processing", 40), ("processing", 80), ("completed", 100)]
    first = PollScheduler(estimated_time=10).first_poll_at()  # the scheduler's own first poll for the estimate
    assert sleeps.calls[0] == pytest.approx(first)
    assert first < 10
    assert server.count("GET") == 3


def test_wait_by_id_polls_at_once(make_client: Callable[..., Seedream], sleeps: Sleeps) -> None:
    server = ScriptedServer(gets=[poll("completed", 100, results=URLS)])
    assert make_client(server).wait(TASK_ID).id == TASK_ID
    assert sleeps.calls == []


def test_failed_task_raises_task_failed_error_with_code_and_retryability(
    make_client: Callable[..., Seedream], ledger: Ledger
) -> None:
    server = ScriptedServer(gets=[poll("failed", 30, error={"code": "content_policy_violation", "message": "no"})])
    with pytest.raises(TaskFailedError) as caught:
        make_client(server).wait(TASK_ID)
    assert (caught.value.task_id, caught.value.code, caught.value.retryable) == (
        TASK_ID,
        "content_policy_violation",
        False,
    )
    entry = ledger.get(TASK_ID)
    assert entry is not None and (entry.state, entry.error_code) == (TaskState.FAILED, "content_policy_violation")


def test_cancelled_task_raises_task_cancelled_error(make_client: Callable[..., Seedream]) -> None:
    with pytest.raises(TaskCancelledError, match=TASK_ID):
        make_client(ScriptedServer(gets=[poll("cancelled")])).wait(TASK_ID)


def test_deadline_raises_wait_timeout_after_a_last_poll(make_client: Callable[..., Seedream], sleeps: Sleeps) -> None:
    server = ScriptedServer(gets=[poll("processing", 0)])
    with pytest.raises(WaitTimeoutError) as caught:
        make_client(server).wait(TASK_ID, timeout=30.0)
    assert caught.value.last_status == "processing" and caught.value.task_id == TASK_ID
    assert sum(sleeps.calls) == pytest.approx(30.0)  # never sleeps past the deadline
    assert server.count("GET") >= 3


def test_unknown_status_keeps_waiting(make_client: Callable[..., Seedream]) -> None:
    server = ScriptedServer(gets=[poll("queued_upstream"), poll("completed", 100, results=URLS)])
    assert str(make_client(server).wait(TASK_ID).status) == "completed"


def test_unknown_task_id_is_not_found(make_client: Callable[..., Seedream]) -> None:
    server = ScriptedServer(gets=[error_response(404, "resource_not_found")])
    with pytest.raises(NotFoundError):
        make_client(server).wait(TASK_ID)


def test_generate_submits_waits_downloads(make_client: Callable[..., Seedream], ledger: Ledger, tmp_path: Path) -> None:
    server = ScriptedServer(posts=[created_response()], gets=[poll("completed", 100, results=URLS)], files=files())
    result = make_client(server).generate("two cats", n=2, directory=tmp_path / "out")
    assert [f.path.name for f in result.files] == [f"{TASK_ID}_0.png", f"{TASK_ID}_1.png"]
    assert all(f.path.parent == (tmp_path / "out").resolve() for f in result.files)
    entry = ledger.get(TASK_ID)
    assert entry is not None and entry.state == TaskState.DOWNLOADED and len(entry.files) == 2


def test_generate_rejects_unknown_parameters_before_sending(make_client: Callable[..., Seedream]) -> None:
    server = ScriptedServer(posts=[created_response()])
    with pytest.raises(RequestValidationError, match="colour"):
        make_client(server).generate("cats", colour="red")
    assert server.requests == []


def test_invalid_request_is_refused_before_the_ledger_or_the_network(
    make_client: Callable[..., Seedream], ledger: Ledger
) -> None:
    server = ScriptedServer(posts=[created_response()])
    with pytest.raises(RequestValidationError, match="n"):
        make_client(server).submit("cats", n=16)
    assert server.requests == [] and ledger.entries() == []


def test_confirm_callback_trusts_the_api_not_the_body(make_client: Callable[..., Seedream]) -> None:
    forged = task_body("completed", progress=100, results=["https://evil.example/x.png"])
    server = ScriptedServer(gets=[poll("processing", 50)])
    confirmed = make_client(server).confirm_callback(json_response(200, forged).content)
    assert str(confirmed.status) == "processing"
    assert server.count("GET", f"/v1/tasks/{TASK_ID}") == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [(b"not json", "callback body"), (b"[1]", "callback body"), (b'{"id": "abc"}', "callback body.id")],
)
def test_malformed_callback_names_the_field(body: bytes, field: str) -> None:
    with pytest.raises(RequestValidationError) as caught:
        parse_callback(body)
    assert caught.value.field == field


def test_parse_callback_accepts_cancelled() -> None:
    task = parse_callback(task_body("cancelled"))
    assert isinstance(task, TaskDetailResponse) and str(task.status) == "cancelled"


def test_resume_finishes_what_it_can_and_reports_the_rest(
    make_client: Callable[..., Seedream], ledger: Ledger, tmp_path: Path
) -> None:
    running = "task-unified-1-running"
    failing = "task-unified-2-failing"
    for task_id in (running, failing):
        local = ledger.record_intent(base_url=BASE_URL, params={"prompt": "p", "n": 2}, directory=tmp_path / "out")
        ledger.record_submitted(local, task_id=task_id, status="pending", created=1757165031, estimated_time=5)
    ledger.record_intent(base_url=BASE_URL, params={"prompt": "lost"}, directory=tmp_path / "out")

    def gets(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(running):
            return poll("completed", 100, task_id=running, results=URLS)
        return poll("failed", 10, task_id=failing, error={"code": "service_error", "message": "x"})

    server = ScriptedServer(gets=[gets], files=files())
    outcomes = {o.task_id: o for o in make_client(server).resume()}
    assert outcomes[running].state == "downloaded" and len(outcomes[running].files) == 2
    assert outcomes[failing].state == "failed" and "service_error" in outcomes[failing].message
    assert outcomes[None].state == "unconfirmed" and "dashboard" in outcomes[None].message
    assert ledger.resumable(base_url=BASE_URL) == []


def test_both_clients_offer_the_same_public_methods() -> None:
    # Every behaviour above runs on both sides (make_client is parametrised); this pins the surface itself.
    public = {name for name in dir(Seedream) if not name.startswith("_")}
    assert public == {name for name in dir(AsyncSeedream) if not name.startswith("_")}
    assert public >= {"submit", "wait", "download", "generate", "resume", "confirm_callback"}
    for name in {n for n in public if callable(getattr(Seedream, n))} | {"__init__"}:
        sync_params = inspect.signature(getattr(Seedream, name)).parameters
        assert list(sync_params) == list(inspect.signature(getattr(AsyncSeedream, name)).parameters), name
