"""The plugin's ``seedream_simulator`` fixture, and both fixtures driving the real client, from a user's suite."""

from __future__ import annotations

import pytest

# pytester is enabled here rather than in a conftest: pytest refuses `pytest_plugins` in non-root conftests.
pytest_plugins = ["pytester"]

INI = """
[pytest]
addopts = --strict-markers -p no:cacheprovider -p no:randomly
filterwarnings = error
"""

WAIT = """
import time

def wait_for_end(api, task_id, limit=10.0):
    deadline = time.monotonic() + limit
    while True:
        task = api.get_task(task_id)
        if str(task.status) in ("completed", "failed", "cancelled") or time.monotonic() > deadline:
            return task
        time.sleep(0.01)
"""


@pytest.fixture
def user_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.makepyfile(waiting=WAIT)
    return pytester


def _outcomes(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=source)
    return pytester.runpytest_inprocess()


def test_simulator_fixture_serves_the_api_on_loopback_for_the_client_built_from_the_environment(
    user_project: pytest.Pytester,
) -> None:
    result = _outcomes(
        user_project,
        """
import os
import pytest
from seedream import SeedreamAPI
from waiting import wait_for_end

@pytest.mark.seedream(time_scale=0.001)
def test_generate(seedream_simulator):
    assert seedream_simulator.base_url.startswith("http://127.0.0.1:")
    assert os.environ["SEEDREAM_BASE_URL"] == seedream_simulator.base_url
    assert os.environ["EVOLINK_API_KEY"] == seedream_simulator.api_key
    with SeedreamAPI(allow_internal_callbacks=True) as api:
        created = api.create_generation("a lake at dawn", n=2, size="16:9", quality="2K")
        task = wait_for_end(api, created.id)
    assert str(task.status) == "completed" and len(task.results) == 2
    assert seedream_simulator.counters()["tasks_created"] == 1

def test_each_test_gets_a_fresh_simulator(seedream_simulator):
    assert seedream_simulator.counters()["tasks_created"] == 0
""",
    )
    result.assert_outcomes(passed=2)


def test_n_fail_and_task_failure_steer_the_simulator(user_project: pytest.Pytester) -> None:
    result = _outcomes(
        user_project,
        """
import pytest
from seedream import SeedreamAPI, ServerError, RateLimitError
from seedream.testing._spec_cases import response_example
from waiting import wait_for_end

@pytest.mark.seedream(n_fail=2, time_scale=0.001)
def test_first_two_fail(seedream_simulator):
    expected = response_example("createImageGeneration", 500)["error"]
    with SeedreamAPI() as api:
        for _ in range(2):
            with pytest.raises(ServerError) as caught:
                api.create_generation("a lake")
            assert (caught.value.code, caught.value.message) == (expected["code"], expected["message"])
        assert api.create_generation("a lake").id.startswith("task-unified-")
    assert seedream_simulator.counters()["tasks_created"] == 1

@pytest.mark.seedream(task_failure="content_policy_violation", time_scale=0.001)
def test_tasks_fail_with_the_code(seedream_simulator):
    with SeedreamAPI() as api:
        task = wait_for_end(api, api.create_generation("a lake").id)
    assert str(task.status) == "failed" and task.error.code == "content_policy_violation"

@pytest.mark.seedream(faults={"429": 1.0})
def test_every_request_rate_limited(seedream_simulator):
    with SeedreamAPI() as api, pytest.raises(RateLimitError):
        api.create_generation("a lake")
    assert seedream_simulator.counters()["tasks_created"] == 0
""",
    )
    result.assert_outcomes(passed=3)


def test_bad_simulator_options_are_named(user_project: pytest.Pytester) -> None:
    result = _outcomes(
        user_project,
        """
import pytest

@pytest.mark.seedream(time_scael=0.1)
def test_typo(seedream_simulator):
    pass

@pytest.mark.seedream(polls=2)
def test_respx_only(seedream_simulator):
    pass

@pytest.mark.seedream(faults={"500": 0.5})
def test_unknown_fault(seedream_simulator):
    pass

@pytest.mark.seedream(time_scale=-1)
def test_bad_value(seedream_simulator):
    pass
""",
    )
    result.assert_outcomes(errors=4)
    result.stdout.fnmatch_lines_random(
        [
            "*time_scael*",
            "*polls only apply to seedream_respx*",
            "*faults knows 5xx, 429, drop, latency (got '500')*",
            "*time_scale: a positive finite number*",
        ]
    )


def test_respx_fixture_answers_the_guarded_client_built_from_the_environment(user_project: pytest.Pytester) -> None:
    result = _outcomes(
        user_project,
        """
import asyncio
import pytest
from seedream import AsyncSeedreamAPI, SeedreamAPI, NotFoundError, RequestValidationError

def test_sync(seedream_respx):
    with SeedreamAPI() as api:
        created = api.create_generation("a lake", n=3)
        assert str(api.get_task(created.id).status) == "processing"
        done = api.get_task(created.id)
        assert str(done.status) == "completed" and len(done.results) == 3
        with pytest.raises(NotFoundError):
            api.get_task("task-unified-0-missing")
        with pytest.raises(RequestValidationError):
            api.create_generation("a lake", size="100x100")
    assert seedream_respx.create_route.call_count == 1

@pytest.mark.seedream(polls=0)
def test_async(seedream_respx):
    async def go():
        async with AsyncSeedreamAPI() as api:
            created = await api.create_generation("a lake")
            return await api.get_task(created.id)
    assert str(asyncio.run(go()).status) == "completed"
""",
    )
    result.assert_outcomes(passed=2)
