"""Serving over real loopback: run_simulator (uvicorn in a thread), the CLI command, and python -m."""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

import httpx
import pytest
import typer
from typer.testing import CliRunner

from seedream.simulator import SimulatorApp, SimulatorConfig, create_app, run_simulator
from seedream.simulator import _cli as simulator_cli

from .helpers import AUTH, body


def test_run_simulator_serves_on_a_free_loopback_port_and_stops_on_exit() -> None:
    with run_simulator(SimulatorConfig.for_tests()) as server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.base_url) and server.port > 0
        with httpx.Client(base_url=server.base_url, headers=AUTH) as client:
            created = client.post("/v1/images/generations", json=body())
            assert created.status_code == 200
            assert client.get(f"/v1/tasks/{created.json()['id']}").status_code == 200
        assert server.counters()["tasks_created"] == 1
        assert httpx.get(server.url("/__simulator__/counters")).json()["tasks_created"] == 1
        url = server.base_url
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/__simulator__/health", timeout=2)


def test_run_simulator_can_serve_an_existing_app_and_leaves_it_open() -> None:
    app = create_app(SimulatorConfig.for_tests())
    try:
        with run_simulator(app=app) as server, httpx.Client(base_url=server.base_url, headers=AUTH) as client:
            assert client.post("/v1/images/generations", json=body()).status_code == 200
        assert app.counters()["tasks_created"] == 1
    finally:
        app.close()


def test_two_simulators_run_side_by_side_on_different_ports() -> None:
    with run_simulator(SimulatorConfig.for_tests()) as one, run_simulator(SimulatorConfig.for_tests()) as two:
        assert one.port != two.port
        assert (
            httpx.get(one.url("__simulator__/health")).status_code
            == httpx.get(two.url("/__simulator__/health")).status_code
            == 200
        )


# -- the CLI command ------------------------------------------------------------------------


def _cli_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test root with subcommands."""

    simulator_cli.register(app)
    return app


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Stop the command short of serving: record what it would have served."""
    seen: dict[str, Any] = {}

    def fake_serve_forever(app: SimulatorApp, *, host: str, port: int, log_level: str = "info") -> None:
        seen.update(config=app.config, host=host, port=port, log_level=log_level)
        app.close()

    monkeypatch.setattr(simulator_cli, "serve_forever", fake_serve_forever)
    return seen


def test_every_flag_reaches_the_simulator_config(captured: dict[str, Any]) -> None:
    args = [
        "simulator",
        "--host", "::1",
        "--port", "0",
        "--api-key", "sk-a",
        "--api-key", "sk-b",
        "--time-scale", "0.5",
        "--seed", "3",
        "--link-lifetime", "60",
        "--fault-429", "0.1",
        "--fault-5xx", "0.2",
        "--fault-drop", "0.3",
        "--fault-latency", "2",
        "--fault-latency-rate", "0.4",
        "--task-failure-rate", "0.25",
        "--credits", "10",
        "--no-access-key", "sk-b",
        "--rate-limit", "5",
        "--allow-loopback",
        "--outbound", "loopback",
        "--public-base-url", "http://127.0.0.1:9000",
        "--log-level", "warning",
    ]  # fmt: skip
    result = CliRunner().invoke(_cli_app(), args)
    assert result.exit_code == 0, result.output
    config = captured["config"]
    assert (captured["host"], captured["port"], captured["log_level"]) == ("::1", 0, "warning")
    assert config.api_keys == ("sk-a", "sk-b") and config.no_access_keys == ("sk-b",)
    assert (config.time_scale, config.seed, config.link_lifetime) == (0.5, 3, 60.0)
    assert (config.fault_429, config.fault_5xx, config.fault_drop) == (0.1, 0.2, 0.3)
    assert (config.fault_latency, config.fault_latency_rate, config.task_failure_rate) == (2.0, 0.4, 0.25)
    assert (config.credits, config.rate_limit, config.allow_loopback, config.outbound) == (10.0, 5, True, "loopback")
    assert config.public_base_url == "http://127.0.0.1:9000"


def test_defaults_are_loopback_8765_real_time_and_no_faults(captured: dict[str, Any]) -> None:
    result = CliRunner().invoke(_cli_app(), ["simulator"])
    assert result.exit_code == 0, result.output
    assert (captured["host"], captured["port"]) == ("127.0.0.1", 8765)
    assert captured["config"] == SimulatorConfig()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--fault-429", "2"], "fault_429"),
        (["--time-scale", "0"], "time_scale"),
        (["--outbound", "everywhere"], "--outbound"),
        (["--rate-limit", "0"], "rate_limit"),
    ],
)
def test_bad_flag_values_exit_2_naming_the_knob(captured: dict[str, Any], args: list[str], named: str) -> None:
    result = CliRunner().invoke(_cli_app(), ["simulator", *args])
    assert result.exit_code == 2
    assert named in result.output
    assert captured == {}


def test_help_lists_every_flag() -> None:
    result = CliRunner().invoke(_cli_app(), ["simulator", "--help"], terminal_width=200, env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for flag in (
        "--host", "--port", "--api-key", "--time-scale", "--seed", "--link-lifetime", "--fault-429", "--fault-5xx",
        "--fault-drop", "--fault-latency", "--credits", "--no-access-key", "--rate-limit", "--allow-loopback",
        "--outbound", "--ignore-idempotency-keys",
    ):  # fmt: skip
        assert flag in result.output


def test_a_taken_port_exits_1_with_a_clear_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(_cli_app(), ["simulator", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot serve on 127.0.0.1:{port}" in result.output


# -- python -m seedream.simulator -----------------------------------------------------------


def _first_line(stream: Any, timeout: float) -> str:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    return lines.get(timeout=timeout)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_python_m_prints_its_url_serves_and_stops_cleanly_on_signal(stop: signal.Signals) -> None:
    command = [sys.executable, "-m", "seedream.simulator", "--port", "0", "--api-key", "sk-sub", "--seed", "1"]
    command += ["--time-scale", "0.01", "--outbound", "none", "--log-level", "warning"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = _first_line(process.stdout, timeout=60)
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert match, line
        with httpx.Client(base_url=match.group(1), headers={"Authorization": "Bearer sk-sub"}) as client:
            assert client.post("/v1/images/generations", json=body()).status_code == 200
        process.send_signal(stop)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopped" in out
    assert "Traceback" not in err
    assert "sk-sub" not in out + err  # the key is never printed
