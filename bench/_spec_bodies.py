"""Wire bodies taken from the vendor YAML, so every implementation sees the spec's own data."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ROOT", "VENDOR_YAML", "create_200_body", "create_request", "vendor_spec"]

ROOT = Path(__file__).resolve().parent.parent
VENDOR_YAML = ROOT / "openapi" / "vendor" / "seedream-5.0-lite-image-generate.yaml"


@cache
def vendor_spec() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(VENDOR_YAML.read_text(encoding="utf-8"))
    return data


def _example(schema: dict[str, Any], spec: dict[str, Any]) -> Any:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _example(spec["components"]["schemas"][name], spec)
    if "example" in schema:
        return schema["example"]
    if "enum" in schema:
        return schema["enum"][0]
    if schema.get("type") == "object":
        return {k: _example(v, spec) for k, v in schema.get("properties", {}).items()}
    raise ValueError(f"no example for {schema}")


def create_200_body() -> bytes:
    """The 200 body of ``createImageGeneration``, from the schema's property examples (the spec has no whole one)."""
    spec = vendor_spec()
    schema = spec["paths"]["/v1/images/generations"]["post"]["responses"]["200"]["content"]["application/json"]
    return json.dumps(_example(schema["schema"], spec), separators=(",", ":")).encode()


def create_request() -> dict[str, Any]:
    """The spec's ``text_to_image`` request example (model, prompt, size 16:9, quality 2K)."""
    spec = vendor_spec()
    examples = spec["paths"]["/v1/images/generations"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    body: dict[str, Any] = dict(examples["text_to_image"]["value"])
    return body
