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
* the simulator's own command with the key as a flag, at DEBUG log level;
* a server echoing the key in *every* field it controls (ids, enums, error
  envelopes with the key where a 200-character cut falls, failed tasks'
  messages, result URLs, a foreign task id, response headers): the key, and
  any 16 characters of it, found in 0 places among exceptions (str, repr,
  args, fields, tracebacks), every log record at root DEBUG, the ledger's
  bytes, CLI output (plain, ``--json``, ``-v``; in process and a real
  process) and file names;
* the redacting filter on every seedream, httpx and httpcore logger.
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
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
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
    LinkExpiredError,
    Seedream,
    SeedreamAPI,
    SeedreamError,
    TaskFailedError,
    UnexpectedResponseError,
)
from seedream._cli import app
from seedream.simulator import SimulatorConfig, create_app

from .conftest import Figures, SecretWitness
from .helpers import CLI, SENTINEL_KEY, png_bytes

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


# -- a server echoing the key in every field it controls ---------------------------------------------------------------

_CUT = 190  # where a 200-character cut falls inside the echoed key


class EchoEverywhere(BaseHTTPRequestHandler):
    """Every string the server controls is the key, or holds it: ids, enums, messages, URLs, headers.

    ``echoes`` counts the answers that carried it (so the test below can fail: the key was really sent back).
    """

    echoes = 0
    posts = 0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _key(self) -> str:
        return self.headers.get("Authorization", "").removeprefix("Bearer ")

    def _send(self, status: int, body: bytes, media: str = "application/json") -> None:
        key = self._key()
        type(self).echoes += key.encode() in body or bool(key)
        self.send_response(status)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-request-id", key)  # httpcore logs raw response headers at DEBUG
        self.send_header("x-echo", f"token={key}")
        if status == 429:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: object) -> None:
        self._send(status, json.dumps(data).encode())

    def _error(self, status: int) -> None:
        key = self._key()
        if status in (502, 520):  # a proxy's page, the key right where a 200-character cut falls
            self._send(status, f"<html>{'y' * (_CUT - 8)}{key}</html>".encode(), "text/html")
            return
        envelope = {"code": key, "message": "x" * _CUT + key, "type": key, "param": key, key: key}
        self._json(status, {"error": envelope, "fallback_suggestion": key})

    def _task(self, task_id: str, **fields: object) -> dict[str, object]:
        key = self._key()
        body: dict[str, object] = {"id": task_id, "created": 1, "model": key, "object": key, "type": key}
        body.update({"progress": 0, "task_info": {"can_cancel": False, "estimated_time": 1}, key: key})
        return {**body, **fields}

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        prompt, key = str(body.get("prompt", "")), self._key()
        if prompt.startswith("err-"):
            self._error(int(prompt.removeprefix("err-")))
        elif prompt == "echo-id":
            self._json(200, self._task(f"task-unified-{key}", status="pending"))
        elif prompt == "broken-but-id":
            self._json(200, self._task("task-unified-1-broken", status="pending", progress=f"50% {key}"))
        else:  # "fail", "done": a good id, every other string the key
            type(self).posts += 1  # a new id per POST: the ledger refuses an id it already holds for another request
            self._json(200, self._task(f"task-unified-{type(self).posts}-{prompt}", status=key))

    def do_GET(self) -> None:
        key, path = self._key(), self.path
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if path.startswith("/img/"):
            self._send(200, png_bytes(), "image/png")
        elif path.startswith("/gone/"):
            self._send(403, f"<Error>expired {key}</Error>".encode(), "application/xml")
        elif "-err-" in path:
            self._error(int(path.rsplit("-", 1)[1]))
        elif path.endswith("-fail") or path.endswith("-broken"):
            error = {"code": key, "message": f"upstream said {'z' * _CUT}{key}", "type": key}
            self._json(200, self._task(path.rsplit("/", 1)[1], status="failed", error=error))
        elif path.endswith("-done"):
            results = [f"{base}/img/{key}/a.png?sig={key}", f"{base}/gone/{key}.png#{key}"]
            self._json(200, self._task(path.rsplit("/", 1)[1], status="completed", progress=100, results=results))
        else:  # an answer about another task: one named after the key
            self._json(200, self._task(f"task-unified-{key}", status="completed", progress=100))


@pytest.fixture
def echo_everywhere() -> Iterator[str]:
    EchoEverywhere.echoes = EchoEverywhere.posts = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoEverywhere)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


_ERROR_STATUSES = (400, 401, 402, 403, 404, 429, 500, 502, 503, 520)


class _Places:
    """Every place the key could land, counted; ``found`` lists those that hold the key or a 16-character part."""

    def __init__(self) -> None:
        self.searched = 0
        self.found: list[str] = []
        self.needles = [SENTINEL_KEY, SENTINEL_KEY[:16], SENTINEL_KEY[-16:]]

    def text(self, where: str, value: object) -> None:
        shown = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        self.searched += 1
        if any(needle in shown for needle in self.needles):
            self.found.append(f"{where}: {shown[:200]}")

    def error(self, where: str, error: BaseException) -> None:
        """str, repr, args, every field (as repr; bytes and mappings by content) and the formatted traceback."""
        self.text(f"{where} traceback", "".join(traceback.format_exception(error)))
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            name = type(current).__name__
            self.text(f"{where} {name} str", str(current))
            self.text(f"{where} {name} repr", repr(current))
            self.text(f"{where} {name} args", repr(current.args))
            for field_name, value in vars(current).items():
                self.text(f"{where} {name}.{field_name}", value if isinstance(value, (bytes, str)) else repr(value))
            current = current.__cause__ or current.__context__

    def files(self, root: Path) -> None:
        for path in sorted(root.rglob("*")):
            self.text(f"file name {path}", path.name)
            if path.is_file():
                self.text(f"file {path}", path.read_bytes())


def test_a_key_echoed_in_every_server_controlled_field_is_found_in_no_place(
    echo_everywhere: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    figures: Figures,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger of the process at DEBUG: seedream, httpx, httpcore
    # The echoing server serves its result links on 127.0.0.1 too: downloads must be let through to be judged.
    monkeypatch.setenv("SEEDREAM_ALLOW_INTERNAL_RESULT_HOSTS", "1")
    places = _Places()
    ledger_path = tmp_path / "ledger.sqlite3"
    out = tmp_path / "out"
    errors: Counter[str] = Counter()

    def expect_error(where: str, call: Callable[[], object]) -> SeedreamError:
        with pytest.raises(SeedreamError) as caught:
            call()
        errors[type(caught.value).__name__] += 1
        places.error(where, caught.value)
        return caught.value

    # The library, both layers and both flavours.
    with Seedream(SENTINEL_KEY, base_url=echo_everywhere, ledger=ledger_path, sleep=lambda s: None) as client:
        refused = expect_error("echoed id", lambda: client.submit("echo-id"))
        assert isinstance(refused, UnexpectedResponseError) and refused.task_id is None
        broken = expect_error("broken answer", lambda: client.submit("broken-but-id", directory=out))
        assert isinstance(broken, UnexpectedResponseError) and broken.task_id == "task-unified-1-broken"
        failed = expect_error("failed task", lambda: client.generate("fail", directory=out))
        assert isinstance(failed, TaskFailedError) and failed.code == "***"
        expired = expect_error("expired link", lambda: client.generate("done", n=2, directory=out))
        assert isinstance(expired, LinkExpiredError) and expired.url is not None and "***" in expired.url
        foreign = expect_error("foreign answer", lambda: client.get("task-unified-1-other"))
        assert isinstance(foreign, UnexpectedResponseError)
        for status in _ERROR_STATUSES:
            expect_error(f"POST {status}", lambda status=status: client.submit(f"err-{status}"))
            expect_error(f"GET {status}", lambda status=status: client.get(f"task-unified-1-err-{status}"))
        for entry in client.ledger.entries():
            places.text("ledger entry", repr(entry.to_dict()))
        places.text("resume", repr([outcome.to_dict() for outcome in client.resume(out, timeout=1)]))

    async def run_async() -> None:
        async with AsyncSeedream(
            SENTINEL_KEY, base_url=echo_everywhere, ledger=ledger_path, sleep=_no_sleep
        ) as aclient:
            for prompt in ("echo-id", "broken-but-id", "fail", "err-402", "err-502"):
                with pytest.raises(SeedreamError) as caught:
                    await aclient.generate(prompt, directory=out)
                errors[type(caught.value).__name__] += 1
                places.error(f"async {prompt}", caught.value)

    asyncio.run(run_async())
    with SeedreamAPI(SENTINEL_KEY, base_url=echo_everywhere) as api:
        expect_error("api echoed id", lambda: api.create_generation("echo-id"))
        places.text("api task model", repr(api.get_task("task-unified-1-done")))
        places.text("api failed model", repr(api.get_task("task-unified-1-fail").to_dict()))

    # The CLI: plain, --json and -v, in process and as a real process.
    env = {"EVOLINK_API_KEY": SENTINEL_KEY, "SEEDREAM_BASE_URL": echo_everywhere, "SEEDREAM_LEDGER": str(ledger_path)}
    commands = [
        ["generate", "echo-id", "--out", str(out), "--json"],
        ["generate", "broken-but-id", "--out", str(out), "-v"],
        ["generate", "fail", "--out", str(out), "--json", "-v"],
        ["generate", "done", "--out", str(out)],
        ["generate", "err-400", "--out", str(out), "--json"],
        ["status", "task-unified-1-fail"],
        ["status", "task-unified-1-done", "--json", "-v"],
        ["status", "task-unified-1-other", "--json"],
        ["wait", "task-unified-1-fail", "--timeout", "5"],
        ["download", "task-unified-1-done", "--out", str(out), "--json"],
        ["ledger", "list"],
        ["ledger", "list", "--json"],
        ["resume", "--json", "--timeout", "1"],
    ]
    codes = []
    for args in commands:
        result = CliRunner().invoke(app, args, env=env)
        codes.append(result.exit_code)
        places.text(f"cli {args} stdout", result.stdout)
        places.text(f"cli {args} stderr", result.stderr)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            places.error(f"cli {args}", result.exception)
    done = subprocess.run(
        [sys.executable, *CLI, "generate", "fail", "--out", str(out), "--json", "-v"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    places.text("process stdout", done.stdout)
    places.text("process stderr", done.stderr)
    assert done.returncode == 3 and "error: task" in done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["error"]["task_id"].endswith("-fail")

    # Logs (every record, formatted), the ledger's bytes (database, WAL, journal) and every file name on disk.
    for record in caplog.records:
        places.text(f"log {record.name}", logging.Formatter("%(message)s").format(record))
    places.text("caplog text", caplog.text)
    places.files(tmp_path)
    ledger_files = sorted(p.name for p in tmp_path.glob("ledger.sqlite3*"))
    loggers = {record.name.split(".")[0] for record in caplog.records}

    assert EchoEverywhere.echoes >= 50  # the key really came back, in every answer of the API host
    assert {"httpx", "httpcore", "seedream"} <= loggers
    assert "ledger.sqlite3-wal" in ledger_files or len(ledger_files) >= 1
    assert errors["UnexpectedResponseError"] >= 5 and errors["TaskFailedError"] >= 2
    assert places.found == [], places.found[:5]
    figures.update(
        key_echoes_sent=EchoEverywhere.echoes,
        places_searched=places.searched,
        log_records=len(caplog.records),
        errors=dict(errors),
        cli_runs=len(commands) + 1,
        cli_exit_codes=codes,
        ledger_files=ledger_files,
        sentinel_found=len(places.found),
    )


async def _no_sleep(seconds: float) -> None:
    return None


def test_every_seedream_httpx_and_httpcore_logger_redacts_a_record_that_would_show_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from seedream._redaction import LOGGERS, RedactingFilter

    with SeedreamAPI(SENTINEL_KEY):
        pass
    names = sorted(
        name for name in logging.root.manager.loggerDict if name.split(".")[0] in {"seedream", "httpx", "httpcore"}
    )
    assert set(LOGGERS) <= set(names)
    caplog.set_level(logging.DEBUG)
    for name in names:
        logger = logging.getLogger(name)
        assert any(isinstance(f, RedactingFilter) for f in logger.filters), name
        logger.debug("echo %s in %r", SENTINEL_KEY, {"x-request-id": SENTINEL_KEY.encode()})
        try:
            raise ValueError(f"token={SENTINEL_KEY}")
        except ValueError:
            logger.exception("failed")
    formatted = caplog.text + "".join(logging.Formatter().format(record) for record in caplog.records)
    assert len(caplog.records) == 2 * len(names) and SENTINEL_KEY not in formatted and "***" in formatted
