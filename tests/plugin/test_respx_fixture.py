"""The plugin's ``seedream_respx`` fixture and ``seedream`` marker, seen from a user's test suite (pytester)."""

from __future__ import annotations

import pytest

# pytester is enabled here rather than in a conftest: pytest refuses `pytest_plugins` in non-root conftests.
pytest_plugins = ["pytester"]

INI = """
[pytest]
addopts = --strict-markers -p no:cacheprovider -p no:randomly
filterwarnings = error
"""

HELPERS = """
import os
import httpx

def create(body=None, key=None):
    key = key or os.environ["EVOLINK_API_KEY"]
    body = {"model": "doubao-seedream-5.0-lite", "prompt": "a lake"} if body is None else body
    with httpx.Client(base_url=os.environ["SEEDREAM_BASE_URL"], headers={"Authorization": f"Bearer {key}"}) as c:
        return c.post("/v1/images/generations", json=body)

def task(task_id, key=None):
    key = key or os.environ["EVOLINK_API_KEY"]
    with httpx.Client(base_url=os.environ["SEEDREAM_BASE_URL"], headers={"Authorization": f"Bearer {key}"}) as c:
        return c.get(f"/v1/tasks/{task_id}")
"""


@pytest.fixture
def user_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.makepyfile(userhelpers=HELPERS)
    return pytester


def _passes(pytester: pytest.Pytester, source: str, passed: int = 1) -> None:
    pytester.makepyfile(test_user=source)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=passed)


def test_a_created_task_reports_processing_then_completes_with_downloadable_images(
    user_project: pytest.Pytester,
) -> None:
    _passes(
        user_project,
        """
import httpx
from seedream._spec import validator_for
from userhelpers import create, task

TASK = "/components/schemas/TaskDetailResponse"

def test_flow(seedream_respx):
    made = create({"model": "doubao-seedream-5.0-lite", "prompt": "two lakes", "n": 2, "size": "16:9",
                   "quality": "2K", "model_params": {"output_format": "png"}})
    assert made.status_code == 200
    assert not list(validator_for("/components/schemas/ImageGenerationResponse").iter_errors(made.json()))
    task_id = made.json()["id"]
    assert task_id.startswith("task-unified-")
    first = task(task_id).json()
    assert first["status"] == "processing" and not list(validator_for(TASK).iter_errors(first))
    done = task(task_id).json()
    assert done["status"] == "completed" and done["progress"] == 100
    assert not list(validator_for(TASK).iter_errors(done))
    assert len(done["results"]) == 2
    image = httpx.get(done["results"][0])
    assert image.headers["content-type"] == "image/png" and image.content[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    from PIL import Image
    import io
    assert Image.open(io.BytesIO(image.content)).size == (2848, 1600)
    assert seedream_respx.create_route.call_count == 1 and seedream_respx.task_route.call_count == 2
    assert list(seedream_respx.tasks) == [task_id]
""",
    )


def test_n_fail_makes_the_first_generation_requests_fail_with_the_spec_example(user_project: pytest.Pytester) -> None:
    _passes(
        user_project,
        """
import pytest
from seedream.testing._spec_cases import response_example
from userhelpers import create

@pytest.mark.seedream(n_fail=2)
def test_two_failures_then_success(seedream_respx):
    assert [create().status_code for _ in range(3)] == [500, 500, 200]
    assert create().status_code == 200

@pytest.mark.seedream(n_fail=1, fail_status=429)
def test_rate_limited_once(seedream_respx):
    first = create()
    assert first.status_code == 429
    assert first.json() == response_example("createImageGeneration", 429)
    assert create().status_code == 200
""",
        passed=2,
    )


def test_task_failure_ends_tasks_failed_with_that_code(user_project: pytest.Pytester) -> None:
    _passes(
        user_project,
        """
import pytest
from userhelpers import create, task

@pytest.mark.seedream(task_failure="content_policy_violation", polls=0)
def test_fails(seedream_respx):
    body = task(create().json()["id"]).json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "content_policy_violation"
    assert "results" not in body
""",
    )


def test_requests_the_spec_rejects_get_its_documented_errors(user_project: pytest.Pytester) -> None:
    _passes(
        user_project,
        """
from seedream.testing._spec_cases import response_example
from userhelpers import create, task

def test_rejections(seedream_respx):
    assert create(key="sk-wrong").json() == response_example("createImageGeneration", 401)
    bad = create({"model": "doubao-seedream-5.0-lite", "prompt": "x", "n": 16})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_request"
    assert "n" in bad.json()["error"]["message"]
    # a prose rule the schema cannot express: pixel range of WIDTHxHEIGHT
    small = create({"model": "doubao-seedream-5.0-lite", "prompt": "x", "size": "100x100"})
    assert small.status_code == 400 and "size" in small.json()["error"]["message"]
    assert seedream_respx.tasks == {}
    assert task("abc").json() == response_example("getTaskDetail", 400)
    assert task("task-unified-0-nope").json() == response_example("getTaskDetail", 404)
    assert task("task-unified-0-nope", key="sk-wrong").status_code == 401
""",
    )


def test_marker_sets_the_key_and_unknown_options_are_named(user_project: pytest.Pytester) -> None:
    user_project.makepyfile(
        test_user="""
import os
import pytest
from userhelpers import create

@pytest.mark.seedream(api_key="sk-mine")
def test_key(seedream_respx):
    assert os.environ["EVOLINK_API_KEY"] == "sk-mine" == seedream_respx.api_key
    assert create().status_code == 200

@pytest.mark.seedream(pols=3)
def test_typo(seedream_respx):
    pass
"""
    )
    result = user_project.runpytest_inprocess()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*seedream_respx does not know pols*"])


def test_the_marker_is_registered_for_strict_markers(user_project: pytest.Pytester) -> None:
    result = user_project.runpytest_inprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.seedream(**options): configure the seedream_simulator*"])


def test_the_plugin_is_declared_as_a_pytest11_entry_point() -> None:
    from importlib.metadata import entry_points

    found = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert found.get("seedream") == "seedream.testing.plugin"


def test_the_plugin_costs_nothing_to_projects_that_do_not_use_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only this plugin, loaded the way the entry point loads it: other plugins import httpx themselves.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeini(INI.replace("-p no:randomly", "-p seedream.testing.plugin"))
    pytester.makepyfile(
        test_plain="""
import sys

def test_plugin_loaded_but_nothing_heavy_imported():
    assert "seedream.testing.plugin" in sys.modules
    heavy = {"httpx", "respx", "PIL", "starlette", "uvicorn", "jsonschema", "seedream_client",
             "seedream.testing._fixtures", "seedream.simulator", "schemathesis"}
    assert sorted(heavy & set(sys.modules)) == []
"""
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
