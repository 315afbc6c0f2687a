"""The ledger: intent before the POST, id before submit returns, no secrets, resumable selection."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import httpx
import platformdirs
import pytest

from seedream._errors import LedgerError
from seedream._ledger import LINK_LIFETIME_SECONDS, Ledger, TaskState, default_ledger_path, redact_params
from seedream._sync._workflow import Seedream

from .helpers import BASE_URL, SENTINEL_KEY, TASK_ID, ScriptedServer, created_response


def test_intent_is_on_disk_before_the_post_leaves(make_client: Callable[..., Seedream], ledger: Ledger) -> None:
    seen: list[tuple[str, str | None, str]] = []

    def look(request: httpx.Request) -> None:
        with Ledger(ledger.path) as other_process_view:
            seen.extend((e.state, e.task_id, e.params["prompt"]) for e in other_process_view.entries())

    server = ScriptedServer(posts=[created_response()], on_post=look)
    make_client(server).submit("a lighthouse at dusk")
    assert seen == [(TaskState.INTENT, None, "a lighthouse at dusk")]


def test_task_id_is_on_disk_before_submit_returns(make_client: Callable[..., Seedream], ledger: Ledger) -> None:
    make_client(ScriptedServer(posts=[created_response()])).submit("a lighthouse", n=3, size="16:9", quality="2K")
    with Ledger(ledger.path) as other_process_view:
        [entry] = other_process_view.entries()
    assert (entry.task_id, entry.state, entry.status, entry.estimated_time) == (TASK_ID, "submitted", "pending", 10)
    assert entry.params["n"] == 3 and entry.params["size"] == "16:9"
    assert entry.submitted_at is not None and entry.submitted_at >= entry.intent_at


def test_no_secret_is_stored(make_client: Callable[..., Seedream], ledger: Ledger, tmp_path: Path) -> None:
    make_client(ScriptedServer(posts=[created_response()])).submit(
        "a lighthouse",
        image_urls=["https://cdn.example/ref.png?X-Signature=s3cr3tsig&Expires=1"],
        callback_url="https://hooks.example/seedream?token=cb-s3cr3t",
    )
    [entry] = ledger.entries()
    assert entry.params["callback_url"] == "https://hooks.example/seedream?<redacted>"
    assert entry.params["image_urls"] == ["https://cdn.example/ref.png?<redacted>"]
    ledger.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("ledger.sqlite3*"))
    for secret in (SENTINEL_KEY, "s3cr3tsig", "cb-s3cr3t"):
        assert secret.encode() not in raw


def test_redaction_drops_user_info_and_fragments() -> None:
    params = redact_params({"callback_url": "https://user:pw@hooks.example:8443/p#frag", "prompt": "x"})
    assert params == {"callback_url": "https://hooks.example:8443/p", "prompt": "x"}


def test_ledger_uses_wal_and_full_sync(ledger: Ledger) -> None:
    db = sqlite3.connect(ledger.path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()


def test_location_comes_from_the_environment_else_the_user_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SEEDREAM_LEDGER", str(tmp_path / "custom.db"))
    assert default_ledger_path() == tmp_path / "custom.db"
    monkeypatch.delenv("SEEDREAM_LEDGER")
    assert default_ledger_path() == platformdirs.user_data_path("seedream", appauthor=False) / "ledger.sqlite3"


def test_resumable_means_same_base_url_not_downloaded_links_alive(tmp_path: Path) -> None:
    now = [1_000_000.0]
    with Ledger(tmp_path / "l.db", clock=lambda: now[0]) as ledger:

        def add(task_id: str, base_url: str = BASE_URL) -> None:
            local = ledger.record_intent(base_url=base_url, params={"prompt": task_id}, directory=tmp_path)
            ledger.record_submitted(local, task_id=task_id, status="pending", created=1, estimated_time=5)

        add("task-unified-running")
        add("task-unified-done-not-saved")
        ledger.record_task("task-unified-done-not-saved", base_url=BASE_URL, status="completed", results=["u"])
        add("task-unified-saved")
        ledger.record_task("task-unified-saved", base_url=BASE_URL, status="completed", results=["u"])
        ledger.record_downloaded("task-unified-saved", directory=tmp_path)
        add("task-unified-failed")
        ledger.record_task("task-unified-failed", base_url=BASE_URL, status="failed", error_code="service_error")
        add("task-unified-elsewhere", base_url="http://127.0.0.1:1")
        ledger.record_intent(base_url=BASE_URL, params={"prompt": "crashed mid-POST"}, directory=None)

        assert [e.task_id for e in ledger.resumable(base_url=BASE_URL)] == [
            "task-unified-running",
            "task-unified-done-not-saved",
        ]
        assert [e.state for e in ledger.stale(base_url=BASE_URL)] == [TaskState.INTENT]
        now[0] += LINK_LIFETIME_SECONDS + 1
        assert [e.task_id for e in ledger.resumable(base_url=BASE_URL)] == ["task-unified-running"]
        assert {e.task_id for e in ledger.stale(base_url=BASE_URL)} == {None, "task-unified-done-not-saved"}


def test_downloaded_state_is_not_undone_by_a_later_poll(ledger: Ledger, tmp_path: Path) -> None:
    ledger.record_task(TASK_ID, base_url=BASE_URL, status="completed", results=["u"])
    ledger.record_downloaded(TASK_ID, directory=tmp_path)
    ledger.record_task(TASK_ID, base_url=BASE_URL, status="completed", results=["u"])
    entry = ledger.get(TASK_ID)
    assert entry is not None and entry.state == TaskState.DOWNLOADED


def test_a_ledger_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(LedgerError, match="newer"):
        Ledger(path)


def test_an_unusable_path_gives_a_ledger_error(tmp_path: Path) -> None:
    (tmp_path / "a-directory").mkdir()
    with pytest.raises(LedgerError, match="a-directory"):
        Ledger(tmp_path / "a-directory")


def test_a_ledger_failure_after_the_post_still_names_the_paid_task(tmp_path: Path) -> None:
    class FailingLedger(Ledger):
        def record_submitted(self, local_id: str, **kwargs: object) -> None:  # type: ignore[override]
            raise LedgerError("disk full")

    from seedream._sync._api import SeedreamAPI

    server = ScriptedServer(posts=[created_response()])
    api = SeedreamAPI(SENTINEL_KEY, base_url=BASE_URL, transport=server.transport())
    with FailingLedger(tmp_path / "l.db") as ledger, Seedream(base_url=BASE_URL, ledger=ledger, api=api) as client:
        with pytest.raises(LedgerError, match=TASK_ID):
            client.submit("a lighthouse")
        assert [e.state for e in ledger.entries()] == [TaskState.INTENT]  # still visible to resume
