"""What the server sends, turned into generated models or typed errors: never a stray exception.

A 200 body is decoded, its shape checked against the *types* the bundled spec
gives each field, then handed to the generated ``from_dict``. The shape check
is derived from the spec once (no hand-kept field list) and is deliberately
tolerant where the issue asks for tolerance:

- unknown fields are kept (``additional_properties``), unknown enum values
  are kept (open enums, ``is_known`` False), ranges and formats are not
  judged (response models never reject data over request-side rules);
- a field sent as ``null`` counts as absent, like a missing optional field;
- an integer sent as ``5.0`` is taken as ``5`` (JSON Schema calls it an integer).

Anything else (HTML, empty or truncated JSON, a list instead of an object, a
string where an object belongs) becomes :class:`UnexpectedResponseError`
carrying status, headers and the raw body.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from seedream_client.models import (
    CreditsResponse,
    ImageGenerationResponse,
    TaskDetailResponse,
    TaskListResponse,
    TaskStatus,
)

from ._errors import APIStatusError, TaskCancelledError, TaskFailedError, error_code, error_for_status
from ._redaction import cut, json_may_hold_secret, redact_data
from ._rules import is_retryable_task_code
from ._spec import component_schema

if TYPE_CHECKING:
    from ._drift import DriftMonitor

__all__ = [
    "ACCEPT_ENCODING",
    "MAX_ANSWER_BYTES",
    "MAX_BATCH_IDS",
    "TASK_ID_PREFIX",
    "TASK_ID_SHAPE",
    "ContentDecoder",
    "TaskBatch",
    "is_task_id",
    "parse_batch_response",
    "parse_create_response",
    "parse_credits_response",
    "parse_list_response",
    "parse_task_response",
    "raise_for_task_status",
]

#: The codings :class:`ContentDecoder` undoes: the only ones our requests accept.
ACCEPT_ENCODING = "gzip, deflate"
#: Largest decoded API answer read (a task with 15 result links is about 3 kB); more is refused while streaming.
MAX_ANSWER_BYTES = 1 << 20
#: Documented: every task id starts so (spec-facts; the API answers 400 ``invalid_task_id`` otherwise).
TASK_ID_PREFIX = "task-unified-"
#: Assumed (x-assumed): the rest is what every documented and observed id is made of
#: (``task-unified-1757165031-seedream5lite``). Conservative on purpose: a server-made id travels into URL
#: paths, the ledger, file names and terminals; anything else is refused as an unusable answer.
TASK_ID_SHAPE = re.compile(r"task-unified-[A-Za-z0-9_-]{1,100}")
#: Documented by the vendor's clients (spec-facts, x-assumed): at most 50 ids per ``POST /v1/tasks/batch``.
MAX_BATCH_IDS = 50


def is_task_id(value: object) -> bool:
    """Whether ``value`` has the shape of a task id a server may hand us."""
    return isinstance(value, str) and TASK_ID_SHAPE.fullmatch(value) is not None


M = TypeVar("M", ImageGenerationResponse, TaskDetailResponse, TaskListResponse, CreditsResponse)


@dataclass(frozen=True, slots=True)
class _Field:
    kind: str | tuple[str, ...] | None  # JSON type (or one of several); None: anything goes
    nested: dict[str, _Field] | None = None  # properties of an object
    items: _Field | None = None  # item of an array


class _Mismatch(Exception):
    def __init__(self, expected: str, got: object) -> None:
        super().__init__(expected)
        self.expected = expected
        self.got = got
        self.path: list[str] = []


def _field(schema: Mapping[str, Any], seen: frozenset[str]) -> _Field:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name in seen:  # a cycle: stop checking there
            return _Field(None)
        return _field(component_schema(name), seen | {name})
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties") or {}
        return _Field("object", {key: _field(sub, seen) for key, sub in props.items()})
    if kind == "array":
        items = schema.get("items")
        return _Field("array", items=_field(items, seen) if isinstance(items, Mapping) else None)
    simple = ("string", "integer", "number", "boolean")
    if isinstance(kind, list) and kind and all(k in simple for k in kind):  # `type: [string, integer]`
        return _Field(tuple(kind))
    return _Field(kind if kind in simple else None)


@cache
def _shape(component: str) -> _Field:
    return _field(component_schema(component), frozenset({component}))


_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "an array",
    "object": "an object",
}


def _conform(value: Any, field: _Field) -> Any:
    """``value`` if it has the field's JSON type (maybe normalised), else raises _Mismatch."""
    kind = field.kind
    if type(kind) is tuple:
        for one in kind:
            try:
                return _conform(value, _Field(one))
            except _Mismatch:
                continue
        raise _Mismatch(" or ".join(_WORDS[k] for k in kind), value)
    cls = type(value)
    if kind == "string":
        if cls is str or isinstance(value, str):
            return value
    elif kind == "integer":
        if cls is int:
            return value
        if cls is float and value.is_integer():
            return int(value)
    elif kind == "object":
        if cls is dict:
            return _conform_object(value, field.nested or {}) if field.nested else value
    elif kind == "array":
        if cls is list:
            item = field.items
            if item is None or item.kind is None:
                return value
            out = value
            for i, element in enumerate(value):
                try:
                    new = _conform(element, item) if element is not None else _raise(item, element)
                except _Mismatch as exc:
                    exc.path.insert(0, f"[{i}]")
                    raise
                if new is not element:
                    if out is value:
                        out = list(value)
                    out[i] = new
            return out
    elif kind == "number":
        if cls is int or cls is float:
            return value
    elif kind == "boolean":
        if cls is bool:
            return value
    else:
        return value
    raise _Mismatch(_WORDS[kind], value)


def _raise(field: _Field, value: object) -> Any:
    raise _Mismatch(_WORDS.get(field.kind, "a value") if isinstance(field.kind, str) else "a value", value)


def _conform_object(data: dict[str, Any], nested: dict[str, _Field]) -> dict[str, Any]:
    out = data
    for key, value in data.items():
        field = nested.get(key)
        if field is None:
            continue  # an extra field: kept as sent
        if value is None:  # null: as if absent
            if out is data:
                out = dict(data)
            del out[key]
            continue
        try:
            new = _conform(value, field)
        except _Mismatch as exc:
            exc.path.insert(0, f".{key}")
            raise
        if new is not value:
            if out is data:
                out = dict(data)
            out[key] = new
    return out


def _unusable(
    response: httpx.Response,
    reason: str,
    redact: tuple[str, ...],
    task_id: str | None = None,
    body: bytes | None = None,
) -> APIStatusError:
    return error_for_status(response, reason=reason, redact=redact, task_id=task_id, body=body)


_OPERATIONS = {
    "ImageGenerationResponse": "createImageGeneration",
    "TaskDetailResponse": "getTaskDetail",
    "TaskListResponse": "listTasks",
    "CreditsResponse": "getCredits",
    "TaskBatchResponse": "batchQueryTasks",
}


def _decoded(
    response: httpx.Response,
    component: str,
    redact: tuple[str, ...],
    body: bytes | None,
    drift: DriftMonitor | None = None,
) -> dict[str, Any]:
    """The body as a JSON object, every string in it redacted (the boundary where server text enters).

    ``body``: the decoded body when it was streamed (:func:`read_answer`); else ``response.content``.
    ``drift``: shown the answer (parsed once, here) before anything is judged, so drift that makes
    the answer unusable is recorded too.
    """
    content = response.content if body is None else body
    try:
        data = json.loads(content)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, too-long ints, nesting
        if drift is not None:
            drift.observe(_OPERATIONS[component], response, content)
        if not content:
            raise _unusable(response, f"HTTP {response.status_code} with an empty body", redact, body=content) from None
        reason = f"HTTP {response.status_code} body is not JSON ({exc.__class__.__name__})"
        raise _unusable(response, reason, redact, body=content) from None
    if drift is not None:
        drift.observe(_OPERATIONS[component], response, data)
    if type(data) is not dict:
        raise _unusable(
            response,
            f"HTTP {response.status_code} body is {type(data).__name__}, not a {component} object",
            redact,
            body=content,
        )
    return redact_data(data) if json_may_hold_secret(content) else data


def _parse(
    response: httpx.Response,
    model: type[M],
    component: str,
    redact: tuple[str, ...],
    data: dict[str, Any] | None = None,
    task_id: str | None = None,
    body: bytes | None = None,
) -> M:
    if data is None:
        data = _decoded(response, component, redact, body)
    shape = _shape(component)
    try:
        data = _conform_object(data, shape.nested or {})
    except _Mismatch as exc:
        where = "body" + "".join(exc.path)
        raise _unusable(
            response,
            f"HTTP {response.status_code} {component}: {where} should be {exc.expected}, got {type(exc.got).__name__}",
            redact,
            task_id,
            body,
        ) from None
    try:
        return model.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # the shape check should make this unreachable
        raise _unusable(
            response, f"HTTP {response.status_code} {component} did not parse ({exc!r})", redact, task_id, body
        ) from None


def parse_create_response(
    response: httpx.Response,
    *,
    redact: tuple[str, ...] = (),
    body: bytes | None = None,
    drift: DriftMonitor | None = None,
) -> ImageGenerationResponse:
    """A 200 answer to ``POST /v1/images/generations``; it must carry a task ``id`` of the documented shape.

    The id is judged first: an answer whose id is good but which breaks the
    spec elsewhere raises :class:`UnexpectedResponseError` *carrying* the id
    (``task_id``), as the task exists and is charged; an id of any other
    shape (an echoed secret, a path, a megabyte of text) is refused and
    shown only cut short and redacted. ``body``: the decoded body when it was
    streamed (:func:`read_answer`); else ``response.content``. ``drift``: the
    monitor shown the answer (see ``seedream._drift``).
    """
    data = _decoded(response, "ImageGenerationResponse", redact, body, drift)
    task_id = data.get("id")
    if not isinstance(task_id, str) or not task_id:
        raise _unusable(
            response,
            "HTTP 200 for a generation request without a task id: the task cannot be followed",
            redact,
            body=body,
        )
    if not is_task_id(task_id):
        raise _unusable(
            response,
            f"HTTP 200 for a generation request with an unusable task id {cut(repr(task_id), 60)} (expected "
            f"{TASK_ID_PREFIX!r} then 1-100 of A-Z a-z 0-9 _ -): the task may exist; see the EvoLink dashboard",
            redact,
            body=body,
        )
    return _parse(response, ImageGenerationResponse, "ImageGenerationResponse", redact, data, task_id, body)


def parse_task_response(
    response: httpx.Response,
    *,
    redact: tuple[str, ...] = (),
    body: bytes | None = None,
    drift: DriftMonitor | None = None,
) -> TaskDetailResponse:
    """A 200 answer to ``GET /v1/tasks/{task_id}`` (whether it is about the task asked for is the caller's check)."""
    data = _decoded(response, "TaskDetailResponse", redact, body, drift)
    return _parse(response, TaskDetailResponse, "TaskDetailResponse", redact, data, body=body)


def parse_list_response(
    response: httpx.Response,
    *,
    redact: tuple[str, ...] = (),
    body: bytes | None = None,
    drift: DriftMonitor | None = None,
) -> TaskListResponse:
    """A 200 answer to ``GET /v1/tasks``: one page of task summaries (their shape checked as every answer's)."""
    data = _decoded(response, "TaskListResponse", redact, body, drift)
    return _parse(response, TaskListResponse, "TaskListResponse", redact, data, body=body)


def parse_credits_response(
    response: httpx.Response,
    *,
    redact: tuple[str, ...] = (),
    body: bytes | None = None,
    drift: DriftMonitor | None = None,
) -> CreditsResponse:
    """A 200 answer to ``GET /v1/credits``: the account's and this key's balance."""
    data = _decoded(response, "CreditsResponse", redact, body, drift)
    return _parse(response, CreditsResponse, "CreditsResponse", redact, data, body=body)


@dataclass(frozen=True, slots=True)
class TaskBatch:
    """What one batch task query found: each task asked for and answered, by id (in the order asked), and the rest.

    ``missing``: ids asked for that the answer does not carry (the API leaves out unknown, expired and other
    accounts' tasks); a single task query tells which (404) or returns the task.
    """

    tasks: dict[str, TaskDetailResponse]
    missing: tuple[str, ...]


def parse_batch_response(
    response: httpx.Response,
    asked: Sequence[str],
    *,
    redact: tuple[str, ...] = (),
    body: bytes | None = None,
    drift: DriftMonitor | None = None,
) -> TaskBatch:
    """A 200 answer to ``POST /v1/tasks/batch`` for the ids ``asked``; every item read as a task query answer.

    The whole answer is refused (:class:`UnexpectedResponseError`, nothing of it may be recorded) when an item is
    about a task not asked for, carries no id, or repeats a task: which of two answers is true cannot be told.
    """
    data = _decoded(response, "TaskBatchResponse", redact, body, drift)
    items = data.get("data")
    status = response.status_code
    if type(items) is not list:
        got = "nothing" if items is None else type(items).__name__
        raise _unusable(response, f"HTTP {status} TaskBatchResponse: body.data should be an array, got {got}", redact)
    wanted = set(asked)
    tasks: dict[str, TaskDetailResponse] = {}
    for index, item in enumerate(items):
        where = f"HTTP {status} TaskBatchResponse: body.data[{index}]"
        if type(item) is not dict:
            raise _unusable(response, f"{where} should be an object, got {type(item).__name__}", redact, body=body)
        task_id = item.get("id")
        if not isinstance(task_id, str) or task_id not in wanted:
            raise _unusable(
                response,
                f"{where} is about {cut(repr(task_id), 60)}, a task not asked for: refused, nothing recorded",
                redact,
                body=body,
            )
        if task_id in tasks:
            raise _unusable(response, f"{where} repeats task {task_id}: refused, nothing recorded", redact, body=body)
        tasks[task_id] = _parse(response, TaskDetailResponse, "TaskDetailResponse", redact, item, task_id, body)
    ordered = {task_id: tasks[task_id] for task_id in asked if task_id in tasks}
    return TaskBatch(ordered, tuple(task_id for task_id in asked if task_id not in tasks))


def raise_for_task_status(task: TaskDetailResponse) -> TaskDetailResponse:
    """``task`` itself, unless it ended ``failed`` (:class:`TaskFailedError`) or ``cancelled``.

    A cancelled task raises :class:`TaskCancelledError`.

    A failed task's error carries the vendor's ``error.code``/``message`` and
    whether the vendor calls that code retryable (server side) or not (fix the
    request).
    """
    task_id = task.id if isinstance(task.id, str) else "(no id)"
    if task.status == TaskStatus.FAILED:
        error = task.error
        code = error_code(error.code) if error else None
        message = error.message if error and isinstance(error.message, str) else None
        raise TaskFailedError(
            task_id=task_id,
            code=code,
            message=message,
            retryable=is_retryable_task_code(code if isinstance(code, str) else None),
            task=task,
        )
    if task.status == TaskStatus.CANCELLED:
        raise TaskCancelledError(f"task {task_id} was cancelled", task_id=task_id)
    return task


# -- reading an answer: within the call's deadline, decoded size capped while streaming -----------------------------


class _Inflater:
    """One ``Content-Encoding`` step (gzip or deflate) whose output per call is bounded."""

    def __init__(self, encoding: str) -> None:
        self._raw_fallback = encoding == "deflate"  # "deflate" is zlib-wrapped by the RFC, raw by some servers
        self._inflate = zlib.decompressobj(zlib.MAX_WBITS | 16 if encoding != "deflate" else zlib.MAX_WBITS)
        self._tail = b""
        self._full = False

    @property
    def pending(self) -> bool:
        """Input left over, or output that may not have fitted: call again with ``b""``."""
        return bool(self._tail) or self._full

    def __call__(self, data: bytes, limit: int) -> bytes:
        data = self._tail + data if self._tail else data
        try:
            out = self._inflate.decompress(data, limit)
        except zlib.error:
            if not self._raw_fallback:
                raise
            self._raw_fallback = False
            self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._inflate.decompress(data, limit)
        if data:
            self._raw_fallback = False
        self._tail = self._inflate.unconsumed_tail
        self._full = len(out) >= limit and not self._inflate.eof
        return out


class ContentDecoder:
    """``Content-Encoding`` undone chunk by chunk, no piece longer than ``piece`` bytes: a bomb cannot balloon.

    httpx's own decoders inflate each raw chunk whole (64 KiB of gzip can become 64 MiB in one call). gzip and
    deflate are undone here (the only codings our requests accept); any other is passed through, as httpx does.
    A stream that does not decode raises ``httpx.DecodingError``.
    """

    def __init__(self, content_encoding: str, piece: int = 64 * 1024) -> None:
        encodings = [e.strip().lower() for e in content_encoding.split(",")]
        # Undone in reverse order of application.
        self._steps = [_Inflater(e) for e in reversed(encodings) if e in ("gzip", "x-gzip", "deflate")]
        self.piece = piece

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self._steps:
            if data:
                yield data
            return
        try:
            while True:
                out = data
                for step in self._steps:
                    out = step(out, self.piece)
                if out:
                    yield out
                if not any(step.pending for step in self._steps):
                    return
                data = b""
        except zlib.error as exc:
            raise httpx.DecodingError(f"Content-Encoding does not decode: {exc}") from None


_REFUSED_PREFIX = 1024


class _Body:
    """The decoded body, accumulated up to ``limit`` bytes; ``over`` once more than that arrived."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.over = False
        self._parts: list[bytes] = []
        self._decoder = ContentDecoder(content_encoding, min(limit + 1, 64 * 1024))

    def feed(self, data: bytes) -> bool:
        """Add a raw chunk; True once the decoded body is over the cap (stop reading)."""
        if self.over:
            return True
        for out in self._decoder.feed(data):
            self.size += len(out)
            if self.size > self.limit:
                self.over = True
                self._parts.append(out[: len(out) - (self.size - self.limit)])
                return True
            self._parts.append(out)
        return False

    def content(self) -> bytes:
        if self.over:  # refused: only its start is ever shown, so the capped body is not copied once more
            head = bytearray()
            for part in self._parts:
                head += part[: _REFUSED_PREFIX - len(head)]
                if len(head) >= _REFUSED_PREFIX:
                    break
            return bytes(head)
        return b"".join(self._parts)


def _in_memory(response: httpx.Response) -> bytes | None:
    try:
        return response.content  # a transport that built the answer in memory (MockTransport, respx)
    except httpx.ResponseNotRead:
        return None
