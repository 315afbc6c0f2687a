"""A sentinel API key never shows up in the ledger, the logs (DEBUG included) or the CLI's output."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seedream._cli import app
from seedream._ledger import Ledger
from seedream._polling import PollPolicy
from seedream._sync._workflow import Seedream
from seedream.simulator import SimulatorConfig, run_simulator

from .helpers import SENTINEL_KEY

CLI = [sys.executable, "-c", "from seedream._cli import main; main()"]


def all_bytes_under(directory: Path) -> bytes:
    return b"".join(p.read_bytes() + p.name.encode() for p in directory.rglob("*") if p.is_file())


def test_library_debug_logs_and_ledger_never_hold_the_key(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore
    # A 429 now and then makes the retry ladder log its decisions too.
    config = SimulatorConfig.for_tests(api_keys=(SENTINEL_KEY,), time_scale=0.01, fault_429=0.3, seed=5)
    polling = PollPolicy().scaled(0.01)
    with run_simulator(config) as server, Ledger(tmp_path / "ledger.sqlite3") as ledger:
        client = Seedream(
            SENTINEL_KEY, base_url=server.base_url, ledger=ledger, polling=polling, allow_internal_result_hosts=True
        )
        with client:
            result = client.generate("a lighthouse", n=2, directory=tmp_path / "out")
            assert SENTINEL_KEY not in repr(client.api) + repr(result)
    assert any(r.name == "seedream.retry" for r in caplog.records)
    assert any(r.name == "seedream.workflow" for r in caplog.records)
    assert SENTINEL_KEY not in caplog.text
    assert SENTINEL_KEY.encode() not in all_bytes_under(tmp_path)


def test_cli_verbose_output_never_holds_the_key(tmp_path: Path) -> None:
    config = SimulatorConfig.for_tests(api_keys=(SENTINEL_KEY,), time_scale=0.01, fault_429=0.3, seed=5)
    with run_simulator(config) as server:
        env = {"EVOLINK_API_KEY": SENTINEL_KEY, "SEEDREAM_BASE_URL": server.base_url,
               "SEEDREAM_LEDGER": str(tmp_path / "ledger.sqlite3")}  # fmt: skip
        # Real processes where the DEBUG log handler matters; in-process for the rest.
        runs = [
            subprocess.run([*CLI, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
            for args in (
                ["generate", "a lighthouse", "-n", "2", "--out", str(tmp_path / "out"), "--verbose", "--json"],
                ["status", "task-unified-0-nosuchtask", "--verbose"],
            )
        ]
        in_process = [CliRunner().invoke(app, args, env=env) for args in (["ledger", "list", "--json"], ["resume"])]
    assert [r.returncode for r in runs] == [0, 1]
    assert [r.exit_code for r in in_process] == [0, 0]
    assert "seedream.retry DEBUG" in runs[0].stderr or "seedream.workflow DEBUG" in runs[0].stderr
    for text in [r.stdout + r.stderr for r in runs] + [r.stdout + r.stderr for r in in_process]:
        assert SENTINEL_KEY not in text
    assert SENTINEL_KEY.encode() not in all_bytes_under(tmp_path)
