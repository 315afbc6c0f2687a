"""``unconfirmed`` rows and the listed tasks that could be them: shown by ``resume``, never merged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from seedream_client.models import TaskListItem
from typer.testing import CliRunner

from seedream import Seedream, SeedreamAPI
from seedream._candidates import CLOCK_SKEW_SECONDS, REQUEST_WINDOW_SECONDS, created_unix, match_candidates
from seedream._cli import app
from seedream._ledger import Ledger, TaskState
from seedream.simulator import SimulatorConfig, run_simulator
from seedream.simulator._server import RunningSimulator

from .helpers import SENTINEL_KEY

MODEL = "doubao-seedream-5.0-lite"


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator(SimulatorConfig.for_tests(api_keys=(SENTINEL_KEY,), time_scale=0.01)) as server:
        yield server


def _lost_post(ledger: Ledger, base_url: str, prompt: str = "a fox") -> str:
    """A row as a POST whose answer was lost leaves it."""
    local_id = ledger.record_intent(base_url=base_url, params={"model": MODEL, "prompt": prompt}, directory=None)
    ledger.record_submit_failed(local_id, may_exist=True, error="APITimeoutError: read timed out")
    return local_id


def test_a_task_created_in_the_window_is_a_candidate_and_the_row_stays_unconfirmed(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    with Seedream(SENTINEL_KEY, base_url=simulator.base_url, ledger=tmp_path / "l.sqlite3") as client:
        local_id = _lost_post(client.ledger, simulator.base_url)
        with SeedreamAPI(SENTINEL_KEY, base_url=simulator.base_url) as other:  # the lost POST's task, unknown here
            lost = str(other.create_generation("a fox").id)
        mine = str(client.submit("another").id)  # the ledger holds it for its own row: never a candidate
        rows = client.unconfirmed_candidates()
        assert [row.local_id for row in rows] == [local_id]
        assert [c.task_id for c in rows[0].candidates] == [lost] and mine != lost
        entry = next(e for e in client.ledger.entries() if e.local_id == local_id)
        assert entry.state == TaskState.UNCONFIRMED and entry.task_id is None  # shown, not merged


def test_without_unconfirmed_rows_nothing_is_listed(simulator: RunningSimulator, tmp_path: Path) -> None:
    with Seedream(SENTINEL_KEY, base_url=simulator.base_url, ledger=tmp_path / "l.sqlite3") as client:
        assert client.unconfirmed_candidates() == []
    assert "GET /v1/tasks" not in simulator.counters()["requests"]


def test_resume_shows_the_candidates_of_each_unconfirmed_row(simulator: RunningSimulator, tmp_path: Path) -> None:
    ledger_path = tmp_path / "cli.sqlite3"
    with Ledger(ledger_path) as ledger:
        local_id = _lost_post(ledger, simulator.base_url)
    with SeedreamAPI(SENTINEL_KEY, base_url=simulator.base_url) as other:
        lost = str(other.create_generation("a fox").id)
    env = {"EVOLINK_API_KEY": SENTINEL_KEY, "SEEDREAM_BASE_URL": simulator.base_url,
           "SEEDREAM_LEDGER": str(ledger_path), "COLUMNS": "400"}  # fmt: skip
    result = CliRunner().invoke(app, ["resume", "--json"], env=env)
    assert result.exit_code == 0, result.output
    [outcome] = json.loads(result.stdout)
    assert outcome["state"] == "unconfirmed" and outcome["local_id"] == local_id
    assert [c["task_id"] for c in outcome["candidates"]] == [lost] and "not proof" in outcome["message"]
    human = CliRunner().invoke(app, ["resume"], env=env)
    assert f"could be {lost}" in human.stdout


def _item(task_id: str, created: object, model: str = MODEL) -> TaskListItem:
    return TaskListItem.from_dict({"id": task_id, "model": model, "created_at": created, "status": "completed"})


def test_only_tasks_of_the_same_model_inside_the_window_match(tmp_path: Path) -> None:
    now = 1_800_000_000.0
    with Ledger(":memory:", clock=lambda: now) as ledger:
        intent = ledger.record_intent(base_url="https://api.evolink.ai", params={"model": MODEL}, directory=None)
        entries = ledger.entries()
    edge = now + REQUEST_WINDOW_SECONDS + CLOCK_SKEW_SECONDS  # a bare intent row: the request's longest window
    items = [
        _item("task-unified-in", int(now) + 5),
        _item("task-unified-iso", "2027-01-15T08:00:00Z"),  # the same instant, in ISO 8601
        _item("task-unified-edge", edge),
        _item("task-unified-late", edge + 1),
        _item("task-unified-early", now - CLOCK_SKEW_SECONDS - 1),
        _item("task-unified-model", int(now), model="another-model"),
        _item("task-unified-undated", "yesterday"),
        _item("task-unified-known", int(now)),
    ]
    [row] = match_candidates(entries, items, known={"task-unified-known"})
    assert row.local_id == intent and row.state == "intent"
    assert created_unix("2027-01-15T08:00:00Z") == now
    assert [c.task_id for c in row.candidates] == ["task-unified-in", "task-unified-iso", "task-unified-edge"]


def test_rows_whose_outcome_is_known_have_no_candidates() -> None:
    with Ledger(":memory:") as ledger:
        local_id = ledger.record_intent(base_url="https://api.evolink.ai", params={"model": MODEL}, directory=None)
        ledger.record_submit_failed(local_id, may_exist=False, error="HTTP 402 insufficient_quota")
        assert match_candidates(ledger.entries(), [_item("task-unified-a", 1)]) == []


def test_the_list_is_read_page_by_page_until_the_last(simulator: RunningSimulator, tmp_path: Path) -> None:
    with Seedream(SENTINEL_KEY, base_url=simulator.base_url, ledger=tmp_path / "l.sqlite3") as client:
        _lost_post(client.ledger, simulator.base_url)
        with SeedreamAPI(SENTINEL_KEY, base_url=simulator.base_url) as other:
            made = {str(other.create_generation(f"fox {i}").id) for i in range(5)}
        [row] = client.unconfirmed_candidates(page_size=2)
    assert {c.task_id for c in row.candidates} == made
    assert simulator.counters()["requests"]["GET /v1/tasks"] == {"200": 3}  # 2 + 2 + 1, and no fourth page
