"""The balance, the task list and ``max_credits``: `seedream credits`, `seedream tasks`, `--max-credits`, and the
client methods behind them, against a simulator thread on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from seedream import Prices, RequestValidationError, Seedream
from seedream.simulator import SimulatorConfig, run_simulator
from seedream.simulator._server import RunningSimulator

from .helpers import SENTINEL_KEY

# The CLI in-process (the key never in its output) and its environment, against this module's simulator.
from .test_cli import env, run

__all__ = ["env"]  # a fixture: used by name

PER_IMAGE = 1.8  # what the simulator charges (the seed's credits_reserved example)


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    config = SimulatorConfig.for_tests(api_keys=(SENTINEL_KEY,), time_scale=0.01, credits=10.0)
    with run_simulator(config) as server:
        yield server


def posts(server: RunningSimulator) -> int:
    return sum(server.counters()["requests"].get("POST /v1/images/generations", {}).values())


def client(server: RunningSimulator, tmp_path: Path, **kwargs: object) -> Seedream:
    return Seedream(SENTINEL_KEY, base_url=server.base_url, ledger=tmp_path / "l.sqlite3", **kwargs)  # type: ignore[arg-type]


# -- seedream credits -------------------------------------------------------------------------------------------------


def test_credits_json_shows_the_simulated_balance_and_what_can_be_spent(env: dict[str, str]) -> None:
    code, out, _ = run(env, "credits", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["available"] == 10.0
    assert data["user"] == {"remaining_credits": 10.0, "used_credits": 0.0}
    assert data["token"]["unlimited_credits"] is True


def test_credits_follow_what_a_generation_charged(env: dict[str, str], tmp_path: Path) -> None:
    assert run(env, "generate", "a fox", "-n", "2", "--no-wait", "--out", str(tmp_path))[0] == 0
    code, out, _ = run(env, "credits")
    assert code == 0
    left = 10.0 - 2 * PER_IMAGE
    assert f"available  {left:g} credits" in out and f"{2 * PER_IMAGE:g} used" in out


def test_credits_without_a_key_exits_2(env: dict[str, str]) -> None:
    code, _, err = run({**env, "EVOLINK_API_KEY": ""}, "credits")
    assert code == 2 and "EVOLINK_API_KEY" in err


# -- seedream tasks ---------------------------------------------------------------------------------------------------


def test_tasks_lists_the_account_s_tasks_newest_first_with_filters(
    env: dict[str, str], simulator: RunningSimulator, tmp_path: Path
) -> None:
    with client(simulator, tmp_path) as seedream:
        first = str(seedream.submit("one").id)
        second = str(seedream.submit("two [sim:fail=content_policy_violation] [sim:duration=0]").id)
        seedream.wait(first, timeout=30)
    code, out, _ = run(env, "tasks", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [item["id"] for item in listed["data"]] == [second, first] and listed["total"] == 2
    code, out, _ = run(env, "tasks", "--status", "completed", "--json")
    assert [item["id"] for item in json.loads(out)["data"]] == [first]
    code, out, _ = run(env, "tasks", "--page-size", "1", "--page", "2")
    assert code == 0 and first in out and second not in out and "page 2 (1 shown of 2)" in out


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (("--page", "0"), "--page"),
        (("--page-size", "101"), "--page-size"),
        (("--status", "queued"), "--status"),
        (("--type", "movie"), "--type"),
    ],
)
def test_tasks_with_a_bad_filter_exits_2_naming_the_flag_and_sends_nothing(
    env: dict[str, str], simulator: RunningSimulator, args: tuple[str, ...], flag: str
) -> None:
    code, _, err = run(env, "tasks", *args)
    assert code == 2 and f"error: {flag}:" in err
    assert "GET /v1/tasks" not in simulator.counters()["requests"]


# -- --max-credits / max_credits= ------------------------------------------------------------------------------------


def test_max_credits_below_the_estimate_refuses_before_any_post_or_ledger_row(
    env: dict[str, str], simulator: RunningSimulator, tmp_path: Path
) -> None:
    code, _, err = run(env, "generate", "a fox", "-n", "3", "--max-credits", "5", "--out", str(tmp_path))
    assert code == 2
    assert "--max-credits:" in err and "estimated 6.6 credits" in err and "not the vendor's bill" in err
    assert posts(simulator) == 0 and simulator.counters()["requests"] == {}  # the cap refuses without a request
    code, out, _ = run(env, "ledger", "list", "--json")
    assert json.loads(out) == []


def test_max_credits_above_the_estimate_but_a_short_balance_refuses_before_any_post(
    env: dict[str, str], simulator: RunningSimulator, tmp_path: Path
) -> None:
    code, _, err = run(env, "generate", "a fox", "-n", "5", "--max-credits", "100", "--out", str(tmp_path), "--json")
    assert code == 2
    assert "balance:" in err and "above the 10 credits available" in err
    assert posts(simulator) == 0 and simulator.counters()["requests"] == {"GET /v1/credits": {"200": 1}}


def test_max_credits_covering_the_estimate_and_the_balance_generates(
    env: dict[str, str], simulator: RunningSimulator, tmp_path: Path
) -> None:
    code, out, err = run(env, "generate", "a fox", "-n", "2", "--max-credits", "5", "--out", str(tmp_path))
    assert code == 0, err
    assert out.count("sha256") == 2 and posts(simulator) == 1
    assert "estimated 4.4 credits" in err and "cap 5" in err


def test_the_price_for_estimates_is_configurable(
    env: dict[str, str], simulator: RunningSimulator, tmp_path: Path
) -> None:
    args = ("generate", "a fox", "-n", "3", "--max-credits", "5", "--no-wait", "--out", str(tmp_path))
    assert run(env, *args, "--credits-per-image", "1.5")[0] == 0  # 4.5 fits under the cap of 5
    assert run(env, *args)[0] == 2  # 6.6 at the published price does not
    assert posts(simulator) == 1


def test_client_level_max_credits_applies_to_every_submit_and_a_call_may_override_it(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    with client(simulator, tmp_path, max_credits=3.0, prices=Prices(per_image=2.0)) as seedream:
        with pytest.raises(RequestValidationError) as caught:
            seedream.submit("a fox", n=2)
        assert caught.value.field == "max_credits" and caught.value.value == 3.0 and "4 credits" in caught.value.rule
        assert posts(simulator) == 0 and seedream.ledger.entries() == []
        seedream.submit("a fox", n=2, max_credits=8.0)
        assert posts(simulator) == 1


def test_generate_with_max_credits_passes_it_to_submit(simulator: RunningSimulator, tmp_path: Path) -> None:
    with client(simulator, tmp_path) as seedream, pytest.raises(RequestValidationError) as caught:
        seedream.generate("a fox", n=15, directory=tmp_path, max_credits=30.0)
    assert caught.value.field == "max_credits" and posts(simulator) == 0


def test_a_bad_max_credits_is_refused_naming_the_field(simulator: RunningSimulator, tmp_path: Path) -> None:
    with client(simulator, tmp_path) as seedream:
        for bad in (-1, float("nan"), "5", True):
            with pytest.raises(RequestValidationError) as caught:
                seedream.submit("a fox", max_credits=bad)  # type: ignore[arg-type]
            assert caught.value.field == "max_credits"
    assert simulator.counters()["requests"] == {}


def test_client_credits_and_list_tasks(simulator: RunningSimulator, tmp_path: Path) -> None:
    with client(simulator, tmp_path) as seedream:
        assert seedream.credits().available == 10.0
        task_id = str(seedream.submit("a fox", n=1).id)
        balance = seedream.credits()
        assert balance.available == pytest.approx(10.0 - PER_IMAGE) and balance.user_used == pytest.approx(PER_IMAGE)
        listed = seedream.list_tasks(model="doubao-seedream-5.0-lite")
        assert [item.id for item in listed.data] == [task_id] and listed.data[0].credits_used == PER_IMAGE
        assert seedream.list_tasks(model="another-model").data == []


# -- seedream batch --max-credits reads the real balance ------------------------------------------------------------


def test_batch_max_credits_reads_the_balance_and_refuses_a_batch_it_cannot_cover(
    env: dict[str, str], simulator: RunningSimulator, tmp_path: Path
) -> None:
    batch = tmp_path / "b.jsonl"
    batch.write_text(json.dumps({"prompt": "a", "n": 3}) + "\n" + json.dumps({"prompt": "b", "n": 3}) + "\n")
    code, _, err = run(env, "batch", str(batch), "--max-credits", "100")
    assert code == 2 and "balance" in err and "13.2 credits" in err
    assert posts(simulator) == 0 and simulator.counters()["requests"] == {"GET /v1/credits": {"200": 1}}


def test_batch_max_credits_within_the_balance_runs(
    env: dict[str, str], simulator: RunningSimulator, tmp_path: Path
) -> None:
    batch = tmp_path / "b.jsonl"
    batch.write_text(json.dumps({"prompt": "a [sim:duration=1]", "n": 1}) + "\n")
    code, out, err = run(env, "batch", str(batch), "--max-credits", "5", "--poll-scale", "0.01", "--no-sheet", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["estimate"]["balance"] == 10.0 and posts(simulator) == 1


def test_a_failed_balance_read_is_not_reported_as_a_possibly_charged_task() -> None:
    from seedream import ServerError
    from seedream._cli import _hint

    def server_error(method: str) -> ServerError:
        request = httpx.Request(method, "https://api.evolink.ai/v1/credits")
        return ServerError("boom", status=500, response=httpx.Response(500, request=request))

    assert _hint(server_error("GET"), posting=True) == ""
    assert "may still have been created and charged" in _hint(server_error("POST"), posting=True)


def test_the_async_client_refuses_before_any_post_and_lists_and_reads_the_balance(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    import asyncio

    from seedream import AsyncSeedream

    async def go() -> None:
        async with AsyncSeedream(SENTINEL_KEY, base_url=simulator.base_url, ledger=tmp_path / "a.sqlite3") as seedream:
            with pytest.raises(RequestValidationError) as caught:
                await seedream.submit("a fox", n=5, max_credits=20.0)  # 11 credits: within the cap, above the 10
            assert caught.value.field == "balance" and posts(simulator) == 0
            assert seedream.ledger.entries() == []
            task_id = str((await seedream.submit("a fox", n=1, max_credits=20.0)).id)
            assert [item.id for item in (await seedream.list_tasks()).data] == [task_id]
            assert (await seedream.credits()).available == pytest.approx(10.0 - PER_IMAGE)

    asyncio.run(go())
