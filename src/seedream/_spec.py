"""The bundled spec, loaded once, and JSON Schema validators built from it.

The spec ships inside the generated package (``seedream_client/openapi.json``,
written by ``nox -s regenerate`` from ``openapi/``), so an installed wheel has
it too. OpenAPI 3.1 schemas are JSON Schema 2020-12; a ``referencing``
registry holding the whole document resolves ``#/components/...``. Formats
are checked (``format: uri`` needs ``rfc3986-validator``, a dependency).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from importlib.resources import files
from typing import Any

__all__ = ["component_schema", "load_spec", "operation_response_validator", "request_body_validator", "validator_for"]

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
def _validator_for(pointer: str) -> Any:
    from jsonschema import Draft202012Validator

    schema = {"$ref": f"{_SPEC_URI}#{pointer}"}
    return Draft202012Validator(schema, registry=_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER)


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
