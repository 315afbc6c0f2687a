"""Workflow tests in a user's project: ``Seedream.generate`` under either fixture, without knowing about polling.

The fixtures swap the clients' keyword defaults for the test: under respx a
virtual clock (sleeping moves it on at once), under the simulator the poll
schedule scaled to its time. The user's test builds ``Seedream()`` as it
would in production code.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INI = """
[pytest]
addopts = --strict-markers -p no:cacheprovider -p no:randomly
filterwarnings = error
"""


@pytest.fixture
def user_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


def _run(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=source)
    return pytester.runpytest_inprocess()


def test_generate_against_respx_waits_on_a_virtual_clock(user_project: pytest.Pytester) -> None:
    result = _run(
        user_project,
        """
import os
import time
from seedream import Seedream

def test_generate(seedream_respx, tmp_path):
    with Seedream() as client:
        result = client.generate("a lake at dawn", n=2, directory=tmp_path)
    assert [f.path.parent for f in result.files] == [tmp_path, tmp_path]
    clock = seedream_respx.clock
    assert clock.sleeps >= 1 and clock.slept > 1  # it did wait between polls, in virtual seconds
    assert clock.now == clock.latest == clock.slept  # one timeline: this test's
    assert os.environ["SEEDREAM_LEDGER"].startswith(str(tmp_path.parent))

def test_defaults_are_restored_after_the_test():
    assert Seedream.__init__.__kwdefaults__["sleep"] is time.sleep
    assert Seedream.__init__.__kwdefaults__["clock"] is time.monotonic
""",
    )
    result.assert_outcomes(passed=2)


def test_async_tasks_side_by_side_share_virtual_time(user_project: pytest.Pytester) -> None:
    result = _run(
        user_project,
        """
import asyncio
import pytest
from seedream import AsyncSeedream

@pytest.mark.seedream(polls=3)
def test_many(seedream_respx, tmp_path):
    async def main():
        async with AsyncSeedream() as client:
            return await asyncio.gather(*(client.generate(f"lake {i}", directory=tmp_path) for i in range(8)))
    results = asyncio.run(main())
    assert all(len(r.files) == 1 for r in results)
    clock = seedream_respx.clock
    # eight waits side by side: no timeline got further than about one wait, not the sum of the eight
    assert clock.sleeps >= 8 * 3 and 0 < clock.latest < clock.slept / 4
""",
    )
    result.assert_outcomes(passed=1)


def test_explicit_client_arguments_win_over_the_fixtures_pace(user_project: pytest.Pytester) -> None:
    result = _run(
        user_project,
        """
from seedream import Seedream

def test_own_sleep(seedream_respx, tmp_path):
    slept = []
    with Seedream(sleep=slept.append, clock=lambda: 0.0) as client:
        client.wait(client.submit("a lake"), timeout=10)
    assert slept and seedream_respx.clock.sleeps == 0
""",
    )
    result.assert_outcomes(passed=1)


def test_generate_against_the_simulator_polls_on_its_time_scale(user_project: pytest.Pytester) -> None:
    result = _run(
        user_project,
        """
import pytest
from seedream import PollPolicy, Seedream

@pytest.mark.seedream(time_scale=0.005)
def test_generate(seedream_simulator, tmp_path):
    assert seedream_simulator.polling == PollPolicy().scaled(0.005)
    assert Seedream.__init__.__kwdefaults__["polling"] is seedream_simulator.polling
    with Seedream() as client:
        result = client.generate("a lake at dawn", n=2, directory=tmp_path)
    assert len(result.files) == 2
    assert seedream_simulator.counters()["tasks_created"] == 1

@pytest.mark.seedream(fast=False)
def test_real_pace_on_request(seedream_simulator):
    assert seedream_simulator.polling is None
    assert Seedream.__init__.__kwdefaults__["polling"] is None

@pytest.mark.seedream(fast="yes")
def test_bad_value(seedream_simulator):
    pass
""",
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*fast must be True or False (got 'yes')*"])


def test_without_respx_the_fixture_names_the_extra_to_install(user_project: pytest.Pytester) -> None:
    user_project.makeconftest(
        """
import sys
import pytest

@pytest.fixture(autouse=True)
def no_respx(monkeypatch):
    monkeypatch.setitem(sys.modules, "respx", None)  # as in a project that installed seedream alone
"""
    )
    result = _run(
        user_project,
        """
def test_uses_it(seedream_respx):
    pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*seedream_respx fixture needs respx*pip install 'seedream[[]testing[]]'"])
    assert "During handling" not in result.stdout.str()


def test_the_testing_extra_installs_what_the_fixtures_import() -> None:
    import re
    from importlib.metadata import requires

    testing = [r for r in requires("seedream") or [] if re.search(r"extra == .testing.", r)]
    assert any(r.startswith("respx") for r in testing) and any(r.startswith("pytest") for r in testing)
