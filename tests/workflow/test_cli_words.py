"""The `seedream` command speaks in its own words: flags, not library fields; rules in words, not regexes."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from seedream._cli import app
from seedream._ledger import Ledger
from seedream._rules import RATIOS
from seedream.simulator import SimulatorConfig, run_simulator
from seedream.simulator._server import RunningSimulator

from .helpers import SENTINEL_KEY

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with run_simulator(SimulatorConfig.for_tests(api_keys=(SENTINEL_KEY,), time_scale=0.01)) as server:
        yield server


@pytest.fixture
def env(simulator: RunningSimulator, tmp_path: Path) -> dict[str, str]:
    return {
        "EVOLINK_API_KEY": SENTINEL_KEY,
        "SEEDREAM_BASE_URL": simulator.base_url,
        "SEEDREAM_LEDGER": str(tmp_path / "cli-ledger.sqlite3"),
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert SENTINEL_KEY not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_version_prints_the_installed_version() -> None:
    code, out, _ = run({}, "--version")
    assert (code, out) == (0, f"seedream {version('seedream')}\n")


def test_missing_key_names_the_variable_and_no_library_argument(env: dict[str, str]) -> None:
    code, _, err = run({**env, "EVOLINK_API_KEY": ""}, "status", "task-unified-1-x")
    assert code == 2
    assert err.strip() == "error: no API key: set EVOLINK_API_KEY (export EVOLINK_API_KEY=sk-...)"


def test_callback_url_goes_with_the_request(env: dict[str, str], simulator: RunningSimulator) -> None:
    url = "https://hooks.example.test/seedream?token=abc"
    code, out, _ = run(env, "generate", "a lighthouse", "--callback-url", url, "--no-wait", "--json")
    assert code == 0
    task_id = json.loads(out)["task"]["id"]
    with Ledger(env["SEEDREAM_LEDGER"]) as ledger:
        entry = ledger.get(task_id)
    assert entry is not None and entry.params["callback_url"] == "https://hooks.example.test/seedream?<redacted>"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://hooks.example.test/cb", "https only"),
        ("https://127.0.0.1/cb", "must not be loopback"),
        ("https://hooks.example.test/" + "x" * 2048, "at most 2048 characters"),
    ],
)
def test_callback_url_breaking_a_library_rule_is_refused_naming_the_flag(
    env: dict[str, str], simulator: RunningSimulator, url: str, words: str
) -> None:
    code, _, err = run(env, "generate", "a lighthouse", "--callback-url", url)
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith("error: --callback-url: ") and words in line
    assert simulator.counters()["requests"] == {}


def test_an_unlisted_ratio_gets_the_allowed_ratios_and_the_pixel_range_in_words(
    env: dict[str, str], simulator: RunningSimulator
) -> None:
    code, _, err = run(env, "generate", "a lighthouse", "--size", "2:5")
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith("error: --size: ")
    assert all(ratio in line for ratio in RATIOS)
    assert "2560x1440 to 3072x3072" in line and "[1/16, 16]" in line
    assert "^(" not in line and "must match" not in line  # no regular expression
    assert simulator.counters()["requests"] == {}


def test_a_pixel_size_out_of_range_says_the_range(env: dict[str, str]) -> None:
    code, _, err = run(env, "generate", "a lighthouse", "--size", "100x100")
    assert code == 2
    assert "error: --size: " in err and "3,686,400 to 9,437,184 pixels" in err and "2560x1440 to 3072x3072" in err


def test_a_bad_reference_url_names_the_flag_and_which_one(env: dict[str, str]) -> None:
    code, _, err = run(env, "generate", "x", "--image-url", "https://a.example.test/1.png", "--image-url", "not a url")
    assert code == 2
    assert err.startswith("error: --image-url #2: ")


def test_quality_with_a_pixel_size_is_refused_and_nothing_is_sent(
    env: dict[str, str], simulator: RunningSimulator
) -> None:
    code, _, err = run(env, "generate", "a lighthouse", "--size", "2560x1440", "--quality", "3K")
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith("error: --quality: works only with a ratio size") and "--size 2560x1440" in line
    assert simulator.counters()["requests"] == {}


def test_a_wait_timeout_gives_its_advice_once(env: dict[str, str]) -> None:
    _, out, _ = run(env, "generate", "[sim:duration=3000] slow", "--no-wait", "--json")
    task_id = json.loads(out)["task"]["id"]
    code, _, err = run(env, "wait", task_id, "--timeout", "0.2")
    assert code == 4
    line = err.strip().splitlines()[-1]
    assert line.count(f"seedream wait {task_id}") == 1 and line.count("seedream resume") == 1
    assert err.count("seedream wait") == 1


def test_ledger_list_shows_whole_task_ids_on_a_narrow_terminal(env: dict[str, str]) -> None:
    ids = []
    for i in range(2):
        _, out, _ = run(env, "generate", f"a long prompt about lighthouses, number {i}, " * 3, "--no-wait", "--json")
        ids.append(json.loads(out)["task"]["id"])
    for columns in ("60", "80"):
        code, out, _ = run({**env, "COLUMNS": columns}, "ledger", "list")
        assert code == 0
        assert all(task_id in out for task_id in ids), out


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in group.commands.items():
        yield (*prefix, name)
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))


def test_help_shows_no_value_for_flags() -> None:
    root = typer.main.get_command(app)
    paths = [(), *_commands(root)]
    assert ("ledger", "list") in paths and ("generate",) in paths
    for path in paths:
        code, out, _ = run({"COLUMNS": "200"}, *path, "--help")
        assert code == 0, path
        assert "<bool>" not in out and "BOOLEAN" not in out, path
        assert "--help" in out, path
    code, out, _ = run({"COLUMNS": "200"}, "generate", "--help")
    assert re.search(r"--web-search +Let the model search the web", out)


def test_the_demo_output_directory_is_ignored_in_a_checkout() -> None:
    _, out, _ = run({"COLUMNS": "200"}, "demo", "--help")
    default = re.search(r"\[default: ([^\]]+)\]", out.split("--out", 1)[1])
    assert default is not None and default.group(1) == "seedream-demo"
    image = f"{default.group(1)}/task-unified-1-x_0.jpg"
    try:
        check = subprocess.run(["git", "check-ignore", "--no-index", "-q", image], cwd=ROOT, check=False)
        ignored = check.returncode == 0
    except OSError:  # no git (an unpacked sdist): read the ignore file itself
        ignored = f"{default.group(1)}/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ignored
