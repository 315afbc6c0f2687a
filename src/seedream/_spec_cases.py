"""Cases read from the bundled spec: example bodies and both sides of every request constraint.

Used by the conformance suite (client and server layers, live zero-spend
mode) and by the pytest plugin's respx routes, so that none of them
hard-codes what the spec already says. Nothing here is a rule: constraints
are read from the spec and prose rules come from :mod:`seedream._rules`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from ._spec import load_spec

__all__ = [
    "AWKWARD_TASK_IDS",
    "ConstraintCase",
    "constraint_cases",
    "documented_statuses",
    "enum_sites",
    "example_for",
    "match_operation",
    "operation",
    "request_example",
    "request_problems",
    "response_example",
    "success_body",
]


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        node: Any = load_spec()
        for part in str(schema["$ref"]).removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        schema = node
    return schema


def operation(operation_id: str) -> tuple[str, str, Mapping[str, Any]]:
    """(path, method, operation object) of ``operation_id``."""
    for path, item in load_spec()["paths"].items():
        for method, op in item.items():
            if isinstance(op, Mapping) and op.get("operationId") == operation_id:
                return path, method, op
    raise KeyError(operation_id)


def documented_statuses(operation_id: str) -> list[int]:
    return sorted(int(code) for code in operation(operation_id)[2]["responses"] if code.isdigit())


def response_example(operation_id: str, status: int) -> Any | None:
    """The spec's example JSON body for a documented response, or None when it gives none."""
    response = operation(operation_id)[2]["responses"].get(str(status))
    if response is None:
        return None
    media = response.get("content", {}).get("application/json", {})
    if "example" in media:
        return copy.deepcopy(media["example"])
    for example in (media.get("examples") or {}).values():
        return copy.deepcopy(example["value"])
    return None


def request_example(operation_id: str = "createImageGeneration") -> dict[str, Any]:
    """The first request-body example of an operation (a spec-valid body)."""
    media = operation(operation_id)[2]["requestBody"]["content"]["application/json"]
    if "example" in media:
        return dict(copy.deepcopy(media["example"]))
    for example in media["examples"].values():
        return dict(copy.deepcopy(example["value"]))
    raise KeyError(f"{operation_id} has no request example")


def example_for(schema: Mapping[str, Any]) -> Any:
    """An instance of ``schema`` built from the spec's own ``example``/``default``/``enum`` values."""
    schema = _resolve(schema)
    if "example" in schema:
        return copy.deepcopy(schema["example"])
    if "default" in schema:
        return copy.deepcopy(schema["default"])
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: example_for(sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [example_for(schema.get("items", {}))]
    return {"string": "example", "integer": 0, "number": 0, "boolean": False}.get(str(kind))


def success_body(operation_id: str) -> Any:
    """A spec-valid 200 body: the spec's example, else one built from the schema's property examples."""
    found = response_example(operation_id, 200)
    if found is not None:
        return found
    schema = operation(operation_id)[2]["responses"]["200"]["content"]["application/json"]["schema"]
    return example_for(schema)


# --- both sides of every request-body constraint ---------------------------------------------------


@dataclass(frozen=True)
class ConstraintCase:
    """A spec constraint on a request body: a body just inside it (None if the spec gives no edge) and one outside."""

    id: str
    field: str
    keyword: str
    inside: dict[str, Any] | None
    outside: dict[str, Any]


def _with(base: Mapping[str, Any], path: tuple[str, ...], value: Any, *, drop: bool = False) -> dict[str, Any]:
    body = copy.deepcopy(dict(base))
    node = body
    for part in path[:-1]:
        node = node.setdefault(part, {})
    if drop:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return body


_WRONG_TYPE = {"string": 1, "integer": "1", "number": "1", "boolean": "true", "array": "x", "object": "x"}


def _value_cases(schema: Mapping[str, Any], sample: Any) -> Iterator[tuple[str, Any | None, Any]]:
    """(keyword, value just inside, value just outside) for one schema."""
    kind = schema.get("type")
    if isinstance(kind, str) and kind in _WRONG_TYPE:
        yield "type", None, _WRONG_TYPE[kind]
    if "enum" in schema:
        for value in schema["enum"]:
            yield "enum", value, f"{value}-unlisted"
    if "minimum" in schema:
        yield "minimum", schema["minimum"], schema["minimum"] - 1
    if "maximum" in schema:
        yield "maximum", schema["maximum"], schema["maximum"] + 1
    if "maxLength" in schema:
        limit = schema["maxLength"]
        text = str(sample)
        yield "maxLength", text + "a" * (limit - len(text)), text + "a" * (limit + 1 - len(text))
    if "pattern" in schema:
        yield "pattern", sample, f"not-{sample}"
    if schema.get("format") == "uri":
        yield "format", sample, "not a uri"
    if "maxItems" in schema:
        item = sample[0] if isinstance(sample, list) and sample else example_for(schema.get("items", {}))
        yield "maxItems", [item] * schema["maxItems"], [item] * (schema["maxItems"] + 1)


def _walk(
    schema: Mapping[str, Any], base: Mapping[str, Any], path: tuple[str, ...], sample: Any
) -> Iterator[ConstraintCase]:
    schema = _resolve(schema)
    field = ".".join(path)
    if path:
        for keyword, inside, outside in _value_cases(schema, sample):
            suffix = f"={inside}" if keyword == "enum" else ""
            yield ConstraintCase(
                f"{field}:{keyword}{suffix}",
                field,
                keyword,
                None if inside is None else _with(base, path, inside),
                _with(base, path, outside),
            )
    if schema.get("type") == "array" and "items" in schema:
        # cases for one item, built on a wrapper and put back into the body as a one-item list
        item = sample[0] if isinstance(sample, list) and sample else example_for(schema["items"])
        for case in _walk(schema["items"], {"_": item}, ("_",), item):
            yield ConstraintCase(
                f"{field}[0]{case.id.removeprefix('_')}",
                f"{field}[0]{case.field.removeprefix('_')}",
                case.keyword,
                None if case.inside is None else _with(base, path, [case.inside["_"]]),
                _with(base, path, [case.outside["_"]]),
            )
    for name, sub in schema.get("properties", {}).items():
        sub_sample = sample.get(name) if isinstance(sample, Mapping) else None
        yield from _walk(sub, base, (*path, name), example_for(sub) if sub_sample is None else sub_sample)
    for name in schema.get("required", []):
        where = (*path, name)
        yield ConstraintCase(
            f"{'.'.join(where)}:required", ".".join(where), "required", None, _with(base, where, None, drop=True)
        )


def constraint_cases(schema_name: str = "ImageGenerationRequest") -> list[ConstraintCase]:
    """Every JSON Schema constraint of a request schema, each with a body on both sides.

    Bodies start from the operation's first request example; nested values
    start from the schema's own examples. ``inside`` is None where the
    constraint has no edge to stand on (``type``, ``required``).
    """
    base = request_example()
    return list(_walk(load_spec()["components"]["schemas"][schema_name], base, (), base))


# --- enums ------------------------------------------------------------------------------------------


def enum_sites(schema_name: str) -> Iterator[tuple[tuple[str, ...], list[Any]]]:
    """(path inside an instance of the component, enum values) for every enum it holds.

    A path is property names, with ``"[]"`` for an array item; ``$ref`` is followed.
    """

    def walk(schema: Mapping[str, Any], path: tuple[str, ...], seen: frozenset[str]) -> Iterator[Any]:
        ref = schema.get("$ref")
        if ref in seen:
            return
        resolved = _resolve(schema)
        seen = seen | {ref} if ref else seen
        if "enum" in resolved:
            yield path, list(resolved["enum"])
        if "items" in resolved:
            yield from walk(resolved["items"], (*path, "[]"), seen)
        for name, sub in resolved.get("properties", {}).items():
            yield from walk(sub, (*path, name), seen)

    yield from walk(load_spec()["components"]["schemas"][schema_name], (), frozenset())


# --- does an outgoing request match the spec? --------------------------------------------------------


def _path_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join(f"(?P<{p[1:-1]}>[^/?#]+)" if p.startswith("{") else re.escape(p) for p in parts))


def match_operation(method: str, raw_path: str) -> tuple[str, dict[str, str]] | None:
    """(operationId, decoded path parameters) of the spec operation a request is for, or None."""
    for path, item in load_spec()["paths"].items():
        op = item.get(method.lower())
        if not isinstance(op, Mapping):
            continue
        found = _path_regex(path).fullmatch(raw_path)  # not match + "$": "$" also matches before a final "\n"
        if found:
            return str(op["operationId"]), {k: unquote(v) for k, v in found.groupdict().items()}
    return None


def request_problems(request: Any, *, api_key: str | None = None) -> list[str]:
    """What in an ``httpx.Request`` breaks the spec (empty when it conforms).

    Checks the operation (method + path, one escaped segment per path
    parameter), Bearer authentication (the given key when one is given), the
    JSON content type and the body against the request schema (Draft 2020-12,
    formats checked). Prose rules are not checked here: see ``seedream._rules``.
    """
    from ._spec import validator_for

    raw_path = request.url.raw_path.decode("ascii").split("?", 1)[0]
    matched = match_operation(request.method, raw_path)
    if matched is None:
        return [f"{request.method} {raw_path} is no operation of the spec"]
    operation_id, _ = matched
    problems: list[str] = []
    if request.url.query:
        problems.append(f"unexpected query string {request.url.query!r}")
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme != "Bearer" or not token:
        problems.append("Authorization is not 'Bearer <key>'")
    elif api_key is not None and token != api_key:
        problems.append("Authorization carries another key than the client's")
    path, method, op = operation(operation_id)
    body_spec = op.get("requestBody")
    content = request.content
    if body_spec is None:
        if content:
            problems.append(f"{operation_id} takes no body, got {len(content)} bytes")
        return problems
    media_type = request.headers.get("content-type", "").split(";")[0].strip()
    if media_type not in body_spec["content"]:
        problems.append(f"Content-Type {media_type!r} is not one of {sorted(body_spec['content'])}")
        return problems
    try:
        body = json.loads(content)
    except ValueError:
        return [*problems, "body is not JSON"]
    escaped = path.replace("~", "~0").replace("/", "~1")
    validator = validator_for(f"/paths/{escaped}/{method}/requestBody/content/{media_type.replace('/', '~1')}/schema")
    problems.extend(
        f"body{'.' if e.path else ''}{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(body)
    )
    return problems


# Task ids that stress path escaping: each must travel as one escaped path segment. A whole
# segment of "." or ".." is a dot segment that httpx (like any RFC 3986 client) would remove.
AWKWARD_TASK_IDS: tuple[str, ...] = (
    "task-unified-a/b",
    "task-unified-../../v1/images/generations",
    "task-unified-a?b=c",
    "task-unified-a#frag",
    "task-unified- spaced out ",
    "task-unified-ünï©ødé-画像",
    "task-unified-100%",
    "task-unified-%2F",
    "task-unified-a;b=c",
    "..",
    ".",
)
