"""≥ 5,000 malformed or hostile answers, for both operations: a model or a SeedreamError, never anything else.

Three sources, all checked by the same judge:

1. mutations of the spec's own examples (missing fields, wrong types, unknown
   enums, nulls, extra fields, HTML, XML, truncated JSON, bad encodings,
   ``NaN`` literals, duplicate keys, nesting bombs, 5,000-digit numbers, bodies
   of several MiB, lying ``Content-Encoding``, the key echoed back, odd
   ``Retry-After`` values) with random statuses, through ``httpx.MockTransport``;
2. every status from 0 to 999, through ``httpx.MockTransport``;
3. every status from 0 to 999 and broken framing (status lines h11 refuses,
   lying lengths, bad chunking, 200 kB headers, TLS and SSH greetings) from a
   raw socket server on 127.0.0.1, through httpx's real HTTP/1.1 stack.

A 200 must parse exactly when the oracle in :mod:`.hostile` (the spec's types)
says it is usable, into the operation's model; any other status must raise an
``APIStatusError`` carrying that status (5xx a ``ServerError``, 429 a
``RateLimitError``); a broken exchange an ``APIConnectionError``.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import httpx
import pytest
from seedream_client.models import ImageGenerationResponse, TaskDetailResponse

from seedream import (
    APIConnectionError,
    APIStatusError,
    AsyncSeedreamAPI,
    RateLimitError,
    SeedreamAPI,
    SeedreamError,
    ServerError,
    UnexpectedResponseError,
)
from seedream.testing._spec_cases import response_example, success_body

from .conftest import Figures, SecretWitness
from .helpers import SENTINEL_KEY
from .hostile import HTML, RAW_HOSTILE, TASK_ID, Answer, hostile_answer, usable

pytestmark = pytest.mark.reliability

OPERATIONS = ("createImageGeneration", "getTaskDetail")
MODELS = {"createImageGeneration": ImageGenerationResponse, "getTaskDetail": TaskDetailResponse}


class Judge:
    """Checks one outcome against the oracle and counts it."""

    def __init__(self, witness: SecretWitness) -> None:
        self.witness = witness
        self.counts: Counter[str] = Counter()
        self.problems: list[str] = []

    def _fail(self, text: str) -> None:
        self.counts["problems"] += 1
        if len(self.problems) < 20:
            self.problems.append(text)

    def judge(
        self,
        operation: str,
        answer: Answer,
        call: Callable[[], object],
        *,
        usable_200: bool | None = None,
        may_break: bool = False,
    ) -> None:
        """``call()`` makes the request that meets ``answer``; ``may_break``: the exchange itself may fail."""
        label = f"{operation} {answer.status} {answer.kind}"
        if usable_200 is None:
            usable_200 = answer.status == 200 and usable(operation, answer.content)
        try:
            result = call()
        except APIStatusError as error:
            self.witness.see_error(error)
            if error.status != answer.status and not may_break:
                self._fail(f"{label}: the error says status {error.status}")
            elif usable_200 and not may_break:
                self._fail(f"{label}: refused a usable body: {error}")
            elif 500 <= error.status <= 599 and not isinstance(error, ServerError):
                self._fail(f"{label}: a 5xx became {type(error).__name__}")
            elif error.status == 429 and not isinstance(error, RateLimitError):
                self._fail(f"{label}: a 429 became {type(error).__name__}")
            elif error.status == 200 and not isinstance(error, UnexpectedResponseError):
                self._fail(f"{label}: an unusable 200 became {type(error).__name__}")
            elif not str(error):
                self._fail(f"{label}: {type(error).__name__} with an empty message")
            else:
                self.counts[type(error).__name__] += 1
            return
        except APIConnectionError as error:
            self.witness.see_error(error)
            odd_redirect = 300 <= answer.status <= 399 and "location" in answer.headers
            if may_break or answer.kind == "lying-encoding" or odd_redirect:
                self.counts[type(error).__name__] += 1
            else:
                self._fail(f"{label}: a complete answer became {type(error).__name__}: {error}")
            return
        except SeedreamError as error:
            self.witness.see_error(error)
            self._fail(f"{label}: unexpected {type(error).__name__}: {error}")
            return
        except Exception as error:  # the finding this test is for
            self._fail(f"{label}: {type(error).__name__} escaped: {error!s:.200} for {answer.content[:120]!r}")
            return
        if not usable_200 and not may_break:
            self._fail(f"{label}: returned a model for an unusable answer {answer.content[:120]!r}")
        elif not isinstance(result, MODELS[operation]):
            self._fail(f"{label}: returned {type(result).__name__}")
        elif operation == "createImageGeneration" and not (isinstance(result.id, str) and result.id):
            self._fail(f"{label}: a created task without an id")
        elif answer.kind == "lying-encoding":  # e.g. "identity": httpx decoded it, the oracle never judged it
            self.counts["parsed despite an odd Content-Encoding"] += 1
        else:
            self.counts["parsed into a model"] += 1


def _respond(answer: Answer) -> httpx.Response:
    return httpx.Response(answer.status, content=answer.content, headers=answer.headers)


class Scripted:
    """A MockTransport answering the next request with ``self.answer``."""

    def __init__(self) -> None:
        self.answer = Answer(200, b"{}")

    def __call__(self, request: httpx.Request) -> httpx.Response:
        return _respond(self.answer)


def _call(api: SeedreamAPI, operation: str) -> Callable[[], object]:
    if operation == "createImageGeneration":
        return lambda: api.create_generation("a lighthouse at dusk")
    return lambda: api.get_task(TASK_ID)


def _acall(api: AsyncSeedreamAPI, loop: asyncio.AbstractEventLoop, operation: str) -> Callable[[], object]:
    if operation == "createImageGeneration":
        return lambda: loop.run_until_complete(api.create_generation("a lighthouse at dusk"))
    return lambda: loop.run_until_complete(api.get_task(TASK_ID))


def test_five_thousand_mutated_spec_examples_become_models_or_seedream_errors(
    thorough: bool, figures: Figures, witness: SecretWitness
) -> None:
    target = 50_000 if thorough else 5_000
    rng = random.Random(7_000_002)
    script = Scripted()
    judge = Judge(witness)
    kinds: Counter[str] = Counter()
    usable_200 = 0
    loop = asyncio.new_event_loop()
    started = time.perf_counter()
    api = SeedreamAPI(SENTINEL_KEY, transport=httpx.MockTransport(script))
    aapi = AsyncSeedreamAPI(SENTINEL_KEY, transport=httpx.MockTransport(script))
    try:
        for case in range(target):
            operation = OPERATIONS[case % 2]
            script.answer = hostile_answer(operation, rng)
            kinds[script.answer.kind] += 1
            if script.answer.kind != "lying-encoding":
                usable_200 += script.answer.status == 200 and usable(operation, script.answer.content)
            call = _acall(aapi, loop, operation) if case % 10 == 9 else _call(api, operation)
            judge.judge(operation, script.answer, call)
    finally:
        api.close()
        loop.run_until_complete(aapi.close())
        loop.close()
    figures.update(
        answers=target,
        outcomes=dict(sorted(judge.counts.items())),
        usable_200s=usable_200,
        mutation_kinds=dict(sorted(kinds.items())),
        answers_per_second=round(target / (time.perf_counter() - started)),
    )
    assert judge.problems == []
    assert sum(judge.counts.values()) == target
    assert judge.counts["parsed into a model"] == usable_200 > target // 20  # the oracle's usable 200s, and only those


def test_every_status_from_0_to_999_for_both_operations_becomes_a_typed_error_or_a_model(
    figures: Figures, witness: SecretWitness
) -> None:
    script = Scripted()
    judge = Judge(witness)
    with SeedreamAPI(SENTINEL_KEY, transport=httpx.MockTransport(script)) as api:
        for operation in OPERATIONS:
            for status in range(1000):
                example = response_example(operation, status)
                for content in (json.dumps(example or success_body(operation)).encode(), HTML):
                    script.answer = Answer(status, content, {}, "status sweep")
                    judge.judge(operation, script.answer, _call(api, operation))
    figures.update(answers=4000, outcomes=dict(sorted(judge.counts.items())))
    assert judge.problems == []
    assert judge.counts["parsed into a model"] == 2  # the spec's 200 example, once per operation


# -- a raw socket server on loopback ----------------------------------------------------------------------------------


class RawServer(socketserver.ThreadingTCPServer):
    """Answers each request with bytes chosen by the request (its task id or prompt names the case), then hangs up."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RawHandler)
        self.cases: dict[str, bytes] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _RawHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server = self.server
        assert isinstance(server, RawServer)
        sock: socket.socket = self.request
        sock.settimeout(5)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            while len(body) < length:
                body += sock.recv(65536)
            path = head.split(b" ", 2)[1].decode()
            case = path.rsplit("/", 1)[1] if "/v1/tasks/" in path else json.loads(body)["prompt"]
            sock.sendall(server.cases[case])
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass


@pytest.fixture
def raw_server() -> Iterator[RawServer]:
    server = RawServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _status_line_answer(operation: str, status: int) -> bytes:
    body = json.dumps(success_body(operation) if status == 200 else response_example(operation, 500)).encode()
    head = f"HTTP/1.1 {status} Status\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def test_every_status_line_and_broken_framing_over_loopback_become_typed_errors_or_models(
    raw_server: RawServer, figures: Figures, witness: SecretWitness
) -> None:
    judge = Judge(witness)
    hostile = 0
    # No keep-alive: the server hangs up after each answer, and a reused dead connection would blur the verdicts.
    client = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), timeout=httpx.Timeout(5.0))
    with client, SeedreamAPI(SENTINEL_KEY, base_url=raw_server.base_url, http_client=client) as api:
        for operation in OPERATIONS:
            cases: list[tuple[bytes, int, bool | None, bool]] = []
            for status in range(1000):
                # h11 reads three-digit statuses; 1xx are interim answers (the server then hangs up).
                well_formed = 200 <= status <= 999
                cases.append((_status_line_answer(operation, status), status, status == 200, not well_formed))
            cases.extend((raw, -1, None, True) for raw in RAW_HOSTILE)
            hostile += len(RAW_HOSTILE)
            for index, (raw, status, usable_200, may_break) in enumerate(cases):
                name = f"task-unified-case-{operation}-{index}"
                raw_server.cases[name] = raw
                answer = Answer(status, raw, {}, "raw")
                call = (
                    (lambda name=name: api.get_task(name))
                    if operation == "getTaskDetail"
                    else (lambda name=name: api.create_generation(name))
                )
                judge.judge(operation, answer, call, usable_200=bool(usable_200), may_break=may_break)
    figures.update(answers=2000 + hostile, outcomes=dict(sorted(judge.counts.items())))
    assert judge.problems == []
    assert judge.counts["APIConnectionError"] > 0 and judge.counts["ServerError"] >= 200
