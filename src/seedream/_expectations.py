"""What a correct answer carries: the bundled spec's response schema plus the vendor examples' profile.

The vendor schema marks no response field ``required``, so a body that lost
``id`` or ``results`` is still schema-valid. The **expectations profile**
below states what the vendor's own examples always carry (``id`` shaped
``task-unified-…``, ``status``, ``created`` in unix seconds, ``model``,
``object``, ``type``, ``progress``; ``results`` of URIs once ``completed``, ``error`` with
``code`` and ``message`` once ``failed``; ``code``, ``message`` and the
documented ``type`` in every error envelope). It is kept apart from the
client's tolerant parsing (``_answers.py``), which must keep working when
the API drifts: this module *reports* drift, it never rejects an answer.

:func:`check_body` judges one answer against both, in one pass, on a cheap
path: the schema and the profile are merged and compiled once per
(operation, status) into one generated Python function (the subset of JSON Schema the spec uses; an
unsupported keyword fails at compile time, so a spec change cannot be
silently ignored). A deviation names the operation, a JSON pointer, a kind
and a redacted example value (:func:`redact`: never a URL's path or query,
never free text).

Intended call sites (a few lines each):

* client drift monitor (``_client.py``, where an answer's JSON is parsed)::

      for d in _expectations.check_body(operation_id, response.status_code, data,
                                        content_type=response.headers.get("content-type")):
          ledger.record_drift(d)           # by d.key: first/last seen, count; log once per kind

  (``data`` the JSON the client parsed anyway: about 3 µs per create answer,
  see ``python -m bench.fig_drift_check``; ``check_response(operation_id,
  response)`` parses it itself);

* conformance live mode: ``check_body(...)`` on every body read (task queries
  of ``--task-id``/ledger tasks, error answers), one row per deviation;
* offline tests: ``seedream.testing._drift_cases`` mutates correct bodies into each
  drift kind; every one must yield a deviation, no allowed change may.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final

from rfc3986_validator import validate_rfc3986  # type: ignore[import-untyped]  # what jsonschema's format check uses

from . import _spec

__all__ = [
    "CREATED_RANGE",
    "KINDS",
    "TASK_ID_PATTERN",
    "Deviation",
    "check_body",
    "check_response",
    "compile_schema",
    "profile",
    "redact",
]

#: Deviation kinds, by what the body got wrong.
KINDS: Final = (
    "missing",  # a field the examples always carry is absent
    "unknown-enum",  # a value outside the documented set
    "wrong-type",  # a JSON type the schema does not allow
    "bad-shape",  # a string of the wrong form (pattern, format, length)
    "out-of-range",  # a number or count outside its documented range
    "undocumented-status",  # an HTTP status the operation does not document
    "content-type",  # not a JSON media type
    "not-json",  # the body does not parse
)

# Every id the vendor documents starts "task-unified-" (spec-facts: other ids are refused with
# invalid_task_id) followed by token characters; a test checks every example id matches.
TASK_ID_PATTERN: Final = r"^task-unified-[A-Za-z0-9_.-]+$"
# Unix seconds between 2001 and 2100: a millisecond timestamp or a zero falls outside.
CREATED_RANGE: Final = (1_000_000_000, 4_102_444_800)

_TASK_BODY: Final[dict[str, Any]] = {
    # The keys every vendor 200 example shows (create: the property examples of
    # ImageGenerationResponse; task: the companion's example, from spec-facts).
    "required": ["id", "status", "created", "model", "object", "type", "progress"],
    "properties": {
        "id": {"type": "string", "pattern": TASK_ID_PATTERN},
        "created": {"type": "integer", "minimum": CREATED_RANGE[0], "maximum": CREATED_RANGE[1]},
        "model": {"type": "string", "minLength": 1},
    },
}

_TASK_BY_STATUS: Final[list[dict[str, Any]]] = [
    {
        # The completed example: results of URIs, progress 100.
        "if": {"required": ["status"], "properties": {"status": {"const": "completed"}}},
        "then": {
            "required": ["results"],
            "properties": {
                "results": {"type": "array", "minItems": 1, "items": {"type": "string", "format": "uri"}},
                "progress": {"minimum": 100},
            },
        },
    },
    {
        # spec-facts: "error object, only when status is failed: code ... and message".
        "if": {"required": ["status"], "properties": {"status": {"const": "failed"}}},
        "then": {
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string", "minLength": 1}, "message": {"type": "string"}},
                }
            },
        },
    },
]


def _error_profile(documented_type: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"code": {"minLength": 1}, "message": {"type": "string"}, "type": {"type": "string"}}
    if documented_type is not None:
        fields["type"] = {"enum": [documented_type]}
    return {
        "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message", "type"], "properties": fields}},
    }


# The answers that are not one task: what their (companion) examples always carry. The batch
# query's items are task query bodies; list items and the balance keep what spec-facts names.
_LIST_ITEM: Final[dict[str, Any]] = {
    # spec-facts: "the CLI reads `created_at`, `credits_used`, `has_results`, `has_error`"; the id to match on.
    "required": ["id", "created_at", "credits_used", "has_results", "has_error"],
    "properties": {"id": {"type": "string", "pattern": TASK_ID_PATTERN}},
}
_OTHER_200: Final[dict[str, dict[str, Any]]] = {
    "batchQueryTasks": {
        "required": ["data"],
        "properties": {"data": {"type": "array", "items": {**_TASK_BODY, "allOf": _TASK_BY_STATUS}}},
    },
    "listTasks": {
        "required": ["data", "total", "page", "page_size"],
        "properties": {"data": {"type": "array", "items": _LIST_ITEM}},
    },
    "getCredits": {
        # spec-facts "Balance": {"success", "message", "data": {"user": {...}, "token": {...}}}
        "required": ["success", "data"],
        "properties": {
            "data": {
                "type": "object",
                "required": ["user", "token"],
                "properties": {
                    "user": {"type": "object", "required": ["remaining_credits", "used_credits"]},
                    "token": {
                        "type": "object",
                        "required": ["remaining_credits", "used_credits", "unlimited_credits"],
                    },
                },
            }
        },
    },
}


def profile(operation_id: str, status: int) -> dict[str, Any]:
    """The expectations profile for one documented (or undocumented error) answer, as a JSON Schema."""
    if status == 200:
        if operation_id in _OTHER_200:
            return _OTHER_200[operation_id]
        body = dict(_TASK_BODY)
        if operation_id == "getTaskDetail":
            body["allOf"] = _TASK_BY_STATUS
        return body
    if status >= 400:
        # The documented example's `type` per status is the only one the vendor shows for it.
        example = _example(operation_id, status)
        error = example.get("error") if isinstance(example, Mapping) else None
        documented = error.get("type") if isinstance(error, Mapping) else None
        return _error_profile(documented if isinstance(documented, str) else None)
    return {}


def _example(operation_id: str, status: int) -> Any:
    from .testing._spec_cases import response_example

    return response_example(operation_id, status)


# --- deviations and redaction ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Deviation:
    """One way an answer departs from the spec or the expectations profile."""

    operation: str
    pointer: str  # JSON pointer into the body ("" = the whole answer)
    kind: str  # one of KINDS
    example: str  # redacted value found there ("<absent>" for a missing field)
    rule: str  # what was expected, e.g. "enum ['pending', ...]"

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes two sightings the same drift (for first/last seen and counts)."""
        return (self.operation, self.pointer, self.kind)


_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.:+-]{0,40}$")
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#@]*@)?([^/?#]*)")


def redact(value: Any) -> str:
    """A short, safe rendering: identifiers and numbers as they are, URLs without path or query, text by shape."""
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, str):
        url = _URL.match(value)
        if url:
            return f"{url.group(1)}://{url.group(3)}/…"
        if _IDENTIFIER.match(value):
            return json.dumps(value)
        return f"<string of {len(value)} chars>"
    if isinstance(value, Mapping):
        keys = sorted(str(k) for k in value)
        shown = ", ".join(k if _IDENTIFIER.match(k) else "…" for k in keys[:8])
        return "{" + shown + (", …" if len(keys) > 8 else "") + "}"
    if isinstance(value, list | tuple):
        return f"<array of {len(value)}>"
    return f"<{type(value).__name__}>"


# --- the compiler: JSON Schema subset -> one generated Python function -----------------------------
#
# Two steps. ``_Normaliser`` resolves ``$ref``s and merges ``allOf`` parts into one ``_Node`` per
# place in the body (the spec's schema and the profile then share one walk over the answer).
# ``_Generator`` writes that tree out as the straight-line source of one function (type first: a
# wrong type ends the node, its other keywords would only repeat the finding), so a clean answer
# costs a few dict lookups and type tests per field. Every value from the spec reaches the source
# as a name bound in the function's namespace, never as source text.

# (pointer, kind, value, rule) appended by the checks; turned into Deviations at the end.
Found = list[tuple[str, str, Any, str]]
Check = Callable[[Any, str, Found], None]

_ANNOTATIONS = frozenset({"description", "example", "examples", "title", "default", "deprecated", "summary"})
# `type(v) is int` rather than isinstance: bool is an int subclass and JSON keeps them apart.
_TYPE_TESTS: Final[dict[str, str]] = {
    "object": "type({v}) is dict",
    "array": "type({v}) is list",
    "string": "type({v}) is str",
    "boolean": "type({v}) is bool",
    "null": "{v} is None",
    "integer": "(type({v}) is int or (type({v}) is float and {v}.is_integer()))",
    "number": "(type({v}) is int or (type({v}) is float and _isfinite({v})))",
}
_NUMBER = "(type({v}) is int or type({v}) is float)"
# Common absolute http(s) URLs, every character of which RFC 3986 allows where it stands: accepted
# without the full (slower) RFC 3986 grammar, which judges everything else.
_PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*)?"
    r"(?:\?(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?"
).fullmatch


def _is_uri(value: str) -> bool:
    return _PLAIN_URL(value) is not None or bool(validate_rfc3986(value, rule="URI"))


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class _Leaf:
    test: str  # a Python expression over {v} (the value) and {c} (the constant) that is True when violated
    const: Any
    kind: str
    rule: str


@dataclass
class _Node:
    types: list[tuple[str, ...]] = field(default_factory=list)
    leaves: list[_Leaf] = field(default_factory=list)  # enum, bounds, lengths, pattern, format
    required: list[str] = field(default_factory=list)
    properties: dict[str, _Node] = field(default_factory=dict)
    items: _Node | None = None
    conditions: list[tuple[_Node, _Node, _Node]] = field(default_factory=list)


def compile_schema(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Check:
    """Compile ``schema`` (``$ref``s resolved in ``root``, default the bundled spec) into one check.

    The check is ``check(value, pointer, found)``: it appends ``(pointer, kind,
    value, rule)`` for every deviation. Raises ValueError naming any keyword
    outside the supported subset, so a spec change the checks would ignore
    fails loudly instead.
    """
    node = _Node()
    _Normaliser(root if root is not None else _spec.load_spec()).add(node, schema)
    return _Generator().function(node)


class _Normaliser:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.active: list[str] = []  # $refs being expanded: a cycle is refused, not recursed into

    def _target(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#/"):
            raise ValueError(f"$ref {ref!r}: only references inside the document are supported")
        if ref in self.active:
            raise ValueError(f"$ref {ref!r} is circular; the checks support only finite schemas")
        node: Any = self.root
        for raw in ref[2:].split("/"):
            node = node[raw.replace("~1", "/").replace("~0", "~")]
        return node  # type: ignore[no-any-return]

    def add(self, node: _Node, schema: Mapping[str, Any]) -> None:
        """Merge ``schema``'s constraints into ``node``."""
        for keyword, arg in schema.items():
            if keyword in _ANNOTATIONS or keyword.startswith("x-") or keyword in {"then", "else"}:
                continue
            handler = getattr(self, "k_" + keyword.replace("$", "_"), None)
            if handler is None:
                raise ValueError(f"unsupported JSON Schema keyword {keyword!r} in a response schema")
            handler(node, arg, schema)

    def fresh(self, schema: Mapping[str, Any]) -> _Node:
        node = _Node()
        self.add(node, schema)
        return node

    def k__ref(self, node: _Node, ref: str, schema: Mapping[str, Any]) -> None:
        target = self._target(ref)
        self.active.append(ref)
        self.add(node, target)
        self.active.pop()

    def k_allOf(self, node: _Node, subs: list[Mapping[str, Any]], schema: Mapping[str, Any]) -> None:
        for sub in subs:
            self.add(node, sub)

    def k_type(self, node: _Node, kind: str | list[str], schema: Mapping[str, Any]) -> None:
        kinds = (kind,) if isinstance(kind, str) else tuple(kind)
        for name in kinds:
            if name not in _TYPE_TESTS:
                raise ValueError(f"unknown JSON type {name!r}")
        node.types.append(kinds)

    def k_required(self, node: _Node, names: list[str], schema: Mapping[str, Any]) -> None:
        node.required.extend(n for n in names if n not in node.required)

    def k_properties(self, node: _Node, props: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
        for name, sub in props.items():
            self.add(node.properties.setdefault(name, _Node()), sub)

    def k_items(self, node: _Node, sub: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
        node.items = node.items or _Node()
        self.add(node.items, sub)

    def k_if(self, node: _Node, cond: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
        then, otherwise = self.fresh(schema.get("then", {})), self.fresh(schema.get("else", {}))
        node.conditions.append((self.fresh(cond), then, otherwise))

    def k_enum(self, node: _Node, values: list[Any], schema: Mapping[str, Any]) -> None:
        # (value, is-bool) pairs: JSON equates 1 and 1.0 (so does Python) but not 1 and true.
        allowed = frozenset((v, type(v) is bool) for v in values)
        test = "not (type({v}) in _SCALARS and ({v}, type({v}) is bool) in {c})"
        node.leaves.append(_Leaf(test, allowed, "unknown-enum", f"enum {list(values)!r}"))

    def k_const(self, node: _Node, value: Any, schema: Mapping[str, Any]) -> None:
        self.k_enum(node, [value], schema)

    def _bound(self, node: _Node, op: str, limit: float, keyword: str) -> None:
        node.leaves.append(_Leaf(f"{_NUMBER} and {{v}} {op} {{c}}", limit, "out-of-range", f"{keyword} {limit}"))

    def k_minimum(self, node: _Node, m: float, schema: Mapping[str, Any]) -> None:
        self._bound(node, "<", m, "minimum")

    def k_maximum(self, node: _Node, m: float, schema: Mapping[str, Any]) -> None:
        self._bound(node, ">", m, "maximum")

    def k_exclusiveMinimum(self, node: _Node, m: float, schema: Mapping[str, Any]) -> None:
        self._bound(node, "<=", m, "exclusiveMinimum")

    def k_exclusiveMaximum(self, node: _Node, m: float, schema: Mapping[str, Any]) -> None:
        self._bound(node, ">=", m, "exclusiveMaximum")

    def _length(self, node: _Node, of: str, op: str, n: int, kind: str, keyword: str) -> None:
        node.leaves.append(_Leaf(f"type({{v}}) is {of} and len({{v}}) {op} {{c}}", n, kind, f"{keyword} {n}"))

    def k_minLength(self, node: _Node, n: int, schema: Mapping[str, Any]) -> None:
        self._length(node, "str", "<", n, "bad-shape", "minLength")

    def k_maxLength(self, node: _Node, n: int, schema: Mapping[str, Any]) -> None:
        self._length(node, "str", ">", n, "bad-shape", "maxLength")

    def k_minItems(self, node: _Node, n: int, schema: Mapping[str, Any]) -> None:
        self._length(node, "list", "<", n, "out-of-range", "minItems")

    def k_maxItems(self, node: _Node, n: int, schema: Mapping[str, Any]) -> None:
        self._length(node, "list", ">", n, "out-of-range", "maxItems")

    def k_pattern(self, node: _Node, pattern: str, schema: Mapping[str, Any]) -> None:
        search = re.compile(pattern).search
        node.leaves.append(_Leaf("type({v}) is str and {c}({v}) is None", search, "bad-shape", f"pattern {pattern}"))

    def k_format(self, node: _Node, name: str, schema: Mapping[str, Any]) -> None:
        if name != "uri":
            raise ValueError(f"unsupported format {name!r} in a response schema")
        node.leaves.append(_Leaf("type({v}) is str and not {c}({v})", _is_uri, "bad-shape", "format uri"))


class _Generator:
    def __init__(self) -> None:
        self.names: dict[str, Any] = {"_SCALARS": (str, int, float, bool, type(None)), "_isfinite": math.isfinite}
        self.names["_ABSENT"] = _ABSENT
        self.lines: list[str] = []
        self.counter = 0

    def const(self, value: Any) -> str:
        self.counter += 1
        name = f"c{self.counter}"
        self.names[name] = value
        return name

    def var(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def function(self, node: _Node) -> Check:
        self.lines = ["def check(value, ptr, found):", "    pass"]
        self.node(node, "value", ["ptr"], "found", 1)
        namespace = dict(self.names)
        exec("\n".join(self.lines), namespace)  # our own generated source: spec values enter as names only
        check: Check = namespace["check"]
        return check

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def report(self, depth: int, ptr: list[str], out: str, kind: str, value: str, rule: str) -> None:
        self.emit(depth, f"{out}.append(({' + '.join(ptr)}, {self.const(kind)}, {value}, {self.const(rule)}))")

    def node(self, node: _Node, v: str, ptr: list[str], out: str, depth: int) -> None:
        for kinds in node.types:
            test = " or ".join(_TYPE_TESTS[k].format(v=v) for k in kinds)
            self.emit(depth, f"if not ({test}):")
            self.report(depth + 1, ptr, out, "wrong-type", v, f"type {'|'.join(kinds)}")
            self.emit(depth, "else:")
            depth += 1
        self.emit(depth, "pass")
        for leaf in node.leaves:
            self.emit(depth, f"if {leaf.test.format(v=v, c=self.const(leaf.const))}:")
            self.report(depth + 1, ptr, out, leaf.kind, v, leaf.rule)
        if node.required or node.properties:
            self.emit(depth, f"if type({v}) is dict:")
            for name in node.required:
                key = self.const(name)
                self.emit(depth + 1, f"if {key} not in {v}:")
                self.report(depth + 2, [*ptr, self.const("/" + _escape(name))], out, "missing", "_ABSENT", "required")
            for name, sub in node.properties.items():
                child = self.var("v")
                self.emit(depth + 1, f"{child} = {v}.get({self.const(name)}, _ABSENT)")
                self.emit(depth + 1, f"if {child} is not _ABSENT:")
                self.node(sub, child, [*ptr, self.const("/" + _escape(name))], out, depth + 2)
        if node.items is not None:
            index, child = self.var("i"), self.var("v")
            self.emit(depth, f"if type({v}) is list:")
            self.emit(depth + 1, f"for {index}, {child} in enumerate({v}):")
            self.node(node.items, child, [*ptr, '"/"', f"str({index})"], out, depth + 2)
        for cond, then, otherwise in node.conditions:
            scratch = self.var("s")
            self.emit(depth, f"{scratch} = []")
            self.node(cond, v, ptr, scratch, depth)
            self.emit(depth, f"if {scratch}:")
            self.node(otherwise, v, ptr, out, depth + 1)
            self.emit(depth, "else:")
            self.node(then, v, ptr, out, depth + 1)


_ABSENT: Final = object()


# --- per-answer entry point -------------------------------------------------------------------------


def _response_schema(operation_id: str, status: int) -> Mapping[str, Any] | None:
    from .testing._spec_cases import operation

    response = operation(operation_id)[2]["responses"].get(str(status))
    if response is None:
        return None
    schema: Mapping[str, Any] | None = response.get("content", {}).get("application/json", {}).get("schema")
    return schema


@cache
def _checker(operation_id: str, status: int) -> tuple[bool, Check]:
    """(documented?, one check for spec schema + profile), compiled on first use."""
    schema = _response_schema(operation_id, status)
    parts = [dict(schema)] if schema is not None else []
    parts.append(profile(operation_id, status))
    return schema is not None, compile_schema({"allOf": parts})


def _is_json_media(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def check_body(
    operation: str, status: int, body: Any, *, content_type: str | None = "application/json"
) -> list[Deviation]:
    """Every deviation of one answer from the bundled spec and the expectations profile.

    ``body`` is the raw bytes of the answer (parsed here) or the already
    parsed JSON value. ``content_type`` is the answer's header (None: not
    known, not judged). Never raises for a bad body: bad bodies are what
    this reports. An unknown ``operation`` is a programming error (KeyError).
    """
    found: Found = []
    if content_type is not None and not _is_json_media(content_type):
        found.append(("", "content-type", content_type, "application/json"))
    if isinstance(body, bytes | bytearray | memoryview):
        try:
            body = json.loads(bytes(body))
        except ValueError:
            found.append(("", "not-json", bytes(body)[:64].decode("utf-8", "replace"), "a JSON document"))
            return _deviations(operation, found)
    documented, check = _checker(operation, status)
    if not documented:
        found.append(("", "undocumented-status", status, "a status the operation documents"))
    check(body, "", found)
    return _deviations(operation, found)


def check_response(operation: str, response: Any) -> list[Deviation]:
    """:func:`check_body` on an ``httpx.Response`` (anything with ``status_code``, ``content``, ``headers``)."""
    return check_body(
        operation, response.status_code, response.content, content_type=response.headers.get("content-type")
    )


def _deviations(operation: str, found: Found) -> list[Deviation]:
    seen: set[tuple[str, str]] = set()
    out = []
    for ptr, kind, value, rule in found:
        if (ptr, kind) in seen:
            continue
        seen.add((ptr, kind))
        example = "<absent>" if value is _ABSENT else redact(value)
        out.append(Deviation(operation, ptr, kind, example, rule))
    return out
