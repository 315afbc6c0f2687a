"""The sentinel API key never shows: the witness itself, and the flows the other reliability tests do not run.

Every reliability test runs under the secret witness (``conftest.py``): all
DEBUG logging of the process, the exception texts and reprs the tests hand it,
CLI output, and every file the test wrote (ledgers, images, captured output)
are searched for the sentinel key. Here:

* the witness is shown to find a planted key in each of those places (so a
  leak would fail the runs above);
* reprs of every public object built with the key;
* the CLI against a hostile server that echoes the ``Authorization`` header
  back in 400/401/500/unparseable-200 bodies, as real processes with
  ``--verbose`` (DEBUG on stderr) and in-process;
* the simulator's own command with the key as a flag, at DEBUG log level.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from seedream import (
    AsyncSeedream,
    AsyncSeedreamAPI,
    ConfigurationError,
    Ledger,
    Seedream,
    SeedreamAPI,
    SeedreamError,
)
from seedream._cli import app
from seedream.simulator import SimulatorConfig, create_app

from .conftest import Figures, SecretWitness
from .helpers import CLI, SENTINEL_KEY

pytestmark = pytest.mark.reliability


def test_the_witness_finds_a_planted_key_in_logs_texts_errors_and_files(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    tmp_path = tmp_path_factory.mktemp("planted")  # outside this test's own directory, which its witness sweeps
    logger = logging.getLogger("seedream.reliability.witness-test")
    logger.propagate = False  # the planted records must reach this witness only, not the test's own
    clean = SecretWitness(SENTINEL_KEY)
    logger.addHandler(clean.handler)
    try:
        logger.debug("request to %s with %s", "https://api.evolink.ai", "Bearer ***")
    finally:
        logger.removeHandler(clean.handler)
    clean.see("nothing to see", ValueError("no key here"))
    clean.sweep_files(tmp_path)
    assert clean.all_leaks() == [] and clean.handler.records == 1

    planted = SecretWitness(SENTINEL_KEY)
    logger.addHandler(planted.handler)
    try:
        logger.debug("Authorization: Bearer %s", SENTINEL_KEY)  # in the arguments of a record
        try:
            raise RuntimeError("wrapped") from KeyError(SENTINEL_KEY)
        except RuntimeError:
            logger.exception("failed")  # in a traceback's cause
    finally:
        logger.removeHandler(planted.handler)
    planted.see(f"stdout with {SENTINEL_KEY}")
    planted.see_error(RuntimeError("outer").with_traceback(None))
    error = RuntimeError("outer")
    error.__context__ = ValueError(f"inner {SENTINEL_KEY}")
    planted.see_error(error)
    (tmp_path / "deep" / "dir").mkdir(parents=True)
    (tmp_path / "deep" / "dir" / "ledger.sqlite3").write_bytes(b"\0\1" + SENTINEL_KEY.encode() + b"\0")
    planted.sweep_files(tmp_path)
    kinds = Counter(leak.split(":", 1)[0] for leak in planted.all_leaks())
    logger.propagate = True
    assert kinds["file"] == 1 and kinds["log"] == 2 and kinds["text"] >= 2


def test_reprs_and_errors_of_everything_built_with_the_key_never_show_it(
    witness: SecretWitness, tmp_path: Path
) -> None:
    async def build_async() -> list[object]:
        async with AsyncSeedreamAPI(SENTINEL_KEY) as aapi, AsyncSeedream(SENTINEL_KEY, ledger=":memory:") as aclient:
            return [repr(aapi), str(aapi), repr(aclient), repr(aclient.api), vars(aapi)]

    with (
        SeedreamAPI(SENTINEL_KEY) as api,
        Seedream(SENTINEL_KEY, ledger=tmp_path / "ledger.sqlite3") as client,
        create_app(SimulatorConfig(api_keys=(SENTINEL_KEY,), no_access_keys=(SENTINEL_KEY + "x",))) as simulator,
    ):
        shown = [repr(api), str(api), vars(api), repr(client), repr(client.api), repr(client.ledger)]
        shown += [repr(simulator.config), str(simulator.config), repr(simulator), simulator.counters()]
        shown += [repr(api.http_client.headers), repr(client.ledger.entries())]
    shown += asyncio.run(build_async())
    for bad in (f"Bearer {SENTINEL_KEY}", f"{SENTINEL_KEY} ", f"{SENTINEL_KEY}\n", f"{SENTINEL_KEY}é"):
        with pytest.raises(ConfigurationError) as caught:
            SeedreamAPI(bad)
        witness.see_error(caught.value)
    witness.see(*shown)
    assert all(SENTINEL_KEY not in str(item) for item in shown)  # the witness checks again at teardown


class EchoHandler(BaseHTTPRequestHandler):
    """A hostile API that repeats the Authorization header back in every kind of answer."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, status: int, body: bytes, media: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        # No header echoes the key here: httpcore logs raw response headers at DEBUG, out of the client's reach
        # (see the MockTransport case below for what the client itself does with such a header).
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        echo = self.headers.get("Authorization", "")
        envelope = {"error": {"code": "invalid_request", "message": f"bad request from {echo}", "param": echo}}
        self._answer(400, json.dumps(envelope).encode())

    def do_GET(self) -> None:
        echo = self.headers.get("Authorization", "")
        if self.path.endswith("-401"):
            self._answer(401, json.dumps({"error": {"code": "unauthorized", "message": f"{echo} is expired"}}).encode())
        elif self.path.endswith("-500"):
            self._answer(500, f"<html><body>upstream said: {echo}</body></html>".encode(), "text/html")
        else:
            self._answer(200, f"{{'id': '{echo}', broken".encode())


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_cli_errors_against_a_server_echoing_the_key_never_show_it(
    echo_server: str, tmp_path: Path, witness: SecretWitness, figures: Figures
) -> None:
    env = {"EVOLINK_API_KEY": SENTINEL_KEY, "SEEDREAM_BASE_URL": echo_server,
           "SEEDREAM_LEDGER": str(tmp_path / "ledger.sqlite3")}  # fmt: skip
    # Real processes where the --verbose DEBUG handler matters (a 500 would cost seconds of real retry backoff:
    # the library test below takes that path with an injected sleep).
    as_processes = [
        ["generate", "a lighthouse", "--out", str(tmp_path / "out"), "--json", "--verbose"],
        ["wait", "task-unified-1-401", "--verbose", "--timeout", "5"],
    ]
    runs = [
        subprocess.run([sys.executable, *CLI, *args], env={**os.environ, **env}, capture_output=True, text=True,
                       timeout=60)
        for args in as_processes
    ]  # fmt: skip
    for done in runs:
        witness.see(done.stdout, done.stderr)
    codes = [done.returncode for done in runs]
    assert codes == [1, 1]  # API errors (a 400 from the server is not a flag breaking a rule)
    assert "seedream.retry DEBUG" in runs[0].stderr and "error:" in runs[1].stderr
    in_process = [
        ["status", "task-unified-1-200", "--json"],
        ["download", "task-unified-1-401", "--out", str(tmp_path / "out")],
        ["ledger", "list", "--json"],
        ["resume", "--json"],
    ]
    results = [CliRunner().invoke(app, args, env=env) for args in in_process]
    for result in results:
        witness.see(result.stdout, result.stderr, result.exception or "")
    assert [r.exit_code for r in results] == [1, 1, 0, 0]
    assert json.loads(results[0].stdout)["error"]["type"] == "UnexpectedResponseError"
    figures.update(cli_runs=len(as_processes) + len(in_process), exit_codes=codes + [r.exit_code for r in results])


def test_the_library_against_a_server_echoing_the_key_never_shows_it(echo_server: str, witness: SecretWitness) -> None:
    with Seedream(SENTINEL_KEY, base_url=echo_server, ledger=":memory:", sleep=lambda s: None) as client:
        for call in (
            lambda: client.submit("a lighthouse"),
            lambda: client.get("task-unified-1-401"),
            lambda: client.get("task-unified-1-500"),
            lambda: client.get("task-unified-1-200"),
        ):
            with pytest.raises(SeedreamError) as caught:
                call()
            witness.see_error(caught.value)
            witness.see(getattr(caught.value, "message", ""), getattr(caught.value, "param", ""))
        witness.see(repr(client.ledger.entries()))

    def echo(request: httpx.Request) -> httpx.Response:  # in a header too: no httpcore in between here
        auth = request.headers["authorization"]
        envelope = {"error": {"code": auth, "message": auth, "type": auth, "param": auth}}
        return httpx.Response(429, json=envelope, headers={"x-request-id": auth, "retry-after": "1"})

    with SeedreamAPI(SENTINEL_KEY, transport=httpx.MockTransport(echo)) as api:
        with pytest.raises(SeedreamError) as caught:
            api.get_task("task-unified-1-x")
        witness.see_error(caught.value)
        error = caught.value
        witness.see(*(str(getattr(error, name)) for name in ("code", "type", "param", "request_id", "message")))


def test_the_simulator_command_with_the_key_as_a_flag_never_prints_it(witness: SecretWitness) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "seedream.simulator", "--api-key", SENTINEL_KEY, "--port", "0", "--log-level", "debug"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        base_url = line.split(" on ", 1)[1].split(" ", 1)[0]
        assert base_url.startswith("http://127.0.0.1:")
        good = httpx.get(f"{base_url}/v1/tasks/task-unified-0-x", headers={"Authorization": f"Bearer {SENTINEL_KEY}"})
        bad = httpx.get(f"{base_url}/v1/tasks/task-unified-0-x", headers={"Authorization": f"Bearer {SENTINEL_KEY}x"})
        assert (good.status_code, bad.status_code) == (404, 401)
        witness.see(good.text, bad.text, dict(good.headers), dict(bad.headers))
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    witness.see(line, out, err)
    assert process.returncode == 0 and "stopped" in out
    assert "GET /v1/tasks/task-unified-0-x" in out + err  # the access log was on (debug level)
    with Ledger(":memory:") as ledger:
        witness.see(repr(ledger))
