"""Malformed and hostile HTTP answers, made by mutating the spec's own examples with a seeded RNG.

Each answer comes with the oracle's verdict on its body, decided from the
bundled spec, not from the client: a 200 is *usable* when it decodes as a
JSON object whose fields have the JSON types the spec gives them (unknown
fields and enum values, ranges and formats are not judged, and a field sent
as ``null`` counts as absent, as the response module documents); a create
answer must also carry a non-empty task ``id``, and no answer may decode to
more than the documented cap (``MAX_ANSWER_BYTES``, 1 MiB).
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import json
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jsonschema

from seedream._answers import MAX_ANSWER_BYTES
from seedream._spec import component_schema
from seedream.testing._spec_cases import documented_statuses, enum_sites, response_example, success_body

from .helpers import SENTINEL_KEY

OPERATIONS = {"createImageGeneration": "ImageGenerationResponse", "getTaskDetail": "TaskDetailResponse"}
TASK_ID = "task-unified-1756817821-4x3rx6ny"


@dataclass
class Answer:
    status: int
    content: bytes
    headers: dict[str, str | bytes] = field(default_factory=dict)
    kind: str = ""


# -- the oracle ------------------------------------------------------------------------------------------------------


def _types_only(schema: Mapping[str, Any], nullable: bool) -> dict[str, Any]:
    """``schema`` reduced to JSON types (``$ref`` followed): the part of the spec a response is held to."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _types_only(component_schema(ref.rsplit("/", 1)[1]), nullable)
    out: dict[str, Any] = {}
    kind = schema.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"] if nullable else kind
    if "properties" in schema:
        out["properties"] = {name: _types_only(sub, True) for name, sub in schema["properties"].items()}
    if "items" in schema:
        out["items"] = _types_only(schema["items"], False)
    return out


@cache
def _type_validator(operation: str) -> Any:
    schema = _types_only(component_schema(OPERATIONS[operation]), False)
    return jsonschema.Draft202012Validator(schema)


#: A task id a server may hand out: the documented prefix, then the conservative charset docs/library.md states
#: (an assumption beyond the spec: ids travel into URLs, the ledger and file names).
TASK_ID_SHAPE = re.compile(r"task-unified-[A-Za-z0-9_-]{1,100}")


def usable(operation: str, content: bytes) -> bool:
    """Whether a 200 with ``content`` must parse into the operation's model."""
    if len(content) > MAX_ANSWER_BYTES:
        return False
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        return False
    if type(data) is not dict or not _type_validator(operation).is_valid(data):
        return False
    task_id = data.get("id")
    return operation != "createImageGeneration" or (
        isinstance(task_id, str) and TASK_ID_SHAPE.fullmatch(task_id) is not None and SENTINEL_KEY not in task_id
    )


# -- JSON-level mutations ----------------------------------------------------------------------------------------------


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, sub in value.items():
            found.append((*prefix, key))
            found.extend(_paths(sub, (*prefix, key)))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            found.append((*prefix, index))
            found.extend(_paths(sub, (*prefix, index)))
    return found


def _parent(body: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        body = body[part]
    return body


_WRONG = (1, -1, 0, 1.5, 10**30, True, False, "", "x", "1", [], [1], ["a", None], {}, {"a": 1}, -0.0, 1e308)


def _drop(body: Any, rng: random.Random) -> Any:
    paths = _paths(body)
    if paths:
        path = rng.choice(paths)
        del _parent(body, path)[path[-1]]
    return body


def _null(body: Any, rng: random.Random) -> Any:
    paths = _paths(body)
    if paths:
        path = rng.choice(paths)
        _parent(body, path)[path[-1]] = None
    return body


def _wrong_type(body: Any, rng: random.Random) -> Any:
    paths = _paths(body)
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        if paths:
            path = rng.choice(paths)
            with contextlib.suppress(KeyError, IndexError, TypeError):  # an earlier change removed the path
                _parent(body, path)[path[-1]] = copy.deepcopy(rng.choice(_WRONG))
    return body


def _unknown_enum(operation: str) -> Callable[[Any, random.Random], Any]:
    sites = [path for path, _ in enum_sites(OPERATIONS[operation]) if "[]" not in path]

    def mutate(body: Any, rng: random.Random) -> Any:
        path = rng.choice(sites)
        node = body
        for part in path[:-1]:
            node = node.setdefault(part, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node[path[-1]] = rng.choice(["exploded", "", "COMPLETED", "queued", "image.generation.task.v2", "🤖"])
        return body

    return mutate


def _extra_fields(body: Any, rng: random.Random) -> Any:
    targets = [body] + [v for v in _values(body) if isinstance(v, dict)]
    for _ in range(rng.randint(1, 4)):
        rng.choice(targets)[rng.choice(["x", "_links", "id2", "error2", "results_v2", "ü"])] = rng.choice(_WRONG)
    return body


def _values(value: Any) -> list[Any]:
    out: list[Any] = []
    if isinstance(value, dict):
        for sub in value.values():
            out.append(sub)
            out.extend(_values(sub))
    elif isinstance(value, list):
        for sub in value:
            out.append(sub)
            out.extend(_values(sub))
    return out


def _status_values(body: Any, rng: random.Random) -> Any:
    body["status"] = rng.choice(["pending", "processing", "completed", "failed", "cancelled", "unknown", None, 3])
    if rng.random() < 0.5:
        body["error"] = rng.choice([{"code": "service_error", "message": "x"}, {"code": 5}, "boom", None, {}])
    if rng.random() < 0.5:
        body["results"] = rng.choice([[], ["https://x.example/a.png"], [None], "https://x.example/a.png", [1], None])
    if rng.random() < 0.5:
        body["progress"] = rng.choice([-5, 0, 50.0, 50.5, 101, 10**20, "50", None])
    return body


def _not_an_object(body: Any, rng: random.Random) -> Any:
    return rng.choice([[body], [], "task", 0, 1.5, None, True, json.dumps(body)])


JSON_MUTATIONS: dict[str, Callable[[str], Callable[[Any, random.Random], Any]]] = {
    "drop": lambda op: _drop,
    "null": lambda op: _null,
    "wrong-type": lambda op: _wrong_type,
    "unknown-enum": _unknown_enum,
    "extra-fields": lambda op: _extra_fields,
    "status-values": lambda op: _status_values,
    "not-an-object": lambda op: _not_an_object,
}


# -- byte-level answers ------------------------------------------------------------------------------------------------

HTML = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502</h1>nginx</body></html>"


def _text(body: Any) -> bytes:
    return json.dumps(body).encode()


def _bytes_answer(kind: str, body: Any, rng: random.Random) -> tuple[bytes, dict[str, str | bytes]]:
    text = _text(body)
    if kind == "truncated":
        return text[: rng.randrange(0, max(1, len(text)))], {}
    if kind == "html":
        return rng.choice([HTML, HTML.replace(b"nginx", SENTINEL_KEY.encode())]), {"content-type": "text/html"}
    if kind == "xml":
        return b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>', {"content-type": "application/xml"}
    if kind == "empty":
        return rng.choice([b"", b" ", b"\r\n", b"\x00"]), {}
    if kind == "encoding":
        return (
            rng.choice(
                [
                    b"\xef\xbb\xbf" + text,  # BOM
                    text.decode().encode("utf-16"),
                    text.replace(b'"', b"\xff", 1),
                    text[:-1] + b"\x00}",
                    b"\x80\x81\x82" * 10,
                ]
            ),
            {"content-type": "application/json; charset=" + rng.choice(["utf-8", "latin-1", "bogus"])},
        )
    if kind == "js-literals":
        return text.replace(b"0", b"NaN", 1).replace(b"1", b"-Infinity", 1), {}
    if kind == "duplicate-keys":
        return b'{"id": 1, ' + text[1:] + b"", {}
    if kind == "deep":
        depth = rng.choice([1_000, 100_000])
        return rng.choice([b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth]), {}
    if kind == "big-number":
        return text.replace(b"1", b"9" * rng.choice([400, 5_000, 50_000]), 1), {}
    if kind == "huge":  # rare (see hostile_answer): each costs the client (and the oracle) a real parse
        if rng.random() < 0.7:
            body = dict(body) if isinstance(body, dict) else {}
            body[rng.choice(["id", "model", "padding"])] = "x" * rng.choice([1 << 20, 4 << 20])
            return _text(body), {}
        return b'{"results": [' + b'"https://x.example/a.png",' * ((1 << 20) // 26) + b'""]}', {}
    if kind == "garbage":
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200))), {}
    if kind == "lying-encoding":
        encoding = rng.choice(["gzip", "br", "deflate", "zstd", "gzip, gzip", "identity", "x-unknown"])
        content = gzip.compress(b"not json") if rng.random() < 0.3 else text
        return content, {"content-encoding": encoding}
    if kind == "key-echo":
        envelope = {"error": {"code": "unauthorized", "message": f"bad token Bearer {SENTINEL_KEY}", "type": "x"}}
        return _text(rng.choice([envelope, {"echo": SENTINEL_KEY}, [SENTINEL_KEY]])), {}
    raise ValueError(kind)


BYTE_KINDS = (
    "truncated",
    "html",
    "xml",
    "empty",
    "encoding",
    "js-literals",
    "duplicate-keys",
    "deep",
    "big-number",
    "garbage",
    "lying-encoding",
    "key-echo",
)


def _headers(rng: random.Random) -> dict[str, str | bytes]:
    headers: dict[str, str | bytes] = {}
    if rng.random() < 0.3:
        headers["retry-after"] = rng.choice(
            ["", "0", "-1", "1.5", "NaN", "inf", "1e400", "99999999999999999999", "soon",
             "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 99 Foo 2020 00:00:00 GMT"]
        )  # fmt: skip
    if rng.random() < 0.2:
        headers["content-type"] = rng.choice(["text/html", "application/json", "image/png", "", "application/x-evil"])
    if rng.random() < 0.1:  # with a 3xx, httpx builds the redirect request even though nobody follows it
        headers["location"] = rng.choice(
            ["javascript:alert(1)", "http://[::1", "//evil.test/x", "/v1/tasks/x", "file:///etc/passwd", "",
             "http://evil.test:99999/", "https://evil.test/" + "a" * 5000, "\\evil\\share", "data:,x"]
        )  # fmt: skip
    if rng.random() < 0.1:
        headers["x-request-id"] = rng.choice(["", "req-1", "x" * 8_000, "é".encode()])  # raw UTF-8 on the wire
    return headers


def _base(operation: str, status: int, rng: random.Random) -> Any:
    if status == 200 or rng.random() < 0.3:
        return success_body(operation)
    example = response_example(operation, status) if status in documented_statuses(operation) else None
    return example if example is not None else response_example(operation, 500)


def _status(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.6:
        return 200
    if roll < 0.85:
        return rng.choice([301, 302, 307, 308, 400, 401, 402, 403, 404, 429, 500, 502, 503, 504, 520])
    return rng.randint(0, 999)


def hostile_answer(operation: str, rng: random.Random) -> Answer:
    """One mutated answer for ``operation``: a status, a body (JSON- or byte-level mutation) and odd headers."""
    status = _status(rng)
    body = _base(operation, status, rng)
    headers = _headers(rng)
    if rng.random() < 0.6:
        kind = rng.choice(list(JSON_MUTATIONS))
        mutated = JSON_MUTATIONS[kind](operation)(body, rng)
        content = _text(mutated)
    else:
        kind = "huge" if rng.random() < 0.01 else rng.choice(BYTE_KINDS)
        content, extra = _bytes_answer(kind, body, rng)
        headers.update(extra)
    return Answer(status, content, headers, kind)


RAW_HOSTILE = (
    # status lines and framing that httpx (h11) must turn into a connection error or a typed answer
    b"HTTP/1.1 0 Zero\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 99 Low\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 1000 High\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 -1 Negative\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 abc Letters\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 304 Not Modified\r\n\r\n",
    b"HTTP/1.0 200 OK\r\n\r\n" + b'{"id": "task-unified-1-x"}',
    b"HTTP/2 200\r\n\r\n{}",
    b"SSH-2.0-OpenSSH_9.6\r\n",
    b"",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"id": "task-unified-1-x"}',
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{}",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nBroken header line\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nX-Null: a\x00b\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\n\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 8\r\n\r\nnot gzip",
    b"HTTP/1.1 429 Too Many\r\nRetry-After: \xff\xfe\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + b'{"id": "task-unified-' + b"x" * 100_000,
    b"HTTP/1.1 500 Oops\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n\r\n",
    b"HTTP/1.1 200 \xe9t\xe9\r\nContent-Length: 2\r\n\r\n{}",
    b"\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{" + b"" + b"}",
    b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n" + json.dumps({"x": 1}).encode()[:6],
    b"HTTP/1.1 302 Found\r\nLocation: javascript:alert(1)\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://[::1\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 301 Moved\r\nLocation: http://169.254.169.254/latest/meta-data/\r\nContent-Length: 0\r\n\r\n",
)
