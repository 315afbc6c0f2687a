"""What a correct answer carries: the bundled spec's response schema plus the vendor examples' profile.

The vendor schema marks no response field ``required``, so a body that lost
``id`` or ``results`` is still schema-valid. The **expectations profile**
below states what the vendor's own examples always carry (every key of the
documented examples; ``results`` of URIs once ``completed``, ``error`` with
``code`` and ``message`` once ``failed``; ``code``, ``message`` and the
documented ``type`` in every error envelope). It is kept apart from the
client's tolerant parsing (``_responses.py``), which must keep working when
the API drifts: this module *reports* drift, it never rejects an answer.

:func:`check_body` judges one answer against both, in one pass, on a cheap
path: the schema and the profile are compiled once per (operation, status)
into plain Python checks (the subset of JSON Schema the spec uses; an
unsupported keyword fails at compile time, so a spec change cannot be
silently ignored). A deviation names the operation, a JSON pointer, a kind
and a redacted example value (:func:`redact`: never a URL's path or query,
never free text).

Intended call sites (a few lines each):

* client drift monitor (``_client.py``, where an answer's JSON is parsed)::

      for d in _expectations.check_body(operation_id, response.status_code, data,
                                        content_type=response.headers.get("content-type")):
          ledger.record_drift(d)           # first/last seen, count; log once per kind

* conformance live mode: ``check_body(...)`` on every body read (task queries
  of ``--task-id``/ledger tasks, error answers), one row per deviation;
* offline tests: ``seedream._drift_cases`` mutates correct bodies into each
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


def profile(operation_id: str, status: int) -> dict[str, Any]:
    """The expectations profile for one documented (or undocumented error) answer, as a JSON Schema."""
    if status == 200:
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
    from ._spec_cases import response_example

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


# --- the compiler: JSON Schema subset -> Python checks ----------------------------------------------
#
# Two steps. ``_Normaliser`` resolves ``$ref``s and merges ``allOf`` parts into one ``_Node`` per
# place in the body (the spec's schema and the profile then share one walk over the answer).
# ``_emit`` turns each node into one closure that tests the JSON type first (a wrong type ends the
# node: its other keywords would only repeat the finding) and then only what the node constrains.

# (pointer, kind, value, rule) appended by the checks; turned into Deviations at the end.
Found = list[tuple[str, str, Any, str]]
Check = Callable[[Any, str, Found], None]

_ANNOTATIONS = frozenset({"description", "example", "examples", "title", "default", "deprecated", "summary"})
# `type(v) is int` rather than isinstance: bool is an int subclass and JSON keeps them apart.
_TYPES: Final[dict[str, Callable[[Any], bool]]] = {
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "string": lambda v: type(v) is str,
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
    "integer": lambda v: type(v) is int or (type(v) is float and v.is_integer()),
    "number": lambda v: type(v) is int or (type(v) is float and math.isfinite(v)),
}
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


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


@dataclass
class _Node:
    types: list[tuple[Callable[[Any], bool], str]] = field(default_factory=list)
    leaves: list[Check] = field(default_factory=list)  # enum, bounds, lengths, pattern, format
    required: list[str] = field(default_factory=list)
    properties: dict[str, _Node] = field(default_factory=dict)
    items: _Node | None = None
    conditions: list[tuple[_Node, _Node, _Node]] = field(default_factory=list)


def compile_schema(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Check:
    """Compile ``schema`` (``$ref``s resolved in ``root``, default the bundled spec) into one check.

    Raises ValueError naming any keyword outside the supported subset, so a
    spec change the checks would ignore fails loudly instead.
    """
    normaliser = _Normaliser(root if root is not None else _spec.load_spec())
    node = _Node()
    normaliser.add(node, schema)
    return _emit(node)


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
        kinds = [kind] if isinstance(kind, str) else list(kind)
        tests = tuple(_TYPES[k] for k in kinds)
        node.types.append((tests[0] if len(tests) == 1 else lambda v: any(t(v) for t in tests), "|".join(kinds)))

    def k_required(self, node: _Node, names: list[str], schema: Mapping[str, Any]) -> None:
        node.required.extend(n for n in names if n not in node.required)

    def k_properties(self, node: _Node, props: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
        for name, sub in props.items():
            self.add(node.properties.setdefault(name, _Node()), sub)

    def k_items(self, node: _Node, sub: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
        node.items = node.items or _Node()
        self.add(node.items, sub)

    def k_if(self, node: _Node, cond: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
        node.conditions.append(
            (self.fresh(cond), self.fresh(schema.get("then", {})), self.fresh(schema.get("else", {})))
        )

    def k_enum(self, node: _Node, values: list[Any], schema: Mapping[str, Any]) -> None:
        # (value, is-bool) pairs: JSON equates 1 and 1.0 (so does Python) but not 1 and true.
        allowed = frozenset((v, type(v) is bool) for v in values)
        rule = f"enum {list(values)!r}"

        def check(value: Any, ptr: str, found: Found) -> None:
            key = (value, type(value) is bool) if value is None or type(value) in (str, int, float, bool) else None
            if key not in allowed:
                found.append((ptr, "unknown-enum", value, rule))

        node.leaves.append(check)

    def k_const(self, node: _Node, value: Any, schema: Mapping[str, Any]) -> None:
        self.k_enum(node, [value], schema)

    def _leaf(self, node: _Node, test: Callable[[Any], bool], kind: str, rule: str) -> None:
        def check(value: Any, ptr: str, found: Found) -> None:
            if test(value):
                found.append((ptr, kind, value, rule))

        node.leaves.append(check)

    def k_minimum(self, node: _Node, m: float, schema: Mapping[str, Any]) -> None:
        self._leaf(node, lambda v: _is_number(v) and v < m, "out-of-range", f"minimum {m}")

    def k_maximum(self, node: _Node, m: float, schema: Mapping[str, Any]) -> None:
        self._leaf(node, lambda v: _is_number(v) and v > m, "out-of-range", f"maximum {m}")

    def k_exclusiveMinimum(self, node: _Node, m: float, schema: Mapping[str, Any]) -> None:
        self._leaf(node, lambda v: _is_number(v) and v <= m, "out-of-range", f"exclusiveMinimum {m}")

    def k_exclusiveMaximum(self, node: _Node, m: float, schema: Mapping[str, Any]) -> None:
        self._leaf(node, lambda v: _is_number(v) and v >= m, "out-of-range", f"exclusiveMaximum {m}")

    def k_minLength(self, node: _Node, n: int, schema: Mapping[str, Any]) -> None:
        self._leaf(node, lambda v: type(v) is str and len(v) < n, "bad-shape", f"minLength {n}")

    def k_maxLength(self, node: _Node, n: int, schema: Mapping[str, Any]) -> None:
        self._leaf(node, lambda v: type(v) is str and len(v) > n, "bad-shape", f"maxLength {n}")

    def k_minItems(self, node: _Node, n: int, schema: Mapping[str, Any]) -> None:
        self._leaf(node, lambda v: type(v) is list and len(v) < n, "out-of-range", f"minItems {n}")

    def k_maxItems(self, node: _Node, n: int, schema: Mapping[str, Any]) -> None:
        self._leaf(node, lambda v: type(v) is list and len(v) > n, "out-of-range", f"maxItems {n}")

    def k_pattern(self, node: _Node, pattern: str, schema: Mapping[str, Any]) -> None:
        search = re.compile(pattern).search
        self._leaf(node, lambda v: type(v) is str and search(v) is None, "bad-shape", f"pattern {pattern}")

    def k_format(self, node: _Node, name: str, schema: Mapping[str, Any]) -> None:
        if name != "uri":
            raise ValueError(f"unsupported format {name!r} in a response schema")
        self._leaf(node, lambda v: type(v) is str and not _is_uri(v), "bad-shape", "format uri")


def _emit(node: _Node) -> Check:
    types = tuple(node.types)
    leaves = tuple(node.leaves)
    required = tuple((name, "/" + _escape(name)) for name in node.required)
    props = tuple((name, "/" + _escape(name), _emit(sub)) for name, sub in node.properties.items())
    items = _emit(node.items) if node.items is not None else None
    conditions = tuple((_emit(c), _emit(t), _emit(e)) for c, t, e in node.conditions)

    def check(value: Any, ptr: str, found: Found) -> None:
        for test, rule in types:
            if not test(value):
                found.append((ptr, "wrong-type", value, f"type {rule}"))
                return
        for leaf in leaves:
            leaf(value, ptr, found)
        if type(value) is dict:
            for name, suffix in required:
                if name not in value:
                    found.append((ptr + suffix, "missing", _ABSENT, "required"))
            for name, suffix, sub in props:
                if name in value:
                    sub(value[name], ptr + suffix, found)
        elif items is not None and type(value) is list:
            for i, element in enumerate(value):
                items(element, f"{ptr}/{i}", found)
        for cond, then, otherwise in conditions:
            scratch: Found = []
            cond(value, ptr, scratch)
            (otherwise if scratch else then)(value, ptr, found)

    return check


_ABSENT: Final = object()


# --- per-answer entry point -------------------------------------------------------------------------


def _response_schema(operation_id: str, status: int) -> Mapping[str, Any] | None:
    from ._spec_cases import operation

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
