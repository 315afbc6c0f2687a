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

from .._spec import load_spec

__all__ = [
    "AWKWARD_TASK_IDS",
    "ConstraintCase",
    "HostileCase",
    "constraint_cases",
    "documented_statuses",
    "enum_sites",
    "example_for",
    "hostile_request_cases",
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


# --- hostile values: each must be refused whole, whatever a regular expression engine's "$" does ---------


@dataclass(frozen=True)
class HostileCase:
    """A body that is invalid by construction, and the field a refusal must name."""

    id: str
    body: Any
    field: str


# Appended to (or put in front of) a value a constraint fixes: Python's "$" matches before a final "\n".
_AFFIXES = {
    "LF": "\n", "CRLF": "\r\n", "CR": "\r", "NUL": "\x00", "TAB": "\t", "SP": " ", "VT": "\x0b",
    "NEL": "\x85", "LS": "\u2028", "BOM": "\ufeff",
}  # fmt: skip
# No UTF-8 text can hold these: refused in every string, constrained or free.
_SURROGATES = {"lone-high": "\ud800", "lone-low": "\udfff", "reversed-pair": "\udc00\ud83c"}
_BAD_PORTS = ("65536", "99999", "100000", "4294967739", "0000065536")
# Hosts that reach an internal address (IPv6 forms that embed one included); none is resolved.
_INTERNAL_LITERALS = (
    "[::127.0.0.1]", "[::7f00:1]", "[::ffff:0:7f00:1]", "[::ffff:0:127.0.0.1]", "[0:0:0:0:0:ffff:127.0.0.1]",
    "[::ffff:7f00:1]", "[::ffff:10.0.0.1]", "[::ffff:a9fe:a9fe]", "[64:ff9b::127.0.0.1]", "[64:ff9b::c0a8:1]",
    "[64:ff9b:1::1]", "[64:ff9b:1:ffff::8.8.8.8]", "[2002:7f00:1::]", "[2002:a00:1::1]", "[2002:a9fe:a9fe::1]",
    "[2001:0:4136:e378:8000:63bf:3fff:fdd2]", "[2001::1]", "[fec0::1]", "[FEC0:0:0:1::1]", "[fc00::1]",
    "[fd12:3456::1]", "[fe80::1]", "[ff02::1]", "[ff05::2]", "[::]", "[::0.0.0.0]", "[100::1]", "[2001:db8::1]",
    "[3fff::1]", "[5f00::1]", "0.0.0.0", "100.64.0.1", "192.0.0.1", "198.18.0.1", "224.0.0.1", "240.0.0.1",
    "255.255.255.255", "127.0.0.1", "0x7f.1", "017700000001", "%5B::1%5D",
)  # fmt: skip


def _string_sites(
    schema: Mapping[str, Any], path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any]]]:
    schema = _resolve(schema)
    if schema.get("type") == "string":
        yield path, schema
    if "items" in schema:
        yield from _string_sites(schema["items"], (*path, "[]"))
    for name, sub in schema.get("properties", {}).items():
        yield from _string_sites(sub, (*path, name))


def _put(base: Mapping[str, Any], schema: Mapping[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """``base`` with the value at ``path`` (``"[]"``: a one-item array built from the spec's example) replaced."""
    body = copy.deepcopy(dict(base))
    node: Any = body
    schema = _resolve(schema)
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if part == "[]":
            continue
        sub = _resolve(schema["properties"][part])
        if last:
            node[part] = value
        elif path[i + 1] == "[]":
            item_schema = _resolve(sub["items"])
            if i + 2 == len(path):
                node[part] = [value]
                break
            item = example_for(item_schema)
            node[part] = [item]
            node, schema = item, item_schema
        else:
            node = node.setdefault(part, example_for(sub))
            schema = sub
    return body


def _field(path: tuple[str, ...]) -> str:
    return ".".join(path).replace(".[]", "[0]")


def hostile_request_cases(schema_name: str = "ImageGenerationRequest") -> list[HostileCase]:
    """Values invalid by construction for every string field of the request schema, and more.

    Every constrained string field (enum, pattern or format, read from the
    spec) with each of :data:`_AFFIXES` appended and prepended; every string
    field, free text included, with a surrogate; URLs with ports beyond
    65535; callback hosts that reach internal addresses; surrogates and
    non-finite numbers in extra fields and keys. The unbroken body is the
    spec's request example with a sample for the field (itself valid).
    """
    schema = load_spec()["components"]["schemas"][schema_name]
    base = request_example()
    out: list[HostileCase] = []
    for path, site in _string_sites(schema):
        sample = example_for(site)
        if site.get("format") == "uri" or "callback" in path[-1]:
            sample = "https://cdn.example.com/a.png"
        field = _field(path)
        if not isinstance(sample, str):
            continue
        if "enum" in site or "pattern" in site or "format" in site:
            for name, affix in _AFFIXES.items():
                out.append(HostileCase(f"{field}+{name}", _put(base, schema, path, sample + affix), field))
                out.append(HostileCase(f"{name}+{field}", _put(base, schema, path, affix + sample), field))
        for name, surrogate in _SURROGATES.items():
            out.append(HostileCase(f"{field}:{name}", _put(base, schema, path, sample + surrogate), field))
            out.append(HostileCase(f"{field}:{name}-inside", _put(base, schema, path, surrogate + sample), field))
        if site.get("format") == "uri" or path[-1] == "callback_url":
            for port in _BAD_PORTS:
                url = f"https://cdn.example.com:{port}/a.png"
                out.append(HostileCase(f"{field}:port-{port}", _put(base, schema, path, url), field))
    for host in _INTERNAL_LITERALS:
        out.append(
            HostileCase(f"callback_url:host-{host}", {**base, "callback_url": f"https://{host}/cb"}, "callback_url")
        )
    for name, surrogate in _SURROGATES.items():
        out.append(HostileCase(f"extra:{name}", {**base, "metadata": {"note": surrogate}}, "metadata.note"))
        escaped = ("x" + surrogate).encode("utf-8", "backslashreplace").decode()  # as a refusal names it
        out.append(HostileCase(f"extra-key:{name}", {**base, "x" + surrogate: 1}, escaped))
    for name, number in (("nan", float("nan")), ("inf", float("inf")), ("-inf", float("-inf"))):
        out.append(HostileCase(f"extra:{name}", {**base, "seed": number}, "seed"))
        out.append(HostileCase(f"extra-nested:{name}", {**base, "metadata": {"w": [1, number]}}, "metadata.w[1]"))
    return out


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
    from .._spec import validator_for

    raw_path = request.url.raw_path.decode("ascii").split("?", 1)[0]
    matched = match_operation(request.method, raw_path)
    if matched is None:
        return [f"{request.method} {raw_path} is no operation of the spec"]
    operation_id, _ = matched
    problems: list[str] = []
    path, method, op = operation(operation_id)
    problems.extend(_query_problems(request.url.query.decode("ascii"), path, method, op))
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme != "Bearer" or not token:
        problems.append("Authorization is not 'Bearer <key>'")
    elif api_key is not None and token != api_key:
        problems.append("Authorization carries another key than the client's")
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


def _query_problems(query: str, path: str, method: str, op: Mapping[str, Any]) -> list[str]:
    """Each query parameter must be one the operation declares, once, with a value its schema accepts."""
    from urllib.parse import parse_qsl

    from .._spec import validator_for

    if not query:
        return []
    declared = {p["name"]: i for i, p in enumerate(op.get("parameters", [])) if p.get("in") == "query"}
    if not declared:
        return [f"unexpected query string {query!r}"]
    escaped = path.replace("~", "~0").replace("/", "~1")
    problems: list[str] = []
    pairs = parse_qsl(query, keep_blank_values=True)
    for name in {n for n, _ in pairs if [k for k, _ in pairs].count(n) > 1}:
        problems.append(f"query parameter {name!r} sent more than once")
    for name, text in pairs:
        if name not in declared:
            problems.append(f"query parameter {name!r} is not one the operation declares")
            continue
        pointer = f"/paths/{escaped}/{method}/parameters/{declared[name]}/schema"
        value: Any = int(text) if text.isascii() and text.lstrip("-").isdigit() else text
        validator = validator_for(pointer)
        if not validator.is_valid(value) and not validator.is_valid(text):
            problems.append(f"query parameter {name}={text!r} breaks its schema")
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
