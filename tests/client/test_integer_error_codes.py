"""An ``error.code`` that is an integer (the vendor's credits page shows ``code: 400``) is kept as sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seedream import BadRequestError, Seedream, SeedreamAPI, TaskFailedError, raise_for_task_status
from seedream._cli import app
from seedream.simulator import SimulatorConfig, run_simulator

from .helpers import SENTINEL_KEY, TASK_BODY, Recorder, json_response

INTEGER_400 = {"error": {"code": 400, "message": "Bad request", "type": "invalid_request_error"}}


def test_an_integer_envelope_code_is_kept_as_an_integer_on_every_operation(
    api: SeedreamAPI, recorder: Recorder
) -> None:
    recorder.reply = json_response(400, INTEGER_400)
    calls = (
        api.get_credits,
        api.list_tasks,
        lambda: api.get_task("task-unified-1-x"),
        lambda: api.create_generation("a"),
    )
    for call in calls:
        with pytest.raises(BadRequestError) as caught:
            call()
        assert caught.value.code == 400 and type(caught.value.code) is int
        assert str(caught.value).startswith("HTTP 400 400: Bad request")


def test_a_string_code_stays_a_string(api: SeedreamAPI, recorder: Recorder) -> None:
    recorder.reply = json_response(400, {"error": {"code": "400", "message": "m", "type": "t"}})
    with pytest.raises(BadRequestError) as caught:
        api.get_credits()
    assert caught.value.code == "400"


def test_a_failed_task_with_an_integer_code_is_a_task_failure_carrying_it(api: SeedreamAPI, recorder: Recorder) -> None:
    recorder.reply = json_response(200, {**TASK_BODY, "status": "failed", "error": {"code": 500, "message": "boom"}})
    task = api.get_task("task-unified-1-x")  # an answer like any other, not an unusable one
    with pytest.raises(TaskFailedError) as caught:
        raise_for_task_status(task)
    assert caught.value.code == 500 and caught.value.retryable  # an unknown code counts as server side
    assert "failed: 500: boom" in str(caught.value)


def test_a_simulated_task_failing_with_an_integer_code_reaches_the_caller_and_the_cli_json_as_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = SimulatorConfig.for_tests(api_keys=(SENTINEL_KEY,), time_scale=0.01)
    with run_simulator(config) as server:
        with Seedream(SENTINEL_KEY, base_url=server.base_url, ledger=tmp_path / "l.sqlite3") as client:
            response = client.submit("a fox [sim:fail=400] [sim:duration=0]")
            with pytest.raises(TaskFailedError) as caught:
                client.wait(response, timeout=30)
        assert caught.value.code == 400
        env = {"EVOLINK_API_KEY": SENTINEL_KEY, "SEEDREAM_BASE_URL": server.base_url,
               "SEEDREAM_LEDGER": str(tmp_path / "cli.sqlite3")}  # fmt: skip
        result = CliRunner().invoke(app, ["wait", str(response.id), "--json"], env=env)
    assert result.exit_code == 3
    assert json.loads(result.stdout.splitlines()[0])["error"]["code"] == 400
