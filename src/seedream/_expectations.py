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
from dataclasses import dataclass
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
    "unknown-field",  # a field a closed object (additionalProperties: false) does not allow
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

# (pointer, kind, value, rule) appended by the checks; turned into Deviations at the end.
Found = list[tuple[str, str, Any, str]]
Check = Callable[[Any, str, Found], None]

_ANNOTATIONS = frozenset({"description", "example", "examples", "title", "default", "deprecated", "summary"})
_TYPES: Final[dict[str, Callable[[Any], bool]]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
}


def _is_uri(value: str) -> bool:
    return bool(validate_rfc3986(value, rule="URI"))


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def compile_schema(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Check:
    """Compile ``schema`` (``$ref``s resolved in ``root``, default the bundled spec) into one check."""
    return _Compiler(root if root is not None else _spec.load_spec()).compile(schema)


class _Compiler:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def _target(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#/"):
            raise ValueError(f"$ref {ref!r}: only references inside the document are supported")
        node: Any = self.root
        for raw in ref[2:].split("/"):
            node = node[raw.replace("~1", "/").replace("~0", "~")]
        return node  # type: ignore[no-any-return]

    def compile(self, schema: Mapping[str, Any]) -> Check:
        checks: list[Check] = []
        for keyword, arg in schema.items():
            if keyword in _ANNOTATIONS or keyword.startswith("x-") or keyword in {"then", "else"}:
                continue
            maker = getattr(self, "k_" + keyword.replace("$", "_"), None)
            if maker is None:
                raise ValueError(f"unsupported JSON Schema keyword {keyword!r} in a response schema")
            checks.append(maker(arg, schema))
        if not checks:
            return _accept
        if len(checks) == 1:
            return checks[0]
        run = tuple(checks)

        def all_of(value: Any, ptr: str, found: Found) -> None:
            for check in run:
                check(value, ptr, found)

        return all_of

    # Each k_<keyword>(argument, schema) returns a check for that keyword alone.

    def k__ref(self, ref: str, schema: Mapping[str, Any]) -> Check:
        if ref not in self.refs:
            self.refs[ref] = _accept  # cycle guard: the spec has none, and a cycle must not recurse forever
            self.refs[ref] = self.compile(self._target(ref))
        refs = self.refs
        return lambda value, ptr, found: refs[ref](value, ptr, found)

    def k_type(self, kind: str | list[str], schema: Mapping[str, Any]) -> Check:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        tests = tuple(_TYPES[k] for k in kinds)
        rule = f"type {'|'.join(kinds)}"

        def check(value: Any, ptr: str, found: Found) -> None:
            for test in tests:
                if test(value):
                    return
            found.append((ptr, "wrong-type", value, rule))

        return check

    def k_enum(self, values: list[Any], schema: Mapping[str, Any]) -> Check:
        allowed = tuple(values)
        rule = f"enum {list(values)!r}"

        def check(value: Any, ptr: str, found: Found) -> None:
            # `True == 1` in Python: compare types too, as JSON does.
            if not any(value == a and type(value) is type(a) for a in allowed):
                found.append((ptr, "unknown-enum", value, rule))

        return check

    def k_const(self, value: Any, schema: Mapping[str, Any]) -> Check:
        return self.k_enum([value], schema)

    def k_required(self, names: list[str], schema: Mapping[str, Any]) -> Check:
        keys = tuple((name, "/" + _escape(name)) for name in names)

        def check(value: Any, ptr: str, found: Found) -> None:
            if isinstance(value, dict):
                for name, suffix in keys:
                    if name not in value:
                        found.append((ptr + suffix, "missing", _ABSENT, "required"))

        return check

    def k_properties(self, props: Mapping[str, Any], schema: Mapping[str, Any]) -> Check:
        compiled = tuple((name, "/" + _escape(name), self.compile(sub)) for name, sub in props.items())

        def check(value: Any, ptr: str, found: Found) -> None:
            if isinstance(value, dict):
                for name, suffix, sub in compiled:
                    if name in value:
                        sub(value[name], ptr + suffix, found)

        return check

    def k_additionalProperties(self, sub: Any, schema: Mapping[str, Any]) -> Check:
        known = frozenset(schema.get("properties", {}))
        extra: Check | None = None if sub is False else self.compile(sub) if isinstance(sub, Mapping) else _accept

        def check(value: Any, ptr: str, found: Found) -> None:
            if isinstance(value, dict):
                for name in value.keys() - known:
                    if extra is None:
                        found.append((f"{ptr}/{_escape(name)}", "unknown-field", value[name], "no other fields"))
                    else:
                        extra(value[name], f"{ptr}/{_escape(name)}", found)

        return check

    def k_items(self, sub: Mapping[str, Any], schema: Mapping[str, Any]) -> Check:
        item = self.compile(sub)

        def check(value: Any, ptr: str, found: Found) -> None:
            if isinstance(value, list):
                for i, element in enumerate(value):
                    item(element, f"{ptr}/{i}", found)

        return check

    def k_allOf(self, subs: list[Mapping[str, Any]], schema: Mapping[str, Any]) -> Check:
        compiled = tuple(self.compile(sub) for sub in subs)

        def check(value: Any, ptr: str, found: Found) -> None:
            for sub in compiled:
                sub(value, ptr, found)

        return check

    def k_if(self, cond: Mapping[str, Any], schema: Mapping[str, Any]) -> Check:
        test = self.compile(cond)
        then = self.compile(schema.get("then", {}))
        otherwise = self.compile(schema.get("else", {}))

        def check(value: Any, ptr: str, found: Found) -> None:
            scratch: Found = []
            test(value, ptr, scratch)
            (otherwise if scratch else then)(value, ptr, found)

        return check

    def _bound(self, limit: float, schema: Mapping[str, Any], ok: Callable[[float, float], bool], rule: str) -> Check:
        def check(value: Any, ptr: str, found: Found) -> None:
            if isinstance(value, int | float) and not isinstance(value, bool) and not ok(value, limit):
                found.append((ptr, "out-of-range", value, rule))

        return check

    def k_minimum(self, limit: float, schema: Mapping[str, Any]) -> Check:
        return self._bound(limit, schema, lambda v, m: v >= m, f"minimum {limit}")

    def k_maximum(self, limit: float, schema: Mapping[str, Any]) -> Check:
        return self._bound(limit, schema, lambda v, m: v <= m, f"maximum {limit}")

    def k_exclusiveMinimum(self, limit: float, schema: Mapping[str, Any]) -> Check:
        return self._bound(limit, schema, lambda v, m: v > m, f"exclusiveMinimum {limit}")

    def k_exclusiveMaximum(self, limit: float, schema: Mapping[str, Any]) -> Check:
        return self._bound(limit, schema, lambda v, m: v < m, f"exclusiveMaximum {limit}")

    def _count(self, limit: int, kind: type[str] | type[list[Any]], measure: str, low: bool, kind_name: str) -> Check:
        rule = f"{measure} {limit}"

        def check(value: Any, ptr: str, found: Found) -> None:
            if isinstance(value, kind) and ((len(value) < limit) if low else (len(value) > limit)):
                found.append((ptr, kind_name, value, rule))

        return check

    def k_minLength(self, limit: int, schema: Mapping[str, Any]) -> Check:
        return self._count(limit, str, "minLength", True, "bad-shape")

    def k_maxLength(self, limit: int, schema: Mapping[str, Any]) -> Check:
        return self._count(limit, str, "maxLength", False, "bad-shape")

    def k_minItems(self, limit: int, schema: Mapping[str, Any]) -> Check:
        return self._count(limit, list, "minItems", True, "out-of-range")

    def k_maxItems(self, limit: int, schema: Mapping[str, Any]) -> Check:
        return self._count(limit, list, "maxItems", False, "out-of-range")

    def k_pattern(self, pattern: str, schema: Mapping[str, Any]) -> Check:
        search = re.compile(pattern).search
        rule = f"pattern {pattern}"

        def check(value: Any, ptr: str, found: Found) -> None:
            if isinstance(value, str) and search(value) is None:
                found.append((ptr, "bad-shape", value, rule))

        return check

    def k_format(self, name: str, schema: Mapping[str, Any]) -> Check:
        if name != "uri":
            raise ValueError(f"unsupported format {name!r} in a response schema")

        def check(value: Any, ptr: str, found: Found) -> None:
            if isinstance(value, str) and not _is_uri(value):
                found.append((ptr, "bad-shape", value, "format uri"))

        return check


_ABSENT: Final = object()


def _accept(value: Any, ptr: str, found: Found) -> None:
    return None


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
