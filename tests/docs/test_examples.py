"""Every example in README.md and docs/**/*.md runs, so the documents cannot drift from the code.

- ```python blocks run in-process, in an empty working directory holding three
  small images (``ref.png``, ``a.png``, ``b.webp``, for the preflight examples),
  with the plugin's ``seedream_simulator`` on 127.0.0.1 behind
  ``EVOLINK_API_KEY`` / ``SEEDREAM_BASE_URL`` / ``SEEDREAM_LEDGER`` and a guard
  that fails any connection off loopback. A block defining ``test_*``
  functions is a user's test module: it runs under pytester and every test in
  it must pass.
- ```console blocks run their ``$`` lines in one bash, in an empty working
  directory, with this environment's ``seedream`` and ``python3`` first on
  PATH and ``SEEDREAM_BASE_URL`` pointing at a loopback simulator that takes any
  key (so "against the real API" examples run offline too; result links on
  loopback allowed, as the plugin's fixture does). Every command must
  exit 0; output lines in the block are illustrations and are not compared.
- A block marked ``<!-- not-run: why -->`` is listed at the end of the run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from seedream.simulator import SimulatorConfig, run_simulator

from .examples import DOCUMENTS, EXAMPLE_LANGUAGES, ROOT, Block, blocks, console_commands

pytest_plugins = ["pytester"]

EXAMPLES = [b for doc in DOCUMENTS for b in blocks(doc) if b.lang in EXAMPLE_LANGUAGES]
RUN = [b for b in EXAMPLES if b.not_run is None]
PYTHON = [b for b in RUN if b.lang == "python" and not b.is_pytest_module]
PYTEST_MODULES = [b for b in RUN if b.lang == "python" and b.is_pytest_module]
CONSOLE = [b for b in RUN if b.lang == "console"]

USER_INI = """
[pytest]
addopts = --strict-markers -p no:cacheprovider -p no:randomly
filterwarnings = error
"""


def _ids(found: list[Block]) -> list[str]:
    return [b.id for b in found]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    Image.new("RGB", (640, 480), (200, 120, 40)).save(work / "ref.png")
    Image.new("RGB", (512, 512), (40, 120, 200)).save(work / "a.png")
    Image.new("RGB", (300, 600), (90, 200, 90)).save(work / "b.webp")
    monkeypatch.chdir(work)
    return work


@pytest.mark.parametrize("block", PYTHON, ids=_ids(PYTHON))
def test_python_example_runs(
    block: Block,
    workdir: Path,
    seedream_simulator: object,
    loopback_guard: Callable[[Callable[[object], BaseException]], None],
) -> None:
    loopback_guard(lambda host: AssertionError(f"{block.id} tried to resolve {host!r}"))
    code = compile(block.body, block.id, "exec")
    exec(code, {"__name__": "__example__"})


@pytest.mark.parametrize("block", PYTEST_MODULES, ids=_ids(PYTEST_MODULES))
def test_pytest_example_passes_in_a_users_project(block: Block, pytester: pytest.Pytester) -> None:
    pytester.makeini(USER_INI)
    pytester.makepyfile(test_example=block.body)
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=len(re.findall(r"^def test_", block.body, re.M)))


@pytest.fixture(scope="module")
def any_key_simulator() -> Iterator[str]:
    # No key list: any bearer token is accepted, as the examples export a placeholder key.
    with run_simulator(SimulatorConfig.for_tests(api_keys=())) as server:
        yield server.base_url


@pytest.mark.parametrize("block", CONSOLE, ids=_ids(CONSOLE))
def test_console_example_runs(block: Block, workdir: Path, any_key_simulator: str) -> None:
    commands = console_commands(block.body)
    assert commands, f"{block.id}: a console example without a `$ ` command"
    bash = shutil.which("bash")
    assert bash is not None
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "EVOLINK_API_KEY": "sk-docs-example",
        "SEEDREAM_BASE_URL": any_key_simulator,
        # its result links are on 127.0.0.1: the opt-out the seedream_simulator fixture sets for the same reason
        "SEEDREAM_ALLOW_INTERNAL_RESULT_HOSTS": "1",
        "SEEDREAM_LEDGER": str(workdir.parent / "ledger.sqlite3"),
        "COLUMNS": "120",
    }
    script = "\n".join(["set -euo pipefail", *commands])
    result = subprocess.run(
        [bash, "-c", script], cwd=workdir, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, f"{block.id}:\n{script}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def test_examples_left_out_say_why_and_the_rest_are_all_run() -> None:
    assert all(b.not_run for b in EXAMPLES if b.not_run is not None), "a not-run marker without a reason"
    assert len(RUN) == len(PYTHON) + len(PYTEST_MODULES) + len(CONSOLE)
    assert PYTHON and PYTEST_MODULES and CONSOLE
    # a marker belongs right above a fence: one anywhere else would silently mark nothing
    for doc in DOCUMENTS:
        markers = len(re.findall(r"^[ \t]*<!--\s*not-run:", doc.read_text(encoding="utf-8"), re.M))
        assert markers == sum(1 for b in blocks(doc) if b.not_run is not None), doc
    for block in EXAMPLES:
        assert block.not_run is None or block.lang in EXAMPLE_LANGUAGES, block.id


_URL_HOST = re.compile(r"https?://([^/\s:'\"]+)")


def test_no_example_that_is_run_names_a_host_off_this_machine() -> None:
    # An example run here must never reach the real API (or any host): one that names one is marked not-run.
    for block in RUN:
        hosts = set(_URL_HOST.findall(block.body)) - {"127.0.0.1", "localhost"}
        assert not hosts, f"{block.id} would be run and names {sorted(hosts)}: mark it not-run or use the simulator"


def test_the_documents_are_the_ones_in_the_repository() -> None:
    assert DOCUMENTS[0] == ROOT / "README.md"
    assert all(d.suffix == ".md" for d in DOCUMENTS)
