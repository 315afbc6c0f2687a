"""The guarded client's ``get_credits`` and ``list_tasks``: one GET each, the query checked before sending."""

from __future__ import annotations

import json

import httpx
import pytest

from seedream import RequestValidationError, SeedreamAPI, UnexpectedResponseError
from seedream.testing._spec_cases import success_body

from .helpers import Recorder, json_response


def test_get_credits_is_one_get_with_the_key_and_parses_the_balance(api: SeedreamAPI, recorder: Recorder) -> None:
    recorder.reply = json_response(200, success_body("getCredits"))
    balance = api.get_credits()
    assert recorder.count == 1
    sent = recorder.requests[0]
    assert (sent.method, sent.url.path) == ("GET", "/v1/credits") and sent.headers["authorization"].startswith("Bearer")
    assert balance.to_dict() == success_body("getCredits")


def test_list_tasks_sends_only_the_filters_given(api: SeedreamAPI, recorder: Recorder) -> None:
    recorder.reply = json_response(200, success_body("listTasks"))
    listed = api.list_tasks(page=2, page_size=50, status="completed", type_="image", model="doubao-seedream-5.0-lite")
    assert dict(recorder.requests[0].url.params) == {
        "page": "2",
        "page_size": "50",
        "status": "completed",
        "type": "image",
        "model": "doubao-seedream-5.0-lite",
    }
    assert listed.to_dict() == success_body("listTasks")
    api.list_tasks()
    assert recorder.requests[1].url.query == b""


@pytest.mark.parametrize(
    ("kwargs", "field", "rule"),
    [
        ({"page": 0}, "page", "an integer >= 1"),
        ({"page": 1.5}, "page", "an integer >= 1"),
        ({"page": True}, "page", "an integer >= 1"),
        ({"page_size": 101}, "page_size", "an integer in [1, 100]"),
        ({"page_size": 0}, "page_size", "an integer in [1, 100]"),
        ({"status": "queued"}, "status", "one of pending, processing, completed, failed, cancelled"),
        ({"type_": "movie"}, "type", "one of image, video, audio, text"),
        ({"model": " "}, "model", "a non-empty string"),
    ],
)
def test_a_bad_filter_is_refused_naming_field_and_rule_before_anything_is_sent(
    api: SeedreamAPI, recorder: Recorder, kwargs: dict[str, object], field: str, rule: str
) -> None:
    with pytest.raises(RequestValidationError) as caught:
        api.list_tasks(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field and rule in caught.value.rule
    assert recorder.count == 0


def test_a_list_answer_of_the_wrong_shape_is_an_unusable_answer(api: SeedreamAPI, recorder: Recorder) -> None:
    recorder.reply = json_response(200, {"data": "not a list", "total": 1})
    with pytest.raises(UnexpectedResponseError) as caught:
        api.list_tasks()
    assert "body.data should be an array" in str(caught.value)


def test_a_balance_answer_that_drifts_is_used_and_recorded_by_the_drift_monitor(
    api: SeedreamAPI, recorder: Recorder
) -> None:
    body = success_body("getCredits")
    del body["data"]["token"]
    recorder.reply = httpx.Response(
        200, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    assert api.get_credits().to_dict() == body
    monitor = api.drift_monitor
    assert monitor is not None
    assert any(r.operation == "getCredits" and r.pointer == "/data/token" for r in monitor.records())
