"""The expectations profile and check_body: vendor examples pass, every drift kind is seen, allowed changes are not."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seedream import _spec
from seedream._expectations import KINDS, TASK_ID_PATTERN, check_body, check_response, compile_schema, profile, redact
from seedream.simulator import ManualClock, SimulatorConfig, create_app
from seedream.testing._drift_cases import CASES, correct_answer
from seedream.testing._spec_cases import documented_statuses, response_example, success_body

OPERATIONS = ("createImageGeneration", "getTaskDetail")  # the two whose 200 is one task
ALL_OPERATIONS = ("createImageGeneration", "getTaskDetail", "batchQueryTasks", "listTasks", "getCredits")
DOCUMENTED = [(op, status) for op in ALL_OPERATIONS for status in documented_statuses(op)]


def _vendor_example(operation: str, status: int) -> Any:
    # The 200 of createImageGeneration has no body example: its property examples make one.
    return success_body(operation) if status == 200 else response_example(operation, status)


@pytest.mark.parametrize(("operation", "status"), DOCUMENTED)
def test_every_documented_example_satisfies_spec_and_profile(operation: str, status: int) -> None:
    example = _vendor_example(operation, status)
    assert example is not None, f"{operation} {status} has no example"
    assert check_body(operation, status, json.dumps(example).encode()) == []


@pytest.mark.parametrize(("operation", "status"), DOCUMENTED)
def test_the_profile_requires_only_keys_the_vendor_examples_carry(operation: str, status: int) -> None:
    example = _vendor_example(operation, status)
    rules = profile(operation, status)
    assert set(rules["required"]) <= set(example)
    if "error" in rules["required"]:
        assert set(rules["properties"]["error"]["required"]) <= set(example["error"])


def test_every_error_envelope_expects_the_documented_type_of_its_status() -> None:
    for operation, status in DOCUMENTED:
        if status >= 400:
            expected = profile(operation, status)["properties"]["error"]["properties"]["type"]
            assert expected == {"enum": [response_example(operation, status)["error"]["type"]]}


def test_every_example_task_id_has_the_expected_shape() -> None:
    import re

    ids = [success_body(op)["id"] for op in OPERATIONS]
    ids.append(_spec.load_spec()["paths"]["/v1/tasks/{task_id}"]["get"]["parameters"][0]["example"])
    assert len(ids) == 3 and all(re.match(TASK_ID_PATTERN, i) for i in ids), ids


# -- the compiled checks agree with jsonschema on the spec part -------------------------------------


def _spec_schema(operation: str, status: int) -> dict[str, Any]:
    from seedream.testing._spec_cases import operation as find

    return find(operation)[2]["responses"][str(status)]["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_compiled_spec_checks_agree_with_jsonschema(case: Any) -> None:
    answer = case.apply(correct_answer(case.operation, case.status, case.task_status))
    try:
        body = json.loads(answer.body)
    except ValueError:
        return  # not JSON: neither validator has anything to judge
    status = case.status
    found: list[Any] = []
    compile_schema(_spec_schema(case.operation, status))(body, "", found)
    validator = _spec.operation_response_validator(case.operation, status)
    assert validator is not None
    assert (found == []) == validator.is_valid(body), (found, [e.message for e in validator.iter_errors(body)])


def test_an_unsupported_keyword_fails_at_compile_time_naming_it() -> None:
    with pytest.raises(ValueError, match="'oneOf'"):
        compile_schema({"oneOf": [{"type": "string"}]})
    with pytest.raises(ValueError, match="format 'date-time'"):
        compile_schema({"type": "string", "format": "date-time"})


def test_external_refs_are_refused() -> None:
    with pytest.raises(ValueError, match="only references inside the document"):
        compile_schema({"$ref": "other.yaml#/x"})


# -- the battery -------------------------------------------------------------------------------------


def test_the_battery_holds_at_least_twelve_drift_kinds_and_some_allowed_changes() -> None:
    drifts = [c for c in CASES if c.drift]
    assert len(drifts) >= 12 and len({c.name for c in CASES}) == len(CASES)
    assert len({kind for c in drifts for _, kind in c.expect}) >= 7
    assert sum(not c.drift for c in CASES) >= 8
    assert {kind for c in drifts for _, kind in c.expect} <= set(KINDS)


@pytest.mark.parametrize("case", [c for c in CASES if c.drift], ids=[c.name for c in CASES if c.drift])
def test_check_body_detects_each_drift_where_it_happened(case: Any) -> None:
    answer = case.apply(correct_answer(case.operation, case.status, case.task_status))
    found = check_body(case.operation, answer.status, answer.body, content_type=answer.content_type)
    assert {(d.pointer, d.kind) for d in found} >= set(case.expect), found
    assert all(d.operation == case.operation for d in found)


@pytest.mark.parametrize("case", [c for c in CASES if not c.drift], ids=[c.name for c in CASES if not c.drift])
def test_check_body_flags_no_allowed_change(case: Any) -> None:
    answer = case.apply(correct_answer(case.operation, case.status, case.task_status))
    assert check_body(case.operation, answer.status, answer.body, content_type=answer.content_type) == []


def test_cases_apply_only_to_the_answers_they_change() -> None:
    completed = json.loads(correct_answer("getTaskDetail", 200, "completed").body)
    case = next(c for c in CASES if c.name == "task results removed")
    assert case.applies_to("getTaskDetail", 200, completed)
    assert not case.applies_to("getTaskDetail", 200, {**completed, "status": "processing"})
    assert not case.applies_to("createImageGeneration", 200, completed)


# -- real answers of the simulator are clean ---------------------------------------------------------


def test_simulator_answers_of_every_kind_have_no_deviation() -> None:
    async def run() -> list[tuple[str, int, Any]]:
        clock = ManualClock()
        app = create_app(SimulatorConfig.for_tests(time_scale=1.0), clock=clock)
        seen: list[tuple[str, int, Any]] = []
        transport = httpx.ASGITransport(app=app)
        auth = {"Authorization": "Bearer sk-test"}
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://sim.test", headers=auth) as client:

                async def record(operation: str, response: httpx.Response) -> Any:
                    found = check_body(
                        operation, response.status_code, response.content, content_type=response.headers["content-type"]
                    )
                    seen.append((operation, response.status_code, found))
                    return response.json()

                model = "doubao-seedream-5.0-lite"
                ok = await record(
                    "createImageGeneration",
                    await client.post("/v1/images/generations", json={"model": model, "prompt": "[sim:duration=10]"}),
                )
                bad = await record(
                    "createImageGeneration",
                    await client.post(
                        "/v1/images/generations", json={"model": model, "prompt": "[sim:fail=service_error]"}
                    ),
                )
                for step in (0, 5, 10):
                    clock.advance(step)
                    await record("getTaskDetail", await client.get(f"/v1/tasks/{ok['id']}"))
                await record("getTaskDetail", await client.get(f"/v1/tasks/{bad['id']}"))
                await record("getTaskDetail", await client.get("/v1/tasks/nope"))
                await record("getTaskDetail", await client.get("/v1/tasks/task-unified-1-unknown"))
                await record(
                    "createImageGeneration", await client.post("/v1/images/generations", json={"model": model})
                )
                await record(
                    "createImageGeneration",
                    await client.post("/v1/images/generations", json={}, headers={"Authorization": "Bearer x"}),
                )
                ids = [ok["id"], bad["id"], "task-unified-1-unknown"]
                batch = await record("batchQueryTasks", await client.post("/v1/tasks/batch", json={"task_ids": ids}))
                assert len(batch["data"]) == 2
                await record("batchQueryTasks", await client.post("/v1/tasks/batch", json={"task_ids": ids * 17}))
                listed = await record("listTasks", await client.get("/v1/tasks", params={"page_size": 1}))
                assert listed["total"] == 2
                await record("listTasks", await client.get("/v1/tasks", params={"page_size": 0}))
                await record("getCredits", await client.get("/v1/credits"))
                await record("getCredits", await client.get("/v1/credits", headers={"Authorization": "Bearer x"}))
        finally:
            app.close()
        return seen

    seen = asyncio.run(run())
    assert {status for _, status, _ in seen} >= {200, 400, 401, 404}
    assert [found for *_, found in seen if found] == []


# -- redaction ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("queued", '"queued"'),
        (1757165031000, "1757165031000"),
        (None, "null"),
        ("https://cdn.example.com/a/b.png?X-Signature=secret", "https://cdn.example.com/…"),
        ("https://user:pw@cdn.example.com/x", "https://cdn.example.com/…"),
        ("The prompt contained my private words", "<string of 37 chars>"),
        ({"url": "x", "Weird key!": 1}, "{…, url}"),
        ([1, 2, 3], "<array of 3>"),
    ],
)
def test_redact_keeps_identifiers_and_hides_paths_and_free_text(value: Any, shown: str) -> None:
    assert redact(value) == shown


@pytest.mark.parametrize(
    "body", [None, [], "text", 3, {"error": None}, {"status": ["x"]}, {"results": "x"}, b"\xff\xfe", b""]
)
@pytest.mark.parametrize(("operation", "status"), [("getTaskDetail", 200), ("createImageGeneration", 400)])
def test_check_body_reports_rather_than_raises_on_any_body(body: Any, operation: str, status: int) -> None:
    assert check_body(operation, status, body) != []


# -- agreement with jsonschema on generated bodies ----------------------------------------------------

_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["pending", "completed", "failed", "image", "https://a.example/x.png", "/rel", "task-unified-1-a"]),
)
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def _bodies(operation: str, status: int) -> Any:
    example = _vendor_example(operation, status)

    def nested(value: Any) -> Any:
        if isinstance(value, dict):
            return st.fixed_dictionaries({}, optional={k: st.one_of(nested(v), _JSON) for k, v in value.items()})
        if isinstance(value, list):
            return st.lists(st.one_of(*(nested(v) for v in value[:1]), _JSON), max_size=3)
        return st.one_of(st.just(value), _SCALAR)

    return nested(example)


@pytest.mark.parametrize(
    ("operation", "status"), [("createImageGeneration", 200), ("getTaskDetail", 200), ("getTaskDetail", 400)]
)
def test_compiled_spec_checks_agree_with_jsonschema_on_generated_bodies(operation: str, status: int) -> None:
    check = compile_schema(_spec_schema(operation, status))
    validator = _spec.operation_response_validator(operation, status)
    assert validator is not None

    verdicts: Counter[bool] = Counter()

    @given(_bodies(operation, status))
    @settings(max_examples=300, deadline=None, database=None)
    def agree(body: Any) -> None:
        found: list[Any] = []
        check(body, "", found)
        verdicts[found == []] += 1
        assert (found == []) == validator.is_valid(body), (body, found)

    agree()
    assert verdicts[True] > 10 and verdicts[False] > 10, verdicts  # both verdicts were exercised


def test_check_response_judges_an_httpx_response_with_its_content_type() -> None:
    answer = correct_answer("createImageGeneration", 200)
    clean = httpx.Response(200, content=answer.body, headers={"content-type": "application/json"})
    assert check_response("createImageGeneration", clean) == []
    drifted = httpx.Response(
        200, content=answer.body.replace(b'"id"', b'"task_id"'), headers={"content-type": "text/plain"}
    )
    found = check_response("createImageGeneration", drifted)
    assert {d.key for d in found} == {
        ("createImageGeneration", "", "content-type"),
        ("createImageGeneration", "/id", "missing"),
    }
