"""The bundled spec, loaded once, and JSON Schema validators built from it.

The spec ships inside the generated package (``seedream_client/openapi.json``,
written by ``nox -s regenerate`` from ``openapi/``), so an installed wheel has
it too. OpenAPI 3.1 schemas are JSON Schema 2020-12; a ``referencing``
registry holding the whole document resolves ``#/components/...``. Formats
are checked, ``uri`` and ``pattern`` with the semantics of ``seedream_rules``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

__all__ = [
    "QueryParameter",
    "component_schema",
    "load_spec",
    "operation_response_validator",
    "query_parameters",
    "request_body_validator",
    "validator_for",
]

_SPEC_URI = "urn:seedream:bundled"


@cache
def load_spec() -> Mapping[str, Any]:
    """The bundled OpenAPI document (read-only; do not mutate)."""
    text = files("seedream_client").joinpath("openapi.json").read_text(encoding="utf-8")
    data: Mapping[str, Any] = json.loads(text)
    return data


def component_schema(name: str) -> Mapping[str, Any]:
    schema: Mapping[str, Any] = load_spec()["components"]["schemas"][name]
    return schema


@cache
def _registry() -> Any:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resource = Resource.from_contents(dict(load_spec()), default_specification=DRAFT202012)
    return Registry().with_resource(_SPEC_URI, resource)


def validator_for(pointer: str) -> Any:
    """A Draft 2020-12 validator (formats checked) for the schema at ``#<pointer>`` of the spec."""
    return _validator_for(pointer)


@cache
def _validator_class() -> Any:
    """Draft 2020-12 with the spec's meaning for ``pattern`` and ``format: uri``, from ``seedream_rules``.

    jsonschema searches patterns with Python's ``re``, where ``$`` also
    matches before a final newline (``"auto\n"`` would pass ``^(auto|...)$``),
    and its ``uri`` check has the same flaw and no port range: both are
    replaced by the functions the generated validators call, so the simulator
    judges a body exactly as the client does.
    """
    from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

    from seedream_rules import is_uri, pattern

    def ecma_pattern(validator: Any, source: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
        if validator.is_type(instance, "string") and not pattern(source).search(instance):
            yield ValidationError(f"{instance!r} does not match {source!r}")

    checker = FormatChecker(formats=())
    checker.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)
    checker.checks("uri")(lambda value: not isinstance(value, str) or is_uri(value))
    cls = validators.extend(Draft202012Validator, {"pattern": ecma_pattern})  # type: ignore[no-untyped-call]
    return cls, checker


@cache
def _validator_for(pointer: str) -> Any:
    cls, checker = _validator_class()
    schema = {"$ref": f"{_SPEC_URI}#{pointer}"}
    return cls(schema, registry=_registry(), format_checker=checker)


def request_body_validator() -> Any:
    """Validator for ``POST /v1/images/generations`` request bodies."""
    return validator_for("/components/schemas/ImageGenerationRequest")


def _operations() -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for path, item in load_spec()["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, Mapping) and "operationId" in operation:
                yield path, method, operation


def operation_response_validator(operation_id: str, status: int) -> Any | None:
    """Validator for the JSON body of ``operation_id``'s response ``status``; None if undocumented."""
    for path, method, operation in _operations():
        if operation["operationId"] != operation_id:
            continue
        if str(status) not in operation.get("responses", {}):
            return None
        escaped = path.replace("~", "~0").replace("/", "~1")
        return validator_for(f"/paths/{escaped}/{method}/responses/{status}/content/application~1json/schema")
    raise KeyError(operation_id)


@dataclass(frozen=True)
class QueryParameter:
    """One query parameter of an operation and the rule its schema states; the client and the simulator both ask.

    Integers: ``type``, ``minimum``, ``maximum``; strings: ``enum`` or ``type`` (what a spec of this size uses).
    """

    name: str
    schema: Mapping[str, Any]  # a component ``$ref`` resolved

    @property
    def default(self) -> Any:
        return self.schema.get("default")

    @property
    def is_integer(self) -> bool:
        return self.schema.get("type") == "integer"

    @property
    def rule(self) -> str:
        """The rule as text: ``an integer in [1, 100]``, ``one of a, b``, ``a string``."""
        if self.is_integer:
            low, high = self.schema.get("minimum"), self.schema.get("maximum")
            if low is not None and high is not None:
                return f"an integer in [{low}, {high}]"
            if high is not None:
                return f"an integer <= {high}"
            return f"an integer >= {low}" if low is not None else "an integer"
        allowed = self.schema.get("enum")
        return f"one of {', '.join(map(str, allowed))}" if allowed is not None else "a string"

    def violation(self, value: object) -> str | None:
        """:attr:`rule` if ``value`` (a Python value: an int, a str) breaks it, else None."""
        if self.is_integer:
            low, high = self.schema.get("minimum"), self.schema.get("maximum")
            ok = isinstance(value, int) and not isinstance(value, bool)
            ok = ok and (low is None or value >= low) and (high is None or value <= high)
        elif (allowed := self.schema.get("enum")) is not None:
            ok = isinstance(value, str) and value in allowed
        else:
            ok = isinstance(value, str)
        return None if ok else self.rule


@cache
def query_parameters(path: str, method: str = "get") -> Mapping[str, QueryParameter]:
    """The query parameters of ``method path`` in the bundled spec, by name."""
    operation = load_spec()["paths"][path][method]
    found: dict[str, QueryParameter] = {}
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "query":
            continue
        schema = parameter.get("schema") or {}
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            schema = component_schema(ref.rsplit("/", 1)[1])
        found[parameter["name"]] = QueryParameter(parameter["name"], schema)
    return found
