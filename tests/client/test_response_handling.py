"""Never crash on what the server sends: tolerant parsing, typed errors for unusable bodies and every status.

Error bodies are the spec's own examples for each documented status of each
operation; nothing here hard-codes what the spec says.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seedream_client.models import TaskError, TaskInfo, TaskStatus, Usage

from seedream import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    InsufficientQuotaError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SeedreamAPI,
    ServerError,
    UnexpectedResponseError,
)
from seedream._errors import STATUS_TO_ERROR
from seedream.testing._spec_cases import documented_statuses, response_example

from .helpers import CREATED_BODY, SENTINEL_KEY, TASK_BODY, Recorder, json_response

TASK_ID = "task-unified-1756817821-4x3rx6ny"
OPERATIONS = ("createImageGeneration", "getTaskDetail")


def _call(api: SeedreamAPI, operation: str) -> Any:
    if operation == "createImageGeneration":
        return api.create_generation("a lake")
    return api.get_task(TASK_ID)


def _api(reply: Any) -> tuple[SeedreamAPI, Recorder]:
    recorder = Recorder(reply)
    return SeedreamAPI(SENTINEL_KEY, transport=recorder.transport), recorder


def _expected_class(status: int) -> type[APIStatusError]:
    return STATUS_TO_ERROR.get(status) or (ServerError if status >= 500 else UnexpectedResponseError)


# -- documented error statuses, with the spec's example bodies ----------------------------------------

ERROR_CASES = [
    (operation, status) for operation in OPERATIONS for status in documented_statuses(operation) if status != 200
]


def test_every_documented_error_status_has_a_class_of_its_own() -> None:
    statuses = {status for _, status in ERROR_CASES}
    assert {400, 401, 402, 403, 404, 429, 500} <= statuses
    classes = [_expected_class(s) for s in sorted(statuses)]
    assert len(set(classes)) == len(classes)
    assert _expected_class(400) is BadRequestError
    assert _expected_class(401) is AuthenticationError
    assert _expected_class(402) is InsufficientQuotaError
    assert _expected_class(403) is PermissionDeniedError
    assert _expected_class(404) is NotFoundError
    assert _expected_class(429) is RateLimitError
    assert _expected_class(500) is ServerError


@pytest.mark.parametrize(("operation", "status"), ERROR_CASES, ids=[f"{o}-{s}" for o, s in ERROR_CASES])
def test_a_documented_error_status_raises_its_class_with_the_envelope_fields(operation: str, status: int) -> None:
    example = response_example(operation, status)
    assert example is not None, "the spec gives an example for every documented error"
    headers = {"x-request-id": "req-123"}
    api, recorder = _api(json_response(status, example, headers))
    with api, pytest.raises(APIStatusError) as caught:
        _call(api, operation)
    error = caught.value
    assert type(error) is _expected_class(status)
    envelope = example["error"]
    assert error.status == status
    assert error.code == envelope.get("code")
    assert error.message == envelope.get("message")
    assert error.type == envelope.get("type")
    assert error.param == envelope.get("param")
    assert error.request_id == "req-123"
    assert error.headers["x-request-id"] == "req-123"
    assert json.loads(error.body) == example
    assert error.response is not None and error.response.status_code == status
    assert recorder.count == 1
    assert f"HTTP {status}" in str(error) and envelope["message"] in str(error)


def test_model_access_denied_is_a_permission_error_with_its_code() -> None:
    example = response_example("createImageGeneration", 403)
    api, _ = _api(json_response(403, example))
    with api, pytest.raises(PermissionDeniedError) as caught:
        api.create_generation("a lake")
    assert caught.value.code == "model_access_denied"


def test_invalid_task_id_carries_the_param_at_fault() -> None:
    example = response_example("getTaskDetail", 400)
    api, _ = _api(json_response(400, example))
    with api, pytest.raises(BadRequestError) as caught:
        api.get_task("not-a-task")
    assert caught.value.param == "task_id"


# -- 429 and Retry-After ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), ("0", 0.0), ("2.5", 2.5), (None, None), ("soon", None), ("-3", 0.0)],
)
def test_rate_limit_carries_retry_after_seconds_when_sent(header: str | None, expected: float | None) -> None:
    headers = {"retry-after": header} if header is not None else {}
    api, _ = _api(json_response(429, response_example("createImageGeneration", 429), headers))
    with api, pytest.raises(RateLimitError) as caught:
        api.create_generation("a lake")
    assert caught.value.retry_after == expected
    assert caught.value.code == "rate_limit_exceeded"


def test_rate_limit_retry_after_as_an_http_date() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    api, _ = _api(json_response(429, response_example("createImageGeneration", 429), {"retry-after": when}))
    with api, pytest.raises(RateLimitError) as caught:
        api.create_generation("a lake")
    assert caught.value.retry_after is not None and 20 < caught.value.retry_after <= 31


def test_a_429_from_a_proxy_without_the_envelope_is_still_a_rate_limit_with_retry_after() -> None:
    api, _ = _api(httpx.Response(429, text="Too Many Requests", headers={"retry-after": "12"}))
    with api, pytest.raises(RateLimitError) as caught:
        api.create_generation("a lake")
    assert caught.value.retry_after == 12.0
    assert caught.value.body == b"Too Many Requests"


# -- statuses nobody documented ----------------------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_non_iana_status_520_is_a_server_error_carrying_status_headers_and_body(operation: str) -> None:
    body = b"<html><body>Web server is returning an unknown error</body></html>"
    api, _ = _api(httpx.Response(520, content=body, headers={"content-type": "text/html", "cf-ray": "abc"}))
    with api, pytest.raises(ServerError) as caught:
        _call(api, operation)
    error = caught.value
    assert error.status == 520 and error.body == body and error.headers["cf-ray"] == "abc"
    assert error.code is None and "520" in str(error)


def test_an_html_502_from_a_gateway_is_a_server_error_with_the_raw_page() -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    api, _ = _api(httpx.Response(502, content=page, headers={"content-type": "text/html"}))
    with api, pytest.raises(ServerError) as caught:
        api.create_generation("a lake")
    assert caught.value.status == 502 and caught.value.body == page
    assert "502 Bad Gateway" in str(caught.value)


@pytest.mark.parametrize("status", [201, 204, 301, 302, 304, 405, 409, 418, 422, 451, 600, 999])
def test_an_undocumented_status_is_an_unexpected_response(status: int) -> None:
    api, _ = _api(httpx.Response(status, content=b'{"whatever": 1}', headers={"location": "https://elsewhere"}))
    with api, pytest.raises(UnexpectedResponseError) as caught:
        api.create_generation("a lake")
    assert caught.value.status == status and caught.value.body == b'{"whatever": 1}'


def test_a_documented_4xx_without_the_envelope_is_an_unexpected_response_not_a_misleading_class() -> None:
    # a 404 HTML page means a wrong base URL far more often than an unknown task
    api, _ = _api(httpx.Response(404, content=b"<html>Not Found</html>"))
    with api, pytest.raises(UnexpectedResponseError) as caught:
        api.get_task(TASK_ID)
    assert caught.value.status == 404


# -- unusable 200 bodies ----------------------------------------------------------------------------

MALFORMED_200: list[tuple[str, bytes]] = [
    ("empty", b""),
    ("html", b"<html><body>maintenance</body></html>"),
    ("truncated json", json.dumps(CREATED_BODY).encode()[:-7]),
    ("not utf-8", b'{"id": "\xff\xfe"}'),
    ("a json list", b'[{"id": "task-unified-1"}]'),
    ("a json string", b'"task-unified-1"'),
    ("a json number", b"42"),
    ("json null", b"null"),
    ("nan", b"NaN"),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000),
    ("a 5000-digit integer", b'{"id": "task-unified-1", "created": ' + b"9" * 5000 + b"}"),
    ("id a number", b'{"id": 5}'),
    ("status a number", b'{"id": "task-unified-1", "status": 3}'),
    ("progress a string", b'{"id": "task-unified-1", "progress": "50"}'),
    ("progress a bool", b'{"id": "task-unified-1", "progress": true}'),
    ("progress 12.5", b'{"id": "task-unified-1", "progress": 12.5}'),
    ("task_info a string", b'{"id": "task-unified-1", "task_info": "soon"}'),
    ("task_info.can_cancel a string", b'{"id": "task-unified-1", "task_info": {"can_cancel": "no"}}'),
    ("usage a list", b'{"id": "task-unified-1", "usage": []}'),
    ("usage.credits_reserved a string", b'{"id": "task-unified-1", "usage": {"credits_reserved": "1.8"}}'),
    ("created a float", b'{"id": "task-unified-1", "created": 1.5}'),
    ("no id at all", b'{"status": "pending"}'),
    ("an empty id", b'{"id": ""}'),
]


@pytest.mark.parametrize(("case", "body"), MALFORMED_200, ids=[c[0] for c in MALFORMED_200])
def test_an_unusable_200_to_a_create_is_an_unexpected_response_with_the_raw_body(case: str, body: bytes) -> None:
    api, _ = _api(httpx.Response(200, content=body, headers={"content-type": "application/json", "x-request-id": "r1"}))
    with api, pytest.raises(UnexpectedResponseError) as caught:
        api.create_generation("a lake")
    error = caught.value
    assert error.status == 200 and error.body == body
    assert error.headers["x-request-id"] == "r1" and error.request_id == "r1"
    assert len(str(error)) < 600


MALFORMED_TASK_200: list[tuple[str, bytes]] = [
    ("html", b"<!doctype html><title>oops</title>"),
    ("results a string", b'{"id": "t", "status": "completed", "results": "https://x/1.png"}'),
    ("results holding a number", b'{"id": "t", "status": "completed", "results": ["https://x/1.png", 1]}'),
    ("results holding null", b'{"id": "t", "status": "completed", "results": [null]}'),
    ("error a string", b'{"id": "t", "status": "failed", "error": "boom"}'),
    ("error.code an object", b'{"id": "t", "status": "failed", "error": {"code": {"n": 500}}}'),
    ("a list", b"[]"),
]


@pytest.mark.parametrize(("case", "body"), MALFORMED_TASK_200, ids=[c[0] for c in MALFORMED_TASK_200])
def test_an_unusable_200_to_a_task_query_is_an_unexpected_response(case: str, body: bytes) -> None:
    api, _ = _api(httpx.Response(200, content=body))
    with api, pytest.raises(UnexpectedResponseError) as caught:
        api.get_task(TASK_ID)
    assert caught.value.body == body


def test_the_wrong_shape_message_names_the_field_and_what_it_should_be() -> None:
    api, _ = _api(httpx.Response(200, content=b'{"id": "t", "results": ["https://x/1.png", 7]}'))
    with api, pytest.raises(UnexpectedResponseError, match=r"body\.results\[1\] should be a string, got int"):
        api.get_task(TASK_ID)


# -- tolerance -------------------------------------------------------------------------------------


def test_the_spec_examples_parse_into_the_generated_models(api: SeedreamAPI) -> None:
    created = api.create_generation("a lake")
    assert created.id == CREATED_BODY["id"]
    task = api.get_task(TASK_ID)
    assert task.id == TASK_BODY["id"] and task.status is TaskStatus.COMPLETED
    assert task.results == TASK_BODY["results"]


def test_unknown_enum_values_are_kept_and_reported_unknown() -> None:
    body = {
        "id": "task-unified-1",
        "status": "paused",
        "object": "image.edit.task",
        "type": "hologram",
        "usage": {"billing_rule": "per_image", "credits_reserved": 2},
    }
    api, _ = _api(json_response(200, body))
    with api:
        created = api.create_generation("a lake")
    assert created.status == "paused" and not created.status.is_known
    assert created.object_ == "image.edit.task" and not created.object_.is_known
    assert created.type_ == "hologram" and not created.type_.is_known
    assert isinstance(created.usage, Usage)
    assert created.usage.billing_rule == "per_image" and not created.usage.billing_rule.is_known
    assert created.usage.credits_reserved == 2


def test_cancelled_is_a_known_status_and_parses() -> None:
    api, _ = _api(json_response(200, {"id": "task-unified-1", "status": "cancelled"}))
    with api:
        task = api.get_task("task-unified-1")
    assert task.status is TaskStatus.CANCELLED and task.status.is_known


def test_extra_fields_are_kept_at_every_level() -> None:
    body = {
        **TASK_BODY,
        "seed": 42,
        "task_info": {"can_cancel": False, "queue": 3},
        "error": {"code": "x", "message": "y", "trace": "abc"},
    }
    api, _ = _api(json_response(200, body))
    with api:
        task = api.get_task(TASK_ID)
    assert task.additional_properties == {"seed": 42}
    assert isinstance(task.task_info, TaskInfo) and isinstance(task.error, TaskError)
    assert task.task_info.additional_properties == {"queue": 3}
    assert task.error.additional_properties == {"trace": "abc"}


def test_missing_optional_fields_and_nulls_are_fine() -> None:
    api, _ = _api(json_response(200, {}))
    with api:
        task = api.get_task(TASK_ID)
    assert task.status is not None and not task.additional_properties
    body = {
        "id": "task-unified-1",
        "status": None,
        "task_info": {"can_cancel": None, "estimated_time": None},
        "usage": None,
    }
    api, _ = _api(json_response(200, body))
    with api:
        created = api.create_generation("a lake")
    assert created.id == "task-unified-1"
    assert isinstance(created.task_info, TaskInfo)
    assert not created.status and not created.usage and not created.task_info.estimated_time


def test_an_integral_float_is_taken_as_the_integer_it_is() -> None:
    api, _ = _api(json_response(200, {"id": "task-unified-1", "progress": 50.0, "created": 1757165031.0}))
    with api:
        created = api.create_generation("a lake")
    assert created.progress == 50 and type(created.progress) is int and type(created.created) is int


def test_out_of_range_values_are_not_judged_on_the_way_in() -> None:
    # ranges and formats are request-side business; a response is taken as sent
    api, _ = _api(json_response(200, {"id": "t", "progress": 130, "results": ["not a uri"]}))
    with api:
        task = api.get_task("t")
    assert task.progress == 130 and task.results == ["not a uri"]


# -- no stray exception, whatever arrives ------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(
    ["id", "status", "progress", "results", "task_info", "usage", "error", "created", "object", "type", "model"]
)
shaped = st.dictionaries(field_names, json_values, max_size=6)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(shaped, json_values), operation=st.sampled_from(OPERATIONS))
def test_any_json_200_body_gives_a_model_or_an_unexpected_response_never_another_exception(
    body: Any, operation: str
) -> None:
    api, _ = _api(json_response(200, body))
    with api:
        try:
            _call(api, operation)
        except UnexpectedResponseError as exc:
            assert exc.status == 200


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(status=st.integers(100, 999), content=st.binary(max_size=64) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_status_and_bytes_give_a_model_or_a_typed_status_error(status: int, content: bytes) -> None:
    api, _ = _api(httpx.Response(status, content=content))
    with api:
        try:
            api.get_task(TASK_ID)
        except APIStatusError as exc:
            assert exc.status == status and exc.body == content
            if status >= 500:
                assert isinstance(exc, ServerError) or status > 599
