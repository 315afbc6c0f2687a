"""10,000 malformed requests to the simulator: 0 answered 5xx, none charged.

The simulator answers 5xx only to the faults it is told to inject. Requests
come from a seeded RNG, one kind at a time, round-robin:

* the client's invalid corpus: bodies broken one field at a time
  (``bodies.mutated_body``), both sides of every spec constraint
  (``seedream.testing._spec_cases.constraint_cases``), and values that pass Python's
  ``$`` (``"2048x2048\\n"``, URLs ending in a newline);
* raw junk bodies, wrong content types, bad UTF-8, huge and deeply nested
  JSON, numbers Python will not read;
* invalid headers (Authorization, Host), odd methods and paths, task ids with
  junk.

A few valid bodies are mixed in, so "no charge for refused requests" is
checked against requests that are charged: ``credits_charged`` equals the sum
of ``credits_reserved`` over the 200 answers, and ``tasks_created`` their
count. Every non-2xx answer of an API route carries the error envelope.
In-process (ASGI) for the bulk; over uvicorn on 127.0.0.1 for a share, with
raw socket requests h11 itself refuses; once with 10 % injected 5xx, where
every 5xx must be one of them; and with outbound on, where reference URLs of
every awkward shape are judged, resolved and connected to on a machine the
test makes offline (lookups fail, non-loopback connections are refused
before any packet).
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import string
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from seedream.simulator import SimulatorApp, SimulatorConfig, create_app, run_simulator
from seedream.testing._spec_cases import AWKWARD_TASK_IDS, constraint_cases

from . import bodies
from .conftest import Figures

pytestmark = pytest.mark.reliability

KEY = "sk-test"
AUTH = f"Bearer {KEY}"
CREATE = "/v1/images/generations"
API_ROUTES = ("POST /v1/images/generations", "GET /v1/tasks/{task_id}", "(unmatched)")
MAX_BODY = 1 << 16  # a small limit, so "too large" bodies stay cheap to send


@dataclass
class Probe:
    kind: str
    method: str = "POST"
    path: str = CREATE
    headers: dict[str, str | bytes] = field(default_factory=lambda: {"authorization": AUTH})
    content: bytes = b""
    valid: bool = False  # a body the simulator must accept (the oracle's verdict)


def wire(headers: dict[str, str | bytes]) -> list[tuple[bytes, bytes]]:
    """Headers as raw pairs: values given as bytes go out as they are (not valid text)."""
    return [(k.encode(), v if isinstance(v, bytes) else v.encode("latin-1")) for k, v in headers.items()]


def _json_headers() -> dict[str, str | bytes]:
    return {"authorization": AUTH, "content-type": "application/json"}


def _encode(body: Any) -> bytes:
    try:
        return json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")
    except (TypeError, ValueError):
        return repr(body).encode("utf-8", "surrogatepass")  # sets, bytes, objects: not JSON at all


# -- generators: one per kind ------------------------------------------------------------------------------------


def _corpus(rng: random.Random) -> Probe:
    # Not judged by the oracle: it still reads patterns with Python's `$` (1:1\n is "valid" to it), and the
    # simulator refusing such a value is the point. A mutation may leave a body valid: then it is charged.
    name, _fields, body = bodies.mutated_body(rng)
    return Probe(f"corpus:{name}", headers=_json_headers(), content=_encode(body))


_CONSTRAINTS = [case.outside for case in constraint_cases()]


def _constraint(rng: random.Random) -> Probe:
    return Probe("constraint", headers=_json_headers(), content=_encode(rng.choice(_CONSTRAINTS)))


def _dollar(rng: random.Random) -> Probe:
    """Values Python's `$` lets through a `^...$` pattern (and the uri checker's regex)."""
    body = bodies.valid_body(rng)
    body.pop("callback_url", None)
    field_, value = rng.choice(
        [
            ("size", rng.choice(["2048x2048\n", "auto\n", "16:9\n", "100x100\n", "3072x3072\n", "1:1\n"])),
            ("callback_url", "https://hooks.example.com/x\n"),
            ("image_urls", ["https://cdn.example.com/a.png\n"]),
            ("image_urls", ["https://cdn.example.com/a.png\r\n"]),
            ("callback_url", "https://hooks.example.com/\tx"),
        ]
    )
    body[field_] = value
    return Probe("dollar-newline", headers=_json_headers(), content=_encode(body))


def _valid(rng: random.Random) -> Probe:
    body = bodies.valid_body(rng)
    body.pop("image_urls", None)  # nothing to fetch (the simulator's outbound is off anyway)
    body.pop("callback_url", None)
    return Probe("valid", headers=_json_headers(), content=_encode(body), valid=bodies.oracle_valid(body))


def _junk(rng: random.Random) -> Probe:
    size = rng.choice([0, 1, 2, rng.randint(3, 64), rng.randint(65, 4096)])
    data = bytes(rng.getrandbits(8) for _ in range(size))
    return Probe("raw-junk", headers={"authorization": AUTH, "content-type": rng.choice(["application/json", ""])},
                 content=data)  # fmt: skip


def _content_type(rng: random.Random) -> Probe:
    body = bodies.valid_body(rng)
    body.pop("image_urls", None)
    body.pop("callback_url", None)
    kind = rng.choice(["form", "multipart", "text", "xml", "json-wrong-type"])
    if kind == "form":
        content = "&".join(f"{k}={quote(str(v), errors='surrogatepass')}" for k, v in body.items()).encode()
        ctype = "application/x-www-form-urlencoded"
    elif kind == "multipart":
        content = b'--b\r\ncontent-disposition: form-data; name="prompt"\r\n\r\nx\r\n--b--\r\n'
        ctype = "multipart/form-data; boundary=b"
    elif kind == "xml":
        content, ctype = b"<request><prompt>x</prompt></request>", "application/xml"
    else:
        # A JSON body under another media type: the simulator reads bodies as JSON whatever the header says.
        content, ctype = _encode(body), rng.choice(["text/plain", "application/octet-stream", "image/png", "\x00"])
        return Probe(f"content-type:{kind}", headers={"authorization": AUTH, "content-type": ctype}, content=content,
                     valid=bodies.oracle_valid(body))  # fmt: skip
    return Probe(f"content-type:{kind}", headers={"authorization": AUTH, "content-type": ctype}, content=content)


def _bad_utf8(rng: random.Random) -> Probe:
    bad = rng.choice([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xf4\x90\x80\x80", b"\x80", b"\xfe\xff"])
    text = json.dumps({"model": bodies.MODEL, "prompt": "a lake"}).encode()
    where = rng.choice(["prompt", "key", "start", "bom"])
    if where == "prompt":
        content = text.replace(b"a lake", b"a " + bad + b" lake")
    elif where == "key":
        content = text.replace(b'"model"', b'"mo' + bad + b'del"')
    elif where == "start":
        content = bad + text
    else:
        content = b"\xef\xbb\xbf" + text
    return Probe(f"bad-utf8:{where}", headers=_json_headers(), content=content)


def _huge(rng: random.Random) -> Probe:
    kind = rng.choice(["over-limit", "long-prompt", "many-keys", "long-array", "big-number", "long-string-key"])
    base = {"model": bodies.MODEL, "prompt": "x"}
    if kind == "over-limit":
        content = json.dumps(base | {"pad": "a" * (MAX_BODY + rng.randint(1, 5000))}).encode()
    elif kind == "long-prompt":
        content = json.dumps(base | {"prompt": "a" * rng.randint(2001, MAX_BODY - 100)}).encode()
    elif kind == "many-keys":
        content = json.dumps(base | {f"k{i}": i for i in range(rng.randint(100, 4000))}).encode()
    elif kind == "long-array":
        content = json.dumps(base | {"image_urls": ["https://cdn.example.com/a.png"] * rng.randint(15, 3000)}).encode()
    elif kind == "big-number":
        digits = rng.choice([20, 400, 4301, 6000])
        content = b'{"model": "%s", "prompt": "x", "n": %s}' % (bodies.MODEL.encode(), b"9" * digits)
    else:
        content = json.dumps(base | {"x" * rng.randint(1000, 30000): 1}).encode()
    return Probe(f"huge:{kind}", headers=_json_headers(), content=content[: MAX_BODY * 2])


def _deep(rng: random.Random) -> Probe:
    depth = rng.choice([50, 500, 900, 990, 1000, 5000, 20000])
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    nest = opener * depth + "1" + closer * depth
    field_ = rng.choice(["prompt", "image_urls", "model_params", "extra", "size", "n"])
    content = f'{{"model": "{bodies.MODEL}", "prompt": "x", "{field_}": {nest}}}'.encode()
    if rng.random() < 0.2:
        content = nest.encode()  # the body itself
    return Probe(f"deep:{depth}", headers=_json_headers(), content=content)


def _numbers(rng: random.Random) -> Probe:
    value = rng.choice(["1e400", "-1e400", "1.0", "1e0", "-0", "0.0000001", "15.000000000000001", "1E1", "01", "0x1"])
    content = b'{"model": "%s", "prompt": "x", "n": %s}' % (bodies.MODEL.encode(), value.encode())
    return Probe("numbers", headers=_json_headers(), content=content)


_AUTHS: tuple[str | bytes, ...] = (
    "", "Bearer", "Bearer ", "bearer " + KEY, "Basic " + KEY, "Bearer  " + KEY, f"Bearer {KEY} extra",
    "Bearer " + "k" * 10000, b"Bearer \xff\xfe", b"Bearer sk-\xe9", "Token " + KEY, KEY, "Bearer\t" + KEY,
)  # fmt: skip
_HOSTS: tuple[str | bytes, ...] = (
    "[", "a b", "x:99999", "[::1", "host:0", "h:-1", ":80", "", "a/b", "a@b", "[::1]:8080", "a" * 300,
    b"h\xffst", "example.com:80:80", "%00", "127.0.0.1",
)  # fmt: skip


def _headers(rng: random.Random) -> Probe:
    body = _encode({"model": bodies.MODEL, "prompt": "x"})
    auth = rng.choice(_AUTHS)
    headers: dict[str, str | bytes] = {"authorization": auth, "content-type": "application/json"}
    if rng.random() < 0.5:
        headers["host"] = rng.choice(_HOSTS)
        headers["authorization"] = AUTH
    if rng.random() < 0.3:
        values: list[str | bytes] = ["\x7f", "a" * 8000, "", b"\x80\x81"]
        headers[rng.choice(["x-weird", "content-length-x", "transfer-encoding-x", "accept"])] = rng.choice(values)
    return Probe("headers", headers=headers, content=body)


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "HEAD", "FOO", "CONNECT", "PROPFIND")
_PATHS = (
    CREATE, CREATE + "/", "/v1/images/generations/x", "//v1/images/generations", "/v1/images/", "/v1/tasks",
    "/v1/tasks/", "/v1/tasks//", "/V1/TASKS/task-unified-1", "/", "/v2/images/generations", "/__simulator__/",
    "/__simulator__/files/", "/__simulator__/files/../counters", "/__simulator__/files/%00.png",
    "/__simulator__/files/" + "a" * 3000 + ".png", "/__simulator__/nope", "/v1/images/generations?x=%ff",
    "/%2e%2e/v1/tasks/x", "/v1/tasks/task-unified-%ff%fe",
)  # fmt: skip


def _method_path(rng: random.Random) -> Probe:
    method, path = rng.choice(_METHODS), rng.choice(_PATHS)
    return Probe(f"method-path:{method}", method=method, path=path, content=_encode({"prompt": "x"}))


def _task_id(rng: random.Random) -> Probe:
    kind = rng.random()
    if kind < 0.3:
        task_id = quote(rng.choice(AWKWARD_TASK_IDS), safe="")
    elif kind < 0.6:
        junk = "".join(rng.choices(string.printable + "ü画\u202e\ufeff", k=rng.randint(0, 80)))
        task_id = quote("task-unified-" + junk, safe="")
    elif kind < 0.8:
        task_id = "task-unified-" + "".join(f"%{rng.getrandbits(8):02X}" for _ in range(rng.randint(1, 40)))
    else:
        task_id = rng.choice(["", "%00", "task-unified-" + "a" * 5000, "TASK-UNIFIED-1", "task-unified-", "%2F"])
    return Probe("task-id", method=rng.choice(["GET", "GET", "HEAD"]), path=f"/v1/tasks/{task_id}")


GENERATORS = (
    _corpus, _corpus, _corpus, _constraint, _dollar, _valid, _junk, _content_type, _bad_utf8, _huge, _deep,
    _numbers, _headers, _method_path, _task_id,
)  # fmt: skip


def probes(seed: int, count: int) -> list[Probe]:
    rng = random.Random(seed)
    return [GENERATORS[i % len(GENERATORS)](rng) for i in range(count)]


# -- running and judging ----------------------------------------------------------------------------------------------


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    five_xx: list[str] = field(default_factory=list)
    no_envelope: list[str] = field(default_factory=list)
    valid_refused: list[str] = field(default_factory=list)
    reserved: float = 0.0
    accepted: int = 0

    def judge(self, probe: Probe, status: int, body: bytes, *, injected_ok: bool = False) -> None:
        self.statuses[status] += 1
        self.kinds[probe.kind.split(":")[0]] += 1
        if status >= 500 and not injected_ok:
            self.five_xx.append(f"{probe.kind} {probe.method} {probe.path[:60]} -> {status}: {body[:120]!r}")
        if status == 200 and probe.method == "POST" and probe.path == CREATE:
            created = json.loads(body)
            self.reserved += created["usage"]["credits_reserved"]
            self.accepted += 1
        elif 400 <= status < 500 and probe.method != "HEAD" and not probe.path.startswith("/__simulator__/files/"):
            try:
                error = json.loads(body)["error"]
                assert {"code", "message", "type"} <= set(error)
            except (ValueError, KeyError, TypeError, AssertionError):
                self.no_envelope.append(f"{probe.kind} -> {status}: {body[:120]!r}")
        if probe.valid and status != 200:
            self.valid_refused.append(f"{probe.kind} -> {status}: {body[:200]!r}")


def _config(**overrides: Any) -> SimulatorConfig:
    return SimulatorConfig.for_tests(outbound="none", max_body_bytes=MAX_BODY, **overrides)


async def _run_in_process(app: SimulatorApp, batch: list[Probe], tally: Tally, *, injected_ok: bool = False) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # an app exception becomes a 500
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:9") as client:
        for probe in batch:
            response = await client.request(
                probe.method, probe.path, headers=wire(probe.headers), content=probe.content
            )
            tally.judge(probe, response.status_code, response.content, injected_ok=injected_ok)


def _api_5xx(counters: dict[str, Any]) -> int:
    return sum(
        n for route, statuses in counters["requests"].items() for status, n in statuses.items()
        if status.isdigit() and int(status) >= 500 and any(route.endswith(r) for r in API_ROUTES)
    )  # fmt: skip


def _books(tally: Tally, counters: dict[str, Any]) -> None:
    """Charged exactly what the 200 answers reserved, for exactly as many tasks: refused requests cost nothing."""
    assert counters["tasks_created"] == tally.accepted
    assert counters["credits_charged"] == pytest.approx(tally.reserved)
    assert counters["errors"]["unreadable_body"] == 0  # the safety net never had to catch anything


def test_malformed_requests_in_process_get_no_5xx_and_cost_nothing(figures: Figures, thorough: bool) -> None:
    count = 40_000 if thorough else 12_500  # about 80 % refused: at least 10,000 malformed
    batch = probes(10, count)
    tally = Tally()
    with create_app(_config()) as app:
        asyncio.run(_run_in_process(app, batch, tally))
        counters = app.counters()
    assert not tally.five_xx, f"{len(tally.five_xx)} answered 5xx, first: {tally.five_xx[:5]}"
    assert _api_5xx(counters) == 0
    assert not tally.no_envelope, tally.no_envelope[:5]
    assert not tally.valid_refused, tally.valid_refused[:5]
    _books(tally, counters)
    refused = sum(n for status, n in tally.statuses.items() if 400 <= status < 500)
    assert refused >= 10_000  # the corpus really is malformed
    figures.update(
        requests=count,
        refused_4xx=refused,
        non_injected_5xx=len(tally.five_xx),
        statuses=dict(sorted(tally.statuses.items())),
        kinds=dict(sorted(tally.kinds.items())),
        accepted_and_charged=tally.accepted,
        credits_charged=counters["credits_charged"],
    )


def _raw_exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


_RAW = (
    b"GARBAGE\r\n\r\n",
    b"GET /v1/tasks/x HTTP/1.1\r\n\r\n",  # no Host
    b"GET /v1/tasks/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"POST /v1/images/generations HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nContent-Length: 11\r\n\r\n",
    b"POST /v1/images/generations HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"POST /v1/images/generations HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
    b"GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X-Long: " + b"a" * 70_000 + b"\r\n\r\n",
    b"POST /v1/images/generations HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer sk-test\r\nContent-Length: 5\r\n\r\n{",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(32),  # a TLS ClientHello
)


def test_malformed_requests_over_uvicorn_get_no_5xx(figures: Figures, thorough: bool) -> None:
    count = 3_000 if thorough else 600
    batch = probes(11, count)
    tally = Tally()
    raw_statuses: Counter[str] = Counter()
    with run_simulator(_config()) as server:

        async def run() -> None:
            async with httpx.AsyncClient(base_url=server.base_url, trust_env=False) as client:
                for probe in batch:
                    try:
                        response = await client.request(
                            probe.method, probe.path, headers=wire(probe.headers), content=probe.content
                        )
                    except httpx.LocalProtocolError:
                        tally.kinds["refused-by-httpx"] += 1  # httpx will not send some of the junk headers
                        continue
                    tally.judge(probe, response.status_code, response.content)

        asyncio.run(run())
        for data in _RAW * (5 if thorough else 1):
            answer = _raw_exchange(server.port, data)
            status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/1.1 ") else "closed"
            raw_statuses[status] += 1
            assert not status.startswith("5"), (data[:60], answer[:200])
        counters = server.counters()
    assert not tally.five_xx, f"{len(tally.five_xx)} answered 5xx, first: {tally.five_xx[:5]}"
    assert _api_5xx(counters) == 0
    assert not tally.no_envelope, tally.no_envelope[:5]
    _books(tally, counters)
    figures.update(
        requests=count,
        raw_socket_requests=sum(raw_statuses.values()),
        non_injected_5xx=len(tally.five_xx),
        statuses=dict(sorted(tally.statuses.items())),
        raw_statuses=dict(sorted(raw_statuses.items())),
    )


def test_with_injected_5xx_every_5xx_is_an_injected_one(figures: Figures, thorough: bool) -> None:
    count = 5_000 if thorough else 1_500
    batch = probes(12, count)
    tally = Tally()
    with create_app(_config(fault_5xx=0.1, seed=5)) as app:
        asyncio.run(_run_in_process(app, batch, tally, injected_ok=True))
        counters = app.counters()
    injected = counters["faults"]["5xx_before"] + counters["faults"]["5xx_after"]
    answered = sum(n for status, n in tally.statuses.items() if status >= 500)
    assert injected > 0 and answered == injected
    assert counters["errors"]["unreadable_body"] == 0
    figures.update(requests=count, injected_5xx=injected, answered_5xx=answered)


_REFERENCE_URLS = (
    "https://" + "a" * 70 + ".example/x.png",  # a label IDNA refuses
    "https://a..b.example/x.png",
    "https://b\u00fc" + "c" * 70 + ".example/x.png",
    "https://xn--/x.png",
    "https://-a.example/x.png",
    "https://%41.example/x.png",
    "https://user:pw@cdn.example.com/x.png",
    "https://cdn.example.com:65535/x.png",
    "https://8.8.8.8/x.png",  # a public literal: connected to (the test refuses the connection)
    "https://[2001:4860:4860::8888]/x.png",
    "https://[fe80::1%25eth0]/x.png",
    "https://cdn.example.com/" + "p" * 3000 + ".png",
    "https://cdn.example.com/a.png?" + "q=%ff&" * 100,
    "HTTPS://CDN.EXAMPLE.COM/A.PNG",
)


def test_reference_urls_on_an_offline_machine_never_get_a_5xx(
    monkeypatch: pytest.MonkeyPatch, figures: Figures, thorough: bool
) -> None:
    """Outbound on (the default, public): every reference URL is judged, resolved, maybe connected to. The
    machine is offline: name lookups fail and connections to non-loopback addresses are refused (by this
    test, before any packet). Whatever the URL, the POST is answered 200 or 4xx, never 5xx."""
    guarded_getaddrinfo, guarded_connect = socket.getaddrinfo, socket.socket.connect
    refused: list[object] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in ("8.8.8.8", "2001:4860:4860::8888"):  # literals resolve to themselves, without DNS
            family = socket.AF_INET6 if ":" in name else socket.AF_INET
            return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (name, int(port or 0)))]
        if name not in ("127.0.0.1", "::1", "localhost"):
            raise socket.gaierror(socket.EAI_NONAME, "offline test machine")
        return guarded_getaddrinfo(host, port, *args, **kwargs)

    def connect(sock: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1"):
            refused.append(address)
            raise ConnectionRefusedError("offline test machine")
        guarded_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    rng = random.Random(13)
    count = 3_000 if thorough else 600  # each fetch attempt builds a TLS context: ~10 ms
    batch = []
    for _ in range(count):
        body = bodies.valid_body(rng)
        body.pop("callback_url", None)
        urls = [
            rng.choice(_REFERENCE_URLS) if rng.random() < 0.6 else bodies.url(rng) for _ in range(rng.randint(1, 3))
        ]
        body["image_urls"] = urls
        body["n"] = 1
        batch.append(Probe("references", headers=_json_headers(), content=_encode(body)))
    tally = Tally()
    with create_app(SimulatorConfig.for_tests(allow_loopback=False, outbound="public", max_body_bytes=MAX_BODY)) as app:
        asyncio.run(_run_in_process(app, batch, tally))
        counters = app.counters()
    assert not tally.five_xx, f"{len(tally.five_xx)} answered 5xx, first: {tally.five_xx[:5]}"
    _books(tally, counters)
    assert tally.accepted > 0 and counters["references"]["skipped"] > 0
    figures.update(
        requests=count,
        non_injected_5xx=len(tally.five_xx),
        statuses=dict(sorted(tally.statuses.items())),
        references=counters["references"],
        refused_connections=len(refused),
    )
