"""schemathesis against the simulator, in-process (ASGI) and over real loopback (uvicorn).

All built-in checks, positive and negative generation. The only allowance is
the shared one in ``seedream.testing._schemathesis`` for rules the spec
cannot express (see that module). The simulator refuses internal callback
hosts here, as the real API does, and fetches nothing (``outbound="none"``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup

from seedream.simulator import RunningSimulator, SimulatorConfig, create_app, run_simulator
from seedream.testing._schemathesis import is_prose_rule_rejection, load_schema

# Small enough for CI, large enough to reach every branch: examples + coverage + fuzzing per operation.
MAX_EXAMPLES = 60
CONFIG = SimulatorConfig(api_keys=("sk-test",), seed=0, time_scale=0.01, outbound="none")
CASES: dict[str, int] = {"asgi": 0, "live": 0}


def _configure(schema: Any) -> Any:
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=MAX_EXAMPLES)
    return schema


# Module-level schemas: schemathesis.pytest.from_fixture needs pytest's removed Node._nodeid (pytest 9).
APP = create_app(CONFIG)
ASGI_SCHEMA = _configure(load_schema(app=APP))
LIVE_SCHEMA = _configure(load_schema(base_url="http://127.0.0.1:9"))  # the real base_url comes per call
SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=MAX_EXAMPLES)


@pytest.fixture(scope="module", autouse=True)
def _close_app() -> Iterator[None]:
    yield
    APP.close()


@pytest.fixture(scope="module")
def live_server() -> Iterator[RunningSimulator]:
    with run_simulator(CONFIG) as server:
        yield server


@ASGI_SCHEMA.parametrize()
@SETTINGS
def test_simulator_conforms_in_process(case: Any) -> None:
    CASES["asgi"] += 1
    case.call_and_validate()


@LIVE_SCHEMA.parametrize()
@SETTINGS
def test_simulator_conforms_over_loopback(case: Any, live_server: RunningSimulator) -> None:
    CASES["live"] += 1
    case.call_and_validate(base_url=live_server.base_url, timeout=10)


def test_cases_were_run() -> None:
    # Runs after the parametrized tests in this module (file order): make sure they generated something.
    assert CASES["asgi"] > 50 and CASES["live"] > 50, CASES
    print(f"schemathesis cases: {CASES}")


# -- the shared allowance for prose rules -----------------------------------------------------


def _positive_case(schema: Any, body: dict[str, Any]) -> Any:
    operation = schema["/v1/images/generations"]["POST"]
    strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    drawn: list[Any] = []

    @given(strategy)
    @settings(max_examples=1, database=None, phases=[Phase.generate], deadline=None)
    def draw(case: Any) -> None:
        drawn.append(case)

    draw()
    case = drawn[0]
    assert case.meta.generation.mode == GenerationMode.POSITIVE
    case.body = body
    return case


@pytest.mark.parametrize(
    "broken",
    [
        {"size": "100x100"},
        {"size": "5000x300"},
        {"n": 6, "image_urls": [f"https://img.example/{i}.png" for i in range(10)]},
        {"callback_url": "https://192.168.1.20/hook"},
    ],
)
def test_prose_rule_rejection_is_forgiven_only_by_the_shared_filter(broken: dict[str, Any]) -> None:
    request = {"model": "doubao-seedream-5.0-lite", "prompt": "x", **broken}
    _positive_case(ASGI_SCHEMA, request).call_and_validate()  # forgiven: the 400 names the broken field
    bare = schemathesis.openapi.from_dict(load_schema().raw_schema)
    bare.app = APP
    bare.config.update(headers={"Authorization": "Bearer sk-test"})
    with pytest.raises(FailureGroup, match="Schema-valid request rejected"):
        _positive_case(bare, request).call_and_validate()


@pytest.mark.parametrize(
    ("body", "status", "param", "expected"),
    [
        ({"model": "doubao-seedream-5.0-lite", "prompt": "x", "size": "100x100"}, 400, "size", True),
        ({"model": "doubao-seedream-5.0-lite", "prompt": "x", "size": "100x100"}, 400, "prompt", False),
        ({"model": "doubao-seedream-5.0-lite", "prompt": "x", "size": "100x100"}, 500, "size", False),
        ({"model": "doubao-seedream-5.0-lite", "prompt": "x", "size": "2048x2048"}, 400, "size", False),
        ({"model": "other", "prompt": "x", "size": "100x100"}, 400, "size", False),  # not schema-valid
        ("not a dict", 400, "size", False),
    ],
)
def test_is_prose_rule_rejection_is_narrow(body: Any, status: int, param: str, expected: bool) -> None:
    response = SimpleNamespace(
        status_code=status,
        content=json.dumps(
            {"error": {"code": "invalid_request", "message": "m", "type": "t", "param": param}}
        ).encode(),
    )
    assert is_prose_rule_rejection(body, response) is expected


def test_the_filter_is_registered_on_the_schema_not_globally() -> None:
    from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

    assert load_schema().hooks.defines("filter_failure")
    assert not GLOBAL_HOOK_DISPATCHER.defines("filter_failure")
