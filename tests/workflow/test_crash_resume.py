"""A `seedream generate` process SIGKILLed at the worst moments; `seedream resume` recovers every image.

Real subprocesses against a simulator thread on 127.0.0.1. To kill one in the
middle of a download, result links point at a small loopback relay that sends
the headers and the first bytes of an image, then holds the rest back.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from seedream._ledger import Ledger, TaskState
from seedream.simulator import SimulatorConfig, run_simulator
from seedream.simulator._server import RunningSimulator

from .helpers import SENTINEL_KEY

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

SCALE = 0.02
CLI = [sys.executable, "-c", "from seedream._cli import main; main()"]


class HoldingRelay:
    """Relays result files from the simulator; while ``holding``, stalls each after its first kilobyte."""

    def __init__(self) -> None:
        self.upstream = ""
        self.holding = True
        self.release = threading.Event()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                try:
                    upstream = httpx.get(relay.upstream + self.path, timeout=10)
                    body = upstream.content
                    self.send_response(upstream.status_code)
                    self.send_header("Content-Type", upstream.headers.get("content-type", "application/octet-stream"))
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if relay.holding and upstream.status_code == 200:
                        self.wfile.write(body[:1024])
                        self.wfile.flush()
                        relay.release.wait(30)
                        body = body[1024:]
                    self.wfile.write(body)
                except (OSError, httpx.HTTPError):
                    pass  # the client was killed mid-transfer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> HoldingRelay:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def relay() -> Iterator[HoldingRelay]:
    with HoldingRelay() as started:
        yield started


@pytest.fixture
def simulator(relay: HoldingRelay) -> Iterator[RunningSimulator]:
    config = SimulatorConfig.for_tests(api_keys=(SENTINEL_KEY,), time_scale=SCALE, public_base_url=relay.base_url)
    with run_simulator(config) as server:
        relay.upstream = server.base_url
        yield server


@pytest.fixture
def env(simulator: RunningSimulator, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "EVOLINK_API_KEY": SENTINEL_KEY,
        "SEEDREAM_BASE_URL": simulator.base_url,
        "SEEDREAM_ALLOW_INTERNAL_RESULT_HOSTS": "1",  # the simulator's result links name 127.0.0.1
        "SEEDREAM_LEDGER": str(tmp_path / "ledger.sqlite3"),
    }


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=60)
    assert SENTINEL_KEY not in done.stdout + done.stderr
    return done


def kill_when(process: subprocess.Popen[str], ready: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            assert process.poll() is None, f"exited early: {process.communicate()}"
            assert time.monotonic() < deadline, "the moment to kill never came"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        out, err = process.communicate()
        assert SENTINEL_KEY not in out + err


def entries(ledger_path: str) -> list[object]:
    if not Path(ledger_path).exists():
        return []
    with Ledger(ledger_path) as ledger:
        return list(ledger.entries())


def expected_images(simulator: RunningSimulator, task_id: str) -> dict[int, str]:
    """sha256 of each image as the simulator serves it (fetched directly, bypassing the relay)."""
    body = httpx.get(
        f"{simulator.base_url}/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {SENTINEL_KEY}"}
    ).json()
    paths = [httpx.URL(url).path for url in body["results"]]
    return {i: hashlib.sha256(httpx.get(simulator.base_url + p).content).hexdigest() for i, p in enumerate(paths)}


def assert_recovered(env: dict[str, str], out_dir: Path, simulator: RunningSimulator) -> None:
    with Ledger(env["SEEDREAM_LEDGER"]) as ledger:
        [entry] = ledger.entries()
    assert entry.state == TaskState.DOWNLOADED and entry.task_id is not None
    expected = expected_images(simulator, entry.task_id)
    assert len(expected) == 2
    assert {f.index: f.sha256 for f in entry.files} == expected
    on_disk = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out_dir.iterdir()}
    assert on_disk == {Path(f.path).name: f.sha256 for f in entry.files}  # no partial files left over


def test_killed_after_submit_then_resume_recovers_every_image(
    env: dict[str, str], simulator: RunningSimulator, relay: HoldingRelay, tmp_path: Path
) -> None:
    relay.holding = False
    out_dir = tmp_path / "images"
    process = start(env, "generate", "[sim:duration=40] two lighthouses", "-n", "2", "--out", str(out_dir))
    kill_when(process, lambda: any(e.task_id for e in entries(env["SEEDREAM_LEDGER"])))  # type: ignore[attr-defined]
    [entry] = entries(env["SEEDREAM_LEDGER"])
    assert entry.state == TaskState.SUBMITTED  # type: ignore[attr-defined]
    assert not out_dir.exists() or list(out_dir.iterdir()) == []

    done = finish(env, "resume", "--json")
    assert done.returncode == 0, done.stderr
    [outcome] = json.loads(done.stdout)
    assert outcome["state"] == "downloaded" and len(outcome["files"]) == 2
    assert_recovered(env, out_dir, simulator)


def test_killed_during_download_then_resume_recovers_every_image(
    env: dict[str, str], simulator: RunningSimulator, relay: HoldingRelay, tmp_path: Path
) -> None:
    out_dir = tmp_path / "images"
    process = start(env, "generate", "two lighthouses", "-n", "2", "--out", str(out_dir))
    kill_when(process, lambda: out_dir.is_dir() and any(p.suffix == ".part" for p in out_dir.iterdir()))
    assert [p.suffix for p in out_dir.iterdir()] == [".part"]  # nothing under a final name
    [entry] = entries(env["SEEDREAM_LEDGER"])
    assert entry.state == TaskState.COMPLETED and len(entry.result_urls) == 2  # type: ignore[attr-defined]

    relay.holding = False
    relay.release.set()
    done = finish(env, "resume")
    assert done.returncode == 0, done.stderr
    assert "downloaded" in done.stdout
    assert_recovered(env, out_dir, simulator)


def test_killed_while_the_post_is_in_flight_is_reported_not_lost(relay: HoldingRelay, tmp_path: Path) -> None:
    # Each API request is held 100 simulated s (2 s real): the process dies before any answer.
    config = SimulatorConfig.for_tests(api_keys=(SENTINEL_KEY,), time_scale=SCALE, fault_latency=100.0)
    with run_simulator(config) as server:
        env = {**os.environ, "EVOLINK_API_KEY": SENTINEL_KEY, "SEEDREAM_BASE_URL": server.base_url,
               "SEEDREAM_LEDGER": str(tmp_path / "ledger.sqlite3")}  # fmt: skip
        process = start(env, "generate", "a lighthouse", "--out", str(tmp_path / "images"))
        kill_when(process, lambda: len(entries(env["SEEDREAM_LEDGER"])) == 1)
        [entry] = entries(env["SEEDREAM_LEDGER"])
        assert entry.state == TaskState.INTENT and entry.params["prompt"] == "a lighthouse"  # type: ignore[attr-defined]
        done = finish(env, "resume", "--json")
    assert done.returncode == 0, done.stderr
    [outcome] = json.loads(done.stdout)
    assert outcome["state"] == "unconfirmed" and "dashboard" in outcome["message"]
