"""Layer 2b: the guarded client ``SeedreamAPI`` / ``AsyncSeedreamAPI`` against the bundled spec, with respx.

Every request it sends conforms (method, path, Bearer key, Content-Type, body
under Draft 2020-12 with formats); task ids stay one escaped path segment;
anything the spec or the prose rules reject is refused before a byte is
sent; every documented error status with the spec's own example body raises
the documented exception with the example's fields, and anything the spec
does not document raises ``UnexpectedResponseError``.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Iterator
from typing import Any, cast
from urllib.parse import unquote

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seedream import AsyncSeedreamAPI, SeedreamAPI, _rules
from seedream._errors import (
    STATUS_TO_ERROR,
    APIStatusError,
    RequestValidationError,
    ServerError,
    UnexpectedResponseError,
)
from seedream._spec import load_spec, request_body_validator
from seedream.testing._spec_cases import (
    AWKWARD_TASK_IDS,
    constraint_cases,
    documented_statuses,
    operation,
    request_problems,
    response_example,
    success_body,
)

BASE = "http://127.0.0.1:9"  # loopback: nothing could leave the machine even if interception failed
KEY = "sk-conformance-api"
CREATE = "/v1/images/generations"
FLAVORS = ["sync", "async"]


# Building an SSL context costs ~50 ms; the clients below get httpx's standard transport with one
# shared context, so they are the clients users get, only cheaper to make (respx patches httpcore).
_SSL = ssl.create_default_context()


def call(flavor: str, method: str, *args: Any, **kwargs: Any) -> Any:
    """One call through a fresh SeedreamAPI (sync) or AsyncSeedreamAPI (async), closed afterwards."""
    if flavor == "sync":
        with SeedreamAPI(api_key=KEY, base_url=BASE, transport=httpx.HTTPTransport(verify=_SSL)) as client:
            return getattr(client, method)(*args, **kwargs)

    async def go() -> Any:
        transport = httpx.AsyncHTTPTransport(verify=_SSL)
        async with AsyncSeedreamAPI(api_key=KEY, base_url=BASE, transport=transport) as client:
            return await getattr(client, method)(*args, **kwargs)

    return asyncio.run(go())


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post(CREATE, name="create").respond(200, json=success_body("createImageGeneration"))
        router.get(name="task").respond(200, json=success_body("getTaskDetail"))
        yield router


def _only_request(router: respx.MockRouter) -> httpx.Request:
    assert router.calls.call_count == 1, f"expected one request, {router.calls.call_count} sent"
    request: httpx.Request = router.calls.last.request
    return request


# --- what goes on the wire --------------------------------------------------------------------------

REQUEST_EXAMPLES = operation("createImageGeneration")[2]["requestBody"]["content"]["application/json"]["examples"]


@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize("example", list(REQUEST_EXAMPLES))
def test_each_spec_request_example_goes_out_unchanged_and_conforms(
    flavor: str, example: str, api: respx.MockRouter
) -> None:
    body = REQUEST_EXAMPLES[example]["value"]
    created = call(flavor, "create_generation_from_body", body)
    request = _only_request(api)
    assert request.method == "POST"
    assert request.url.raw_path == CREATE.encode()
    assert request_problems(request, api_key=KEY) == []
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == body
    assert created.id == success_body("createImageGeneration")["id"]


@pytest.mark.parametrize("flavor", FLAVORS)
def test_keyword_api_builds_a_conforming_body(flavor: str, api: respx.MockRouter) -> None:
    call(
        flavor,
        "create_generation",
        "a lake at dawn",
        n=2,
        size="2560x1440",
        quality="3K",
        image_urls=["https://cdn.example.com/ref.png"],
        output_format="png",
        web_search=True,
        callback_url="https://hooks.example.com/seedream",
        prompt_priority="standard",
    )
    request = _only_request(api)
    assert request_problems(request, api_key=KEY) == []
    sent = json.loads(request.content)
    assert sent["model_params"] == {"output_format": "png", "tools": [{"type": "web_search"}]}
    assert _rules.check_request(sent) == []


@pytest.mark.parametrize("flavor", FLAVORS)
def test_task_request_conforms_and_has_no_body(flavor: str, api: respx.MockRouter) -> None:
    task = success_body("getTaskDetail")
    got = call(flavor, "get_task", task["id"])
    request = _only_request(api)
    assert request.method == "GET"
    assert request.url.raw_path == f"/v1/tasks/{task['id']}".encode()
    assert request_problems(request, api_key=KEY) == []
    assert request.content == b""
    assert got.id == task["id"]
    assert str(got.status) == task["status"]


def _valid_bodies() -> st.SearchStrategy[dict[str, Any]]:
    import schemathesis
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(load_spec())))
    cases = schema[CREATE]["POST"].as_strategy(generation_mode=GenerationMode.POSITIVE)
    bodies: st.SearchStrategy[dict[str, Any]] = cases.map(lambda case: cast("dict[str, Any]", case.body))
    return bodies


def _invalid_bodies() -> st.SearchStrategy[Any]:
    import schemathesis
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(load_spec())))
    cases = schema[CREATE]["POST"].as_strategy(generation_mode=GenerationMode.NEGATIVE)
    return cases.map(lambda case: cast("dict[str, Any]", case.body))


FAST = settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@FAST
@given(body=_valid_bodies())
def test_a_body_the_spec_and_rules_accept_is_sent_as_is_and_one_they_reject_is_not(body: dict[str, Any]) -> None:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post(CREATE).respond(200, json=success_body("createImageGeneration"))
        violations = _rules.check_request(body)
        if violations:
            # schema-valid but against a prose rule (pixel range, aspect, references + n, internal callback)
            with pytest.raises(RequestValidationError) as caught:
                call("sync", "create_generation_from_body", body)
            assert caught.value.rule_id == violations[0].rule_id
            assert router.calls.call_count == 0
            return
        call("sync", "create_generation_from_body", body)
        request = _only_request(router)
        assert request_problems(request, api_key=KEY) == []
        assert json.loads(request.content) == body


@FAST
@given(body=_invalid_bodies())
def test_a_body_the_spec_rejects_never_leaves_the_process(body: Any) -> None:
    if not list(request_body_validator().iter_errors(body)):
        return  # schemathesis occasionally yields a body that is valid after all: nothing to refuse
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        with pytest.raises(RequestValidationError):
            call("sync", "create_generation_from_body", body)
        assert router.calls.call_count == 0


# --- both sides of every constraint, read from the spec ---------------------------------------------

CASES = constraint_cases()
EDGED = [c for c in CASES if c.inside is not None]


@pytest.mark.parametrize("case", EDGED, ids=[c.id for c in EDGED])
def test_body_just_inside_a_constraint_is_sent(case: Any, api: respx.MockRouter) -> None:
    call("sync", "create_generation_from_body", case.inside)
    request = _only_request(api)
    assert request_problems(request, api_key=KEY) == []
    assert json.loads(request.content) == case.inside


@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_body_just_outside_a_constraint_is_refused_naming_the_field_and_nothing_is_sent(
    flavor: str, case: Any, api: respx.MockRouter
) -> None:
    with pytest.raises(RequestValidationError) as caught:
        call(flavor, "create_generation_from_body", case.outside)
    assert caught.value.field == case.field
    assert api.calls.call_count == 0


# --- task ids ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize("task_id", AWKWARD_TASK_IDS)
def test_task_id_travels_as_one_escaped_path_segment(flavor: str, task_id: str, api: respx.MockRouter) -> None:
    call(flavor, "get_task", task_id)
    request = _only_request(api)
    prefix, segment = request.url.raw_path.decode("ascii").rsplit("/", 1)
    assert prefix == "/v1/tasks"
    assert unquote(segment) == task_id
    assert request.url.query == b""
    assert request_problems(request, api_key=KEY) == []


# --- error mapping ----------------------------------------------------------------------------------

DOCUMENTED = [
    (op, status)
    for op in ("createImageGeneration", "getTaskDetail")
    for status in documented_statuses(op)
    if status != 200
]


def _expected_class(status: int) -> type[APIStatusError]:
    return STATUS_TO_ERROR.get(status) or ServerError


def _raise_for(flavor: str, operation_id: str, response: httpx.Response) -> APIStatusError:
    with respx.mock(base_url=BASE) as router:
        if operation_id == "createImageGeneration":
            router.post(CREATE).mock(return_value=response)
            call_args: tuple[str, ...] = ("create_generation", "a lake at dawn")
        else:
            router.get(path__startswith="/v1/tasks/").mock(return_value=response)
            call_args = ("get_task", "task-unified-1-x")
        with pytest.raises(APIStatusError) as caught:
            call(flavor, *call_args)
        assert router.calls.call_count == 1
    return caught.value


@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize(("operation_id", "status"), DOCUMENTED, ids=[f"{o}-{s}" for o, s in DOCUMENTED])
def test_documented_status_with_the_spec_example_raises_the_documented_error(
    flavor: str, operation_id: str, status: int
) -> None:
    example = response_example(operation_id, status)
    assert isinstance(example, dict), f"the spec gives no example for {operation_id} {status}"
    error = _raise_for(flavor, operation_id, httpx.Response(status, json=example))
    assert type(error) is _expected_class(status)
    envelope = example["error"]
    assert error.status == status
    assert error.code == envelope.get("code")
    assert error.message == envelope.get("message")
    assert error.type == envelope.get("type")
    assert error.param == envelope.get("param")
    assert json.loads(error.body) == example


def test_every_error_status_any_operation_documents_has_a_class() -> None:
    for _, status in DOCUMENTED:
        assert _expected_class(status) is not UnexpectedResponseError


# Statuses no operation of the spec documents and that are not server errors.
UNDOCUMENTED = sorted(
    {201, 202, 204, 301, 302, 304, 405, 409, 410, 413, 415, 418, 422, 451}
    - {s for op in ("createImageGeneration", "getTaskDetail") for s in documented_statuses(op)}
)


@pytest.mark.parametrize("operation_id", ["createImageGeneration", "getTaskDetail"])
@pytest.mark.parametrize("status", UNDOCUMENTED)
def test_undocumented_status_raises_unexpected_response_error(operation_id: str, status: int) -> None:
    # even with a well-formed error envelope: the status itself is not in the spec
    body = {"error": {"code": "something", "message": "not in the spec", "type": "api_error"}}
    error = _raise_for("sync", operation_id, httpx.Response(status, json=body))
    assert type(error) is UnexpectedResponseError
    assert error.status == status


UNUSABLE_BODIES = [
    b"<html><body>502 Bad Gateway</body></html>",
    b"",
    b'{"error": ',
    b"[1, 2, 3]",
    b'"just a string"',
    b'{"error": "flat string"}',
]


@pytest.mark.parametrize("operation_id", ["createImageGeneration", "getTaskDetail"])
@pytest.mark.parametrize("body", UNUSABLE_BODIES, ids=repr)
def test_documented_client_error_status_without_the_error_envelope_is_unexpected(
    operation_id: str, body: bytes
) -> None:
    for status in documented_statuses(operation_id):
        if status == 200 or status >= 500 or _expected_class(status).__name__ == "RateLimitError":
            continue  # 5xx stays a server error and 429 a rate limit whatever the body (see _errors)
        error = _raise_for("sync", operation_id, httpx.Response(status, content=body))
        assert type(error) is UnexpectedResponseError, status
        assert error.status == status and error.body == body


@pytest.mark.parametrize("operation_id", ["createImageGeneration", "getTaskDetail"])
@pytest.mark.parametrize(
    "body",
    [*UNUSABLE_BODIES, b'{"id": 5}', b'{"status": ["completed"]}', b'{"task_info": "soon"}'],
    ids=repr,
)
def test_200_with_a_body_the_spec_does_not_describe_is_unexpected(operation_id: str, body: bytes) -> None:
    error = _raise_for("sync", operation_id, httpx.Response(200, content=body))
    assert type(error) is UnexpectedResponseError
    assert error.status == 200 and error.body == body
